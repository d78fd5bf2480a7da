// Evaluation of models on held-out days: every candidate scored on the same examples, overall
// and split into normal and earnings days, then set against the best of the baselines scored on
// those examples. No training happens here.
import { type Dataset, type Example, featuresOf } from './dataset.js';
import { dailyRankIcs, type IcStats, icByYear, icStats, type Metrics, type Scored, score } from './metrics.js';
import type { Model } from './model.js';
import { lowerBound } from './walk-forward.js';

export const SEGMENTS = ['all', 'normal', 'earnings'] as const;
export type Segment = (typeof SEGMENTS)[number];

export interface Evaluation {
  model: string;
  version: string;
  horizon: number;
  all: Metrics;
  normal: Metrics;
  earnings: Metrics;
  /** Rank IC beyond the mean: over non-overlapping dates and per year, per segment. */
  ic: Record<Segment, IcDetail>;
  /** The model against the baselines on the same rows, per segment (`versusBaselines`). */
  versus?: Record<Segment, Versus>;
}

export interface IcDetail {
  /** Every h-th date only (h = the horizon): h-day targets that do not overlap. */
  nonOverlapping: IcStats & { every: number };
  /** Per calendar year, over every date. */
  byYear: Array<{ year: number } & IcStats>;
}

export interface Versus {
  /** Each baseline's MAE (% of price), MAE ÷ persistence's, and hit rate on the same rows. */
  baselines: Record<string, { mae: number; maeRatio: number; hitRate: number }>;
  /** The hit rate of always forecasting "up" on these rows. */
  alwaysUpHitRate: number;
  /** The baseline with the lowest MAE. */
  best: string;
  /** The model's MAE ÷ the best baseline's: below 1 beats every baseline. */
  skillVsBest: number;
}

/** The names of the baselines `versusBaselines` compares against, as their models are named. */
export const BASELINES = ['persistence', 'drift', 'constantDrift'] as const;

export interface EvaluateOptions {
  horizon: number;
  /** Inclusive first and exclusive last input day (epoch ms). */
  from: number;
  to: number;
  /** Called after each batch with examples done and total. */
  onProgress?: (done: number, total: number) => void;
}

// Inputs per predictBatch call: small enough that a batch's intermediates die young. At 5,000 they
// outlived scavenges and piled up in the old generation (peak RSS 1.08 GB against 0.79 GB on 404
// symbols, at the same speed).
const BATCH = 1000;

/** Examples in [from, to) whose target at `horizon` is known. */
export function testExamples(data: Dataset, opts: Pick<EvaluateOptions, 'horizon' | 'from' | 'to'>): Example[] {
  const hi = data.horizons.indexOf(opts.horizon);
  if (hi < 0) throw new Error(`horizon ${opts.horizon} is not in the dataset (${data.horizons.join(', ')})`);
  return data.examples.filter((e) => e.ts >= opts.from && e.ts < opts.to && Number.isFinite(e.targets[hi]!));
}

export type ScoredExample = Scored & { earnings: boolean };

/** The model's forecasts at `opts.horizon` beside what happened, for every test example. */
export async function scoreModel(model: Model, data: Dataset, opts: EvaluateOptions): Promise<ScoredExample[]> {
  if (!model.horizons.includes(opts.horizon)) {
    throw new Error(
      `model ${model.name} does not forecast horizon ${opts.horizon} (it has ${model.horizons.join(', ')})`,
    );
  }
  const hi = data.horizons.indexOf(opts.horizon);
  const examples = testExamples(data, opts);
  const scored: ScoredExample[] = [];
  for (let start = 0; start < examples.length; start += BATCH) {
    const batch = examples.slice(start, start + BATCH);
    const inputs = batch.map(featuresOf);
    const byKey = new Map(batch.map((e) => [`${e.symbol}:${e.ts}`, e]));
    for (const o of await model.predictBatch(inputs)) {
      if (o.horizon !== opts.horizon) continue;
      const e = byKey.get(`${o.symbol}:${o.ts}`)!;
      scored.push({
        ts: e.ts,
        actual: e.targets[hi]!,
        predicted: o.predictedReturn,
        lower: o.lowerReturn,
        upper: o.upperReturn,
        earnings: e.earnings,
      });
    }
    opts.onProgress?.(Math.min(examples.length, start + BATCH), examples.length);
  }
  return scored;
}

