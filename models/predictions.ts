// From model outputs (log returns) to Prediction records (prices, interval, target date on the
// NYSE calendar, model version, rank score): one mapping for the predict operator, offline
// evaluation and benchmarks.
import type { Features, Prediction } from '../schemas/index.js';
import type { Model, ModelOutput } from './model.js';
import { addTradingDays } from './trading-calendar.js';

/**
 * The Prediction records for a model's outputs on `inputs` (each output must match an input).
 * `rankScore` is each output's `rankReturn`: the shipped net's own median (the cross-section the
 * net ranks, also where the point is a constant), null for a model without a net (a baseline) or
 * where the net gave no finite median.
 */
export function predictionsFrom(
  model: Model,
  inputs: readonly Features[],
  outputs: readonly ModelOutput[],
  regime: 'normal' | 'earnings',
  createdAt: number,
): Prediction[] {
  const byInput = new Map(inputs.map((f) => [`${f.symbol}:${f.ts}`, f]));
  return outputs.map((o) => {
    const f = byInput.get(`${o.symbol}:${o.ts}`);
    if (!f) throw new Error(`model ${model.name} returned a forecast for ${o.symbol} at ${o.ts} it was not asked for`);
    const id = `${o.symbol}:${o.ts}:${o.horizon}`;
    return {
      id,
      symbol: o.symbol,
      ts: o.ts,
      horizon: o.horizon,
      targetTs: addTradingDays(o.ts, o.horizon),
      lastClose: f.close,
      predictedClose: f.close * Math.exp(o.predictedReturn),
      predictedReturn: o.predictedReturn,
      lower: f.close * Math.exp(o.lowerReturn),
      upper: f.close * Math.exp(o.upperReturn),
      model: model.name,
      modelVersion: model.version,
      regime,
      createdAt,
      rankScore: o.rankReturn !== undefined && Number.isFinite(o.rankReturn) ? o.rankReturn : null,
    };
  });
}
