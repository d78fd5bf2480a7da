// timeseries: writes bars, predictions or scores to the time-series store, or the records of any
// topic that declares a table (`topic`: its name, schema and `table: { key, time }`, the same
// declaration the pipeline gives the topic). Upserts on the row key, so a retried batch or a
// replay never duplicates a row.
import { defineOperator, type SinkOperator, type TableTopic, topicTableProblems } from '../../engine/index.js';
import { type Bar, type Prediction, type Schema, type Score, schemas } from '../../schemas/index.js';
import type { TimeSeriesStore } from '../../storage/timeseries-store.js';

export function timeseries(opts: { store: TimeSeriesStore; table: 'bars' }): SinkOperator<Bar>;
export function timeseries(opts: { store: TimeSeriesStore; table: 'predictions' }): SinkOperator<Prediction>;
export function timeseries(opts: { store: TimeSeriesStore; table: 'scores' }): SinkOperator<Score>;
/** Any declared topic's records, in a table derived from its Avro schema (`store.upsertRecords`). */
export function timeseries<T>(opts: {
  store: TimeSeriesStore;
  topic: TableTopic<T> & { schema: Schema<T> };
}): SinkOperator<T>;
export function timeseries(
  opts:
    | { store: TimeSeriesStore; table: 'bars' | 'predictions' | 'scores' }
    | { store: TimeSeriesStore; topic: TableTopic & { schema: Schema<unknown> } },
): SinkOperator<Bar> | SinkOperator<Prediction> | SinkOperator<Score> | SinkOperator<unknown> {
  const { store } = opts;
  if ('topic' in opts) {
    const { topic } = opts;
    // A declaration that cannot make a table fails where the pipeline is built, not at the first batch.
    const problems = topicTableProblems(topic.name, topic.schema, topic.table);
    if (problems.length > 0) throw new RangeError(`timeseries sink: ${problems.join('; ')}`);
    return defineOperator<unknown>({
      kind: 'sink',
      name: 'timeseries',
      input: topic.schema,
      write: (records) =>
        store.upsertRecords(
          topic,
          records.map((r) => r.value),
        ),
    });
  }
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
