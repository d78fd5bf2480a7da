// predict: features → predictions, calling a Model once per batch. Each prediction carries
// its horizon, median, 80% interval, model version and the event time of its inputs.
import { defineOperator, RecordError } from '../../engine/index.js';
import type { Model } from '../../models/model.js';
import { type Features, type Prediction, schemas } from '../../schemas/index.js';

export interface PredictOptions {
  model: Model;
  /** Which router branch this node serves: recorded on every prediction. */
  regime: 'normal' | 'earnings';
}

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

export function predict(opts: PredictOptions) {
  const { model, regime } = opts;
  return defineOperator<Features, { predictions: typeof schemas.Prediction }>({
    kind: 'transform',
    name: `predict`,
    input: schemas.Features,
    outputs: { predictions: schemas.Prediction },
    async processBatch(records, ctx) {
      const inputs: Features[] = [];
      for (const r of records) {
        if (r.value.spec !== model.spec) {
          // Wrong features would give confident nonsense: refuse loudly, record by record.
          throw new RecordError(
            `features spec ${r.value.spec} does not match model ${model.name}@${model.version} (${model.spec})`,
          );
        }
        inputs.push(r.value);
      }
      const outputs = await model.predictBatch(inputs);
      const bySymbol = new Map(inputs.map((f) => [`${f.symbol}:${f.ts}`, f]));
      const createdAt = Date.now();
      for (const o of outputs) {
        const f = bySymbol.get(`${o.symbol}:${o.ts}`);
        if (!f)
          throw new Error(`model ${model.name} returned a forecast for ${o.symbol} at ${o.ts} it was not asked for`);
        const p: Prediction = {
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
        ctx.emit('predictions', p, { key: o.symbol, timestamp: o.ts });
      }
    },
  });
}
