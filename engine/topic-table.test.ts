// A topic's table declaration is checked against its Avro schema before anything runs.
import { describe, expect, it } from 'vitest';
import { schemas } from '../schemas/index.js';
import { defineOperator } from './operator.js';
import { definePipeline, type TopicDeclaration } from './pipeline.js';
import { publicTopics } from './topic-table.js';

/** A one-topic pipeline whose topic is declared `signals`. */
function withSignals(signals: Partial<TopicDeclaration>) {
  const source = defineOperator({
    kind: 'source',
    name: 'signal-source',
    outputs: { signals: schemas.SmaSignal },
    async run() {},
  });
  return definePipeline({
    name: 'tables',
    topics: { signals: { schema: schemas.SmaSignal, ...signals } },
    nodes: [{ id: 'source', operator: source, writes: { signals: 'signals' } }],
  });
}

describe('topic tables', () => {
  it('are carried by the pipeline and describe(); public topics are listed for the API', () => {
    const pipeline = withSignals({ table: { key: ['symbol'], time: 'ts' }, public: true });
    expect(pipeline.describe().topics[0]).toMatchObject({
      name: 'signals',
      table: { key: ['symbol'], time: 'ts' },
      public: true,
    });
    expect(publicTopics(pipeline.topics.values())).toEqual([
      { name: 'signals', schema: schemas.SmaSignal, table: { key: ['symbol'], time: 'ts' } },
    ]);
    expect(publicTopics(withSignals({ table: { key: ['symbol'], time: 'ts' } }).topics.values())).toEqual([]);
  });

  it.each([
    [{ key: ['ticker'], time: 'ts' }, 'topic signals: table key field ticker is not a field of tickcast.SmaSignal'],
    [{ key: ['symbol'], time: 'when' }, 'topic signals: table time field when is not a field of tickcast.SmaSignal'],
    [{ key: ['symbol'], time: 'fastBars' }, 'time field fastBars must be a long with logicalType timestamp-millis'],
    [
      { key: ['close'], time: 'ts' },
      'key field close must be a string, enum, int, long or boolean, not null (it is double)',
    ],
    [{ key: [], time: 'ts' }, 'topic signals: table needs at least one key field'],
    [{ key: ['symbol', 'symbol'], time: 'ts' }, 'key field symbol is given twice'],
  ])('refuses the table %j, naming the topic and the field', (table, message) => {
    expect(() => withSignals({ table })).toThrow(message);
  });

  it('refuses a public topic without a table', () => {
    expect(() => withSignals({ public: true })).toThrow('topic signals: a public topic needs a table');
  });
});
