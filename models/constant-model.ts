// A model that forecasts the same quantiles for every input and horizon. It is a test double for
// a trained net: with known outputs, the arithmetic around a model (prices, ensembles, earnings
// adjustments) can be checked exactly.
import type { Model } from './model.js';

export interface ConstantModelOptions {
  name: string;
  /** Default '1'. */
  version?: string;
  /** Feature spec id; default 'basic@test'. */
  spec?: string;
  /** Default [1, 5]. */
  horizons?: number[];
  /** The 0.1 quantile, median and 0.9 quantile log returns every output carries. */
  lower: number;
  median: number;
  upper: number;
  /** The rank signal every output carries as `rankReturn`, as a net's own median (default: none, as a baseline). */
  rank?: number;
}

export function constantModel(opts: ConstantModelOptions): Model {
  const horizons = opts.horizons ?? [1, 5];
  return {
    name: opts.name,
    version: opts.version ?? '1',
    spec: opts.spec ?? 'basic@test',
    horizons,
    predictBatch: (inputs) =>
      inputs.flatMap((f) =>
        horizons.map((horizon) => ({
          symbol: f.symbol,
          ts: f.ts,
          horizon,
          lowerReturn: opts.lower,
          predictedReturn: opts.median,
          upperReturn: opts.upper,
          ...(opts.rank !== undefined && { rankReturn: opts.rank }),
        })),
      ),
  };
}