export async function evaluateModel(model: Model, data: Dataset, opts: EvaluateOptions): Promise<Evaluation> {
  const scored = await scoreModel(model, data, opts);
  const rows: Record<Segment, ScoredExample[]> = {
    all: scored,
    normal: scored.filter((s) => !s.earnings),
    earnings: scored.filter((s) => s.earnings),
  };
  const ic = (segment: Segment): IcDetail => {
    const daily = dailyRankIcs(rows[segment]);
    return { nonOverlapping: { ...icStats(daily, opts.horizon), every: opts.horizon }, byYear: icByYear(daily) };
  };
  return {
    model: model.name,
    version: model.version,
    horizon: opts.horizon,
    all: score(rows.all),
    normal: score(rows.normal),
    earnings: score(rows.earnings),
    ic: { all: ic('all'), normal: ic('normal'), earnings: ic('earnings') },
  };
}

/**
 * `evaluation` with `versus` set: against each of `baselines` (evaluations of the baseline models
 * on the same examples; any of BASELINES that is there), per segment.
 */
export function versusBaselines(evaluation: Evaluation, baselines: readonly Evaluation[]): Evaluation {
  const present = baselines.filter((b) => (BASELINES as readonly string[]).includes(b.model));
  if (present.length === 0) throw new Error(`versusBaselines: none of ${BASELINES.join(', ')} among the evaluations`);
  const versus = (segment: Segment): Versus => {
    const m = evaluation[segment];
    const scores = present.map((b) => [b.model, b[segment]] as const);
    const best = scores.reduce((a, b) => (b[1].mae < a[1].mae ? b : a));
    return {
      baselines: Object.fromEntries(
        scores.map(([name, s]) => [name, { mae: s.mae, maeRatio: s.maeRatio, hitRate: s.hitRate }]),
      ),
      alwaysUpHitRate: m.hitRateAlwaysUp,
      best: best[0],
      skillVsBest: m.mae / best[1].mae,
    };
  };
  return { ...evaluation, versus: { all: versus('all'), normal: versus('normal'), earnings: versus('earnings') } };
}

/**
 * constantDrift's training window for a test window starting at `from`: per horizon h, the
 * examples before `from` whose h-day target is realised before it (a day index at least h
 * before `from`'s), so no return of the scored period shapes the forecast.
 */
export function beforeTestWindow(data: Dataset, from: number): (example: { ts: number }, horizon: number) => boolean {
  const first = lowerBound(data.days, from);
  return (e, h) => first - h >= 0 && e.ts < data.days[first - h]!;
}

/**
 * Share of the symbols scored in [from, to) that have an announcement in that period in the
 * earnings calendar (NaN with none scored): below 1, some earnings days are scored as normal ones.
 */
export function earningsCoverage(
  data: Dataset,
  calendar: { nextEarnings(symbol: string, ts: number): { date: number } | null },
  opts: Pick<EvaluateOptions, 'horizon' | 'from' | 'to'>,
): number {
  const examples = testExamples(data, opts);
  if (examples.length === 0) return Number.NaN;
  const first = examples[0]!.ts;
  const last = examples.at(-1)!.ts;
  const symbols = new Set(examples.map((e) => e.symbol));
  let covered = 0;
  for (const symbol of symbols) {
    const next = calendar.nextEarnings(symbol, first);
    if (next && next.date <= last) covered++;
  }
  return covered / symbols.size;
}
