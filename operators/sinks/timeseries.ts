// timeseries: writes bars, predictions or scores to the time-series store. Upserts on the row key,
// so a retried batch or a replay never duplicates a row.
import { defineOperator, type SinkOperator } from '../../engine/index.js';
import { type Bar, type Prediction, type Score, schemas } from '../../schemas/index.js';
import type { TimeSeriesStore } from '../../storage/timeseries-store.js';

export function timeseries(opts: { store: TimeSeriesStore; table: 'bars' }): SinkOperator<Bar>;
export function timeseries(opts: { store: TimeSeriesStore; table: 'predictions' }): SinkOperator<Prediction>;
export function timeseries(opts: { store: TimeSeriesStore; table: 'scores' }): SinkOperator<Score>;
export function timeseries(opts: {
  store: TimeSeriesStore;
  table: 'bars' | 'predictions' | 'scores';
}): SinkOperator<Bar> | SinkOperator<Prediction> | SinkOperator<Score> {
  const { store } = opts;
  if (opts.table === 'bars') {
    return defineOperator<Bar>({
      kind: 'sink',
      name: 'timeseries',
      input: schemas.Bar,
      write: (records) => store.upsertBars(records.map((r) => r.value)),
    });
  }
  if (opts.table === 'scores') {
    return defineOperator<Score>({
      kind: 'sink',
      name: 'timeseries',
      input: schemas.Score,
      write: (records) => store.upsertScores(records.map((r) => r.value)),
    });
  }
  return defineOperator<Prediction>({
    kind: 'sink',
    name: 'timeseries',
    input: schemas.Prediction,
    write: (records) => store.upsertPredictions(records.map((r) => r.value)),
  });
}
