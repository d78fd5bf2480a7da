// From model outputs (log returns) to Prediction records (prices, interval, target date on the
// NYSE calendar, model version, rank score): one mapping for the predict operator, offline
// evaluation and benchmarks.
import type { Features, Prediction } from '../schemas/index.js';
import { type Model, type ModelOutput, QUANTILE_STRIDE } from './model.js';
import { addTradingDays } from './trading-calendar.js';

/**
 * The Prediction records of one pass of `model` over `inputs`, as the predict operator issues them. From the
 * model's typed quantiles when it has them (`predictQuantiles`): the records are then the only objects the batch
 * builds (through `predictBatch`, 15,000 ModelOutput objects and a map to match them back to their inputs came
 * first, ~2–3 ms for 5,000 inputs: issue 13 §6). The same records either way, to the bit.
 */
export async function predictRecords(
  model: Model,
  inputs: readonly Features[],
  regime: 'normal' | 'earnings',
  createdAt: number,
): Promise<Prediction[]> {
  if (inputs.length === 0) return [];
  if (!model.predictQuantiles)
    return predictionsFrom(model, inputs, await model.predictBatch(inputs), regime, createdAt);
  const q = model.predictQuantiles(inputs);
  const H = model.horizons.length;
  if (q.length !== inputs.length * H * QUANTILE_STRIDE) {
    throw new Error(`model ${model.name} gave ${q.length} quantile values for ${inputs.length} inputs × ${H} horizons`);
  }
  const out = new Array<Prediction>(inputs.length * H);
  for (let i = 0, o = 0, k = 0; i < inputs.length; i++) {
    const { symbol, ts, close } = inputs[i]!;
    for (let h = 0; h < H; h++, o += QUANTILE_STRIDE, k++) {
      const horizon = model.horizons[h]!;
      out[k] = record(model, regime, createdAt, symbol, ts, horizon, close, q[o]!, q[o + 1]!, q[o + 2]!, q[o + 3]!);
    }
  }
  return out;
}

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
    const { lowerReturn: lower, predictedReturn: median, upperReturn: upper } = o;
    return record(model, regime, createdAt, o.symbol, o.ts, o.horizon, f.close, lower, median, upper, o.rankReturn);
  });
}

/** One forecast (log returns from `close`) as its Prediction record. */
function record(
  model: Model,
  regime: 'normal' | 'earnings',
  createdAt: number,
  symbol: string,
  ts: number,
  horizon: number,
  close: number,
  lowerReturn: number,
  predictedReturn: number,
  upperReturn: number,
  rankReturn: number | undefined,
): Prediction {
  return {
    id: `${symbol}:${ts}:${horizon}`,
    symbol,
    ts,
    horizon,
    targetTs: addTradingDays(ts, horizon),
    lastClose: close,
    predictedClose: close * Math.exp(predictedReturn),
    predictedReturn,
    lower: close * Math.exp(lowerReturn),
    upper: close * Math.exp(upperReturn),
    model: model.name,
    modelVersion: model.version,
    regime,
    createdAt,
    rankScore: rankReturn !== undefined && Number.isFinite(rankReturn) ? rankReturn : null,
  };
}
