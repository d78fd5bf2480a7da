// calibrate: scores → calibration. Adaptive conformal calibration of the 80% interval, one state
// per group (horizon:regime, over every symbol: `stateKey`), stepped once per target session on
// the share of that session's forecasts that missed (models/conformal.ts). A session is stepped
// when the watermark of every scores partition has passed its end (an event-time timer), so the
// steps are the same whatever order the scores arrive in. Each step is published on the
// `calibration` topic (one partition, compacted: the newest per group), which the
// calibration-table sink applies to the table every predict node reads. That topic is also what a
// restarted calibrate resumes from (`resume`): state keyed across partitions has no changelog.
// Missing scores (no bar) carry no outcome and are skipped.
import { defineOperator } from '../../engine/index.js';
import { etaFor, groupKey, step } from '../../models/conformal.js';
import { type Calibration, type Score, schemas } from '../../schemas/index.js';

/** Weight of the newest session in `recentCoverage`: about the last 20 sessions. */
const RECENT_WEIGHT = 0.05;

export interface CalibrateState {
  horizon: number;
  regime: string;
  logScale: number;
  steps: number;
  /** Mean realised forecasts per session (models/conformal.ts step). */
  meanN: number;
  recentCoverage: number | null;
  /** Sessions being counted: [target session, forecasts, misses], oldest first. */
  open: Array<[number, number, number]>;
}

export interface CalibrateOptions {
  /** Step size at horizon 1 (models/conformal.ts DEFAULT_ETA). */
  eta?: number;
  /** Length of the bars (default a day): a session's scores are all in once the watermark passes its end. */
  intervalMs?: number;
  /** A group's last published step (e.g. from the calibration table), to resume from after a restart. */
  resume?: (group: string) => Calibration | undefined;
}

export function calibrate(opts: CalibrateOptions = {}) {
  const intervalMs = opts.intervalMs ?? 86_400_000;
  return defineOperator<Score, { calibration: typeof schemas.Calibration }, CalibrateState>({
    kind: 'transform',
    name: 'calibrate',
    input: schemas.Score,
    outputs: { calibration: schemas.Calibration },
    state: { description: 'per calibration group: its log-scale and the sessions being counted' },
    stateKey: (s) => groupKey(s.horizon, s.regime),
    process({ value: s }, ctx) {
      if (s.status !== 'scored' || s.inside === null) return;
      const state = ctx.state.get() ?? resumed(s, opts.resume?.(groupKey(s.horizon, s.regime)));
      // A score later than its session's step (after the watermark) counts in the oldest open one.
      let entry = state.open.find(([day]) => day === s.targetTs);
      if (!entry && s.targetTs + intervalMs <= ctx.watermark && state.open.length > 0) entry = state.open[0];
      if (!entry) {
        entry = [s.targetTs, 0, 0];
        state.open.push(entry);
        state.open.sort((a, b) => a[0] - b[0]);
        ctx.setTimer(s.targetTs + intervalMs);
      }
      entry[1]++;
      if (!s.inside) entry[2]++;
      ctx.state.set(state);
    },
    onTimer(timer, ctx) {
      const state = ctx.state.get();
      if (!state) return;
      const eta = etaFor(state.horizon, opts.eta);
      while (state.open.length > 0 && state.open[0]![0] + intervalMs <= timer.time) {
        const [day, n, misses] = state.open.shift()!;
        step(state, n, misses, eta);
        const coverage = 1 - misses / n;
        state.recentCoverage =
          state.recentCoverage === null
            ? coverage
            : state.recentCoverage + RECENT_WEIGHT * (coverage - state.recentCoverage);
        const record: Calibration = {
          group: groupKey(state.horizon, state.regime),
          horizon: state.horizon,
          regime: state.regime,
          ts: day,
          logScale: state.logScale,
          steps: state.steps,
          n,
          coverage,
          recentCoverage: state.recentCoverage,
        };
        ctx.emit('calibration', record, { key: record.group, timestamp: day });
      }
      ctx.state.set(state);
    },
  });
}

function resumed(s: Score, last: Calibration | undefined): CalibrateState {
  return {
    horizon: s.horizon,
    regime: s.regime,
    logScale: last?.logScale ?? 0,
    steps: last ? Number(last.steps) : 0,
    meanN: last?.n ?? 0,
    recentCoverage: last?.recentCoverage ?? null,
    open: [],
  };
}
