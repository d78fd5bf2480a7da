// From model outputs (log returns) to Prediction records (prices, interval, target date,
// model version): one mapping for the predict operator, offline evaluation and benchmarks.
import type { Features, Prediction } from '../schemas/index.js';
import type { Model, ModelOutput } from './model.js';

const DAY_MS = 86_400_000;

/** `ts` moved forward by `days` weekdays (exchange holidays are not known here). */
export function addTradingDays(ts: number, days: number): number {
  // Closed form: on the hot path for every prediction. 1970-01-01 was a Thursday.
  const day = Math.floor(ts / DAY_MS);
  const weekday = (day + 3) % 7; // 0 = Monday … 6 = Sunday
  // From a weekend, the first weekday counts as day 1: start from the Friday before.
  const from = weekday >= 5 ? day - (weekday - 4) : day;
  const fromWeekday = Math.min(weekday, 4);
  const total = fromWeekday + days;
  const calendarDays = Math.floor(total / 5) * 7 + (total % 5) - fromWeekday;
  return ts + (from + calendarDays - day) * DAY_MS;
}

/** The Prediction records for a model's outputs on `inputs` (each output must match an input). */
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
    return {
      id: `${o.symbol}:${o.ts}:${o.horizon}`,
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
    };
  });
}
