// predict: features → predictions, calling a Model once per batch. Each prediction carries
// its horizon, median, 80% interval, model version, the event time of its inputs and, where a net
// is behind the model, its rank score (the net's own median from the same pass: the ranking signal).
import { defineOperator, RecordError } from '../../engine/index.js';
import type { Model } from '../../models/model.js';
import { predictRecords } from '../../models/predictions.js';
import { type Features, schemas } from '../../schemas/index.js';

export interface PredictOptions {
  model: Model;
  /** Which router branch this node serves: recorded on every prediction. */
  regime: 'normal' | 'earnings';
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
      // One pass of the model: each forecast's rank (the net's own median, when a net is behind it) is the
      // prediction's rankScore.
      for (const p of await predictRecords(model, inputs, regime, Date.now())) {
        ctx.emit('predictions', p, { key: p.symbol, timestamp: p.ts });
      }
    },
  });
}
