// One way to write a dead letter, whoever rejects the record.
import { describe, expect, it } from 'vitest';
import { schemas } from '../schemas/index.js';
import { HEADER } from './control.js';
import { deadLetterMessage, jsonPayload } from './dead-letter.js';
import { definePipeline } from './pipeline.js';

describe('dead letters', () => {
  it("go to the topic's dead-letter topic, readable back as a DeadLetter", () => {
    const pipeline = definePipeline({
      name: 'p',
      topics: { quotes: { schema: schemas.Quote, external: true } },
      nodes: [],
    });
    const { message, letter } = deadLetterMessage(
      pipeline,
      {
        topic: 'quotes',
        node: 'market-data',
        kind: 'source',
        reason: 'KO_data.csv:50: bad',
        payload: Buffer.from('x'),
      },
      { key: 'KO', timestamp: 1.5, partition: 2 },
    );
    expect(message.topic).toBe('quotes.dlq');
    expect(message.headers).toEqual({ [HEADER.from]: 'market-data' });
    expect(schemas.DeadLetter.type.fromBuffer(message.value!)).toEqual(letter);
    // An event time that is not a whole number of ms is not kept as one.
    expect(letter).toMatchObject({ key: 'KO', timestamp: null, partition: 2, offset: null });
  });

  it('keep a value that never became Avro readable, whatever it holds', () => {
    expect(jsonPayload({ price: Number.NaN, high: Number.POSITIVE_INFINITY }).toString()).toBe(
      '{"price":"NaN","high":"Infinity"}',
    );
    // A feature row (a Float32Array) reads as the array it is on the wire, not as {"0": …}.
    expect(jsonPayload({ values: Float32Array.of(0.5, Number.NaN) }).toString()).toBe('{"values":[0.5,"NaN"]}');
    const cycle: { self?: unknown } = {};
    cycle.self = cycle;
    expect(jsonPayload(cycle).toString()).toBe('[object Object]');
    expect(jsonPayload(undefined).toString()).toBe('null');
  });
});
