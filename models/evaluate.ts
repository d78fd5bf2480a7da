// Evaluation of models on held-out days: every candidate scored on the same examples, overall
// and split into normal and earnings days. No training happens here.
import { type Dataset, type Example, featuresOf } from './dataset.js';
import { type Metrics, type Scored, score } from './metrics.js';
import type { Model } from './model.js';

export interface Evaluation {
  model: string;
  version: string;
  horizon: number;
  all: Metrics;
  normal: Metrics;
  earnings: Metrics;
}

export interface EvaluateOptions {
  horizon: number;
  /** Inclusive first and exclusive last input day (epoch ms). */
  from: number;
  to: number;
  /** Called after each batch with examples done and total. */
  onProgress?: (done: number, total: number) => void;
}

const BATCH = 5000;

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
  return {
    model: model.name,
    version: model.version,
    horizon: opts.horizon,
    all: score(scored),
    normal: score(scored.filter((s) => !s.earnings)),
    earnings: score(scored.filter((s) => s.earnings)),
  };
}
