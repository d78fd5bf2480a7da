// checkRecord by example: a record is checked once per schema in-process; one passed on unchanged
// (the router re-emits the features it read) is not checked again, and a bad one always is.
import { describe, expect, it, vi } from 'vitest';
import { type Features, schemas } from '../schemas/index.js';
import { checkRecord } from './emitter.js';
import { avroSerde } from './serde.js';

const features = (over: Partial<Features> = {}): Features => ({
  symbol: 'AAPL',
  ts: Date.UTC(2017, 0, 3),
  close: 116.15,
  spec: 'test',
  values: Float32Array.of(0.1, 0.2),
  history: 300,
  ...over,
});

describe('checkRecord', () => {
  it('checks an unencoded record once per schema, and every new object again', () => {
    const validate = vi.spyOn(schemas.Features, 'validate');
    const f = features();
    expect(checkRecord(avroSerde, 'features', schemas.Features, f, false)).toBeNull();
    expect(checkRecord(avroSerde, 'features.normal', schemas.Features, f, false)).toBeNull();
    expect(validate).toHaveBeenCalledTimes(1);
    expect(checkRecord(avroSerde, 'features', schemas.Features, features(), false)).toBeNull();
    expect(validate).toHaveBeenCalledTimes(2);
    validate.mockRestore();
  });

  it('never remembers an invalid record: it is refused each time, with the reason', () => {
    const bad = features({ symbol: '' });
    const first = checkRecord(avroSerde, 'features', schemas.Features, bad, false);
    expect(first).toEqual(expect.stringContaining('symbol'));
    expect(checkRecord(avroSerde, 'features', schemas.Features, bad, false)).toBe(first);
  });

  it('encodes whenever asked (bytes leave the process), checked or not', () => {
    const f = features();
    expect(checkRecord(avroSerde, 'features', schemas.Features, f, false)).toBeNull();
    expect(Buffer.isBuffer(checkRecord(avroSerde, 'features', schemas.Features, f, true))).toBe(true);
  });
});
