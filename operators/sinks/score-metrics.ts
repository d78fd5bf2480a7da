// score-metrics: live skill of the models from the `scores` topic, as Prometheus series per model
// version, horizon and regime, over the last `window` scored forecasts of each series:
//   tickcast_score_mae_percent             MAE in % of the last close (as `tickcast evaluate`)
//   tickcast_score_mae_ratio{baseline}     ÷ the MAE of persistence, and of a constant drift
//   tickcast_score_coverage                share inside the 80% interval
//   tickcast_scores_total{status}          scored, and missing (the target session had no bar)
// (Predictions that arrived late are counted where that is known, by the score operator:
// tickcast_score_late_total{horizon, status}.)
// The constant drift is causal: the median realised h-session return of every score seen before
// the batch (all symbols), so it never uses the outcome it is scored on. Declared `everyProcess`:
// each process that serves /metrics sees every score.
import { Counter, Gauge, type Registry } from 'prom-client';
import { defineOperator } from '../../engine/index.js';
import { type Score, schemas } from '../../schemas/index.js';

export interface ScoreMetricsOptions {
  registry: Registry;
  /** Scored forecasts per series the rolling figures cover; default 5,000. */
  window?: number;
  /** Realised returns per horizon kept for the constant drift's median; default 20,000. */
  driftSample?: number;
}

/** One series' last `window` absolute errors (model, persistence, drift) and hits, with running sums. */
class Rolling {
  private readonly rows: Float64Array;
  private next = 0;
  count = 0;
  readonly sums = [0, 0, 0, 0];
  constructor(private readonly window: number) {
    this.rows = new Float64Array(window * 4);
  }
  push(values: readonly [number, number, number, number]): void {
    const at = this.next * 4;
    for (let k = 0; k < 4; k++) {
      if (this.count === this.window) this.sums[k]! -= this.rows[at + k]!;
      this.rows[at + k] = values[k]!;
      this.sums[k]! += values[k]!;
    }
    this.next = (this.next + 1) % this.window;
    this.count = Math.min(this.window, this.count + 1);
  }
}

export function scoreMetrics(opts: ScoreMetricsOptions) {
  const window = opts.window ?? 5_000;
  const driftSample = opts.driftSample ?? 20_000;
  const labels = ['model', 'version', 'horizon', 'regime'] as const;
  const registers = [opts.registry];
  const mae = new Gauge({
    name: 'tickcast_score_mae_percent',
    help: 'Rolling MAE of scored forecasts, % of the last close',
    labelNames: labels,
    registers,
  });
  const ratio = new Gauge({
    name: 'tickcast_score_mae_ratio',
    help: "Rolling MAE ÷ a baseline's MAE on the same forecasts (persistence, constantDrift)",
    labelNames: [...labels, 'baseline'],
    registers,
  });
  const coverage = new Gauge({
    name: 'tickcast_score_coverage',
    help: 'Rolling share of realised closes inside the 80% interval',
    labelNames: labels,
    registers,
  });
  const scored = new Gauge({
    name: 'tickcast_score_window',
    help: 'Scored forecasts the rolling figures cover',
    labelNames: labels,
    registers,
  });
  const total = new Counter({
    name: 'tickcast_scores_total',
    help: 'Scores by status: scored, or missing (no bar at the target session)',
    labelNames: ['horizon', 'status'],
    registers,
  });
  const series = new Map<string, { labels: Record<(typeof labels)[number], string>; rolling: Rolling }>();
  // Per horizon, the last `driftSample` realised returns (a ring).
  const realised = new Map<number, { xs: Float64Array; next: number; count: number }>();
  const medianOf = (h: number) => {
    const r = realised.get(h);
    if (!r || r.count === 0) return 0;
    const sorted = r.xs.slice(0, r.count).sort();
    const m = r.count >> 1;
    return r.count % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
  };

  return defineOperator<Score>({
    kind: 'sink',
    name: 'score-metrics',
    input: schemas.Score,
    // The series read every score: run in each worker too, they were repeated (and every alert
    // fired) once per worker, and each worker read every score.
    feedsApi: true,
    async write(records) {
      const drift = new Map<number, number>();
      const touched = new Set<string>();
      for (const { value: s } of records) {
        total.inc({ horizon: String(s.horizon), status: s.status });
        if (s.status !== 'scored' || s.realisedClose === null || s.realisedReturn === null) continue;
        const mu = drift.get(s.horizon) ?? medianOf(s.horizon);
        drift.set(s.horizon, mu);
        const pct = (close: number) => (Math.abs(s.realisedClose! - close) / s.lastClose) * 100;
        const key = `${s.model}|${s.modelVersion}|${s.horizon}|${s.regime}`;
        let entry = series.get(key);
        if (!entry) {
          entry = {
            labels: { model: s.model, version: s.modelVersion, horizon: String(s.horizon), regime: s.regime },
            rolling: new Rolling(window),
          };
          series.set(key, entry);
        }
        entry.rolling.push([
          pct(s.predictedClose),
          pct(s.lastClose),
          pct(s.lastClose * Math.exp(mu)),
          s.inside ? 1 : 0,
        ]);
        touched.add(key);
        const r = realised.get(s.horizon) ?? { xs: new Float64Array(driftSample), next: 0, count: 0 };
        realised.set(s.horizon, r);
        r.xs[r.next] = s.realisedReturn;
        r.next = (r.next + 1) % driftSample;
        r.count = Math.min(driftSample, r.count + 1);
      }
      for (const key of touched) {
        const { labels: l, rolling: r } = series.get(key)!;
        const [model, persistence, constantDrift, hits] = r.sums as [number, number, number, number];
        mae.set(l, model / r.count);
        ratio.set({ ...l, baseline: 'persistence' }, persistence > 0 ? model / persistence : Number.NaN);
        ratio.set({ ...l, baseline: 'constantDrift' }, constantDrift > 0 ? model / constantDrift : Number.NaN);
        coverage.set(l, hits / r.count);
        scored.set(l, r.count);
      }
    },
  });
}
