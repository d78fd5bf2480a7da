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
  let t = ts;
  for (let left = days; left > 0; ) {
    t += DAY_MS;
    const weekday = new Date(t).getUTCDay();
    if (weekday !== 0 && weekday !== 6) left--;
  }
  return t;
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
