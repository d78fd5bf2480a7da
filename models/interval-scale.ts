// A calibrated interval adjustment: earnings days move several times more than normal days,
// so the earnings branch widens a model's interval around its median by a factor fitted on
// training earnings days to cover 80% of them.
import type { Features } from '../schemas/index.js';
import type { Model, ModelOutput } from './model.js';

export interface IntervalSample {
  actual: number;
  predicted: number;
  lower: number;
  upper: number;
}

/**
 * The scale k that makes [m − k(m − l), m + k(u − m)] hold `coverage` of the samples:
 * the `coverage` quantile of each sample's deviation in units of its own half-interval.
 */
export function fitIntervalScale(samples: readonly IntervalSample[], coverage = 0.8): number {
  const r = samples
    .map((s) => {
      const half = s.actual >= s.predicted ? s.upper - s.predicted : s.predicted - s.lower;
      return half > 0 ? Math.abs(s.actual - s.predicted) / half : Number.NaN;
    })
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (r.length === 0) return 1;
  return r[Math.min(r.length - 1, Math.floor(coverage * r.length))]!;
}

/** `model` with its interval scaled by `k` around the median; name and version say so. */
export function withIntervalScale(model: Model, k: number): Model {
  const scale = (o: ModelOutput): ModelOutput => ({
    ...o,
    lowerReturn: o.predictedReturn - k * (o.predictedReturn - o.lowerReturn),
    upperReturn: o.predictedReturn + k * (o.upperReturn - o.predictedReturn),
  });
  return {
    name: `${model.name}+earnings`,
    version: `${model.version}-x${k.toFixed(3)}`,
    spec: model.spec,
    horizons: model.horizons,
    async predictBatch(inputs: readonly Features[]) {
      return (await model.predictBatch(inputs)).map(scale);
    },
  };
}
