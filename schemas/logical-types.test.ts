import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { describeTypeErrors, type Features, schemas } from './index.js';

const row: Features = {
  symbol: 'AAPL',
  ts: Date.UTC(2017, 0, 3),
  close: 116.15,
  spec: 'basic@test',
  values: Float32Array.of(0.25, Number.NaN, -1e-40),
  history: 300,
};

// The same record without the annotation: what a reader that does not know `float32-array` has.
const plain = avro.Type.forSchema(
  JSON.parse(JSON.stringify(schemas.Features.avsc).replace(',"logicalType":"float32-array"', '')) as avro.Schema,
);

describe('float32-array (a feature row)', () => {
  it('decodes to a Float32Array, value for value (NaN and float32 subnormals too)', () => {
    const back = schemas.Features.type.fromBuffer(schemas.Features.type.toBuffer(row)) as Features;
    expect(back.values).toBeInstanceOf(Float32Array);
    expect([...back.values]).toEqual([0.25, Number.NaN, Math.fround(-1e-40)]);
  });

  it('is a plain array of doubles on the wire, both ways', () => {
    expect(schemas.Features.type.toBuffer(row)).toEqual(plain.toBuffer({ ...row, values: [...row.values] }));
    const written = plain.toBuffer({ ...row, values: [1, 2] });
    expect((schemas.Features.type.fromBuffer(written) as Features).values).toEqual(Float32Array.of(1, 2));
    // Written without the annotation, read with it through a resolver (another schema version).
    const resolver = schemas.Features.type.createResolver(plain);
    expect((schemas.Features.type.fromBuffer(written, resolver) as Features).values).toEqual(Float32Array.of(1, 2));
  });

  it('accepts a plain array from a producer and rejects anything else, saying where', () => {
    expect(schemas.Features.type.isValid({ ...row, values: [1, 2] })).toBe(true);
    expect(describeTypeErrors(schemas.Features.type, { ...row, values: 'x' })).toEqual([
      'values: expected logical:float32-array, got "x"',
    ]);
    expect(schemas.Features.type.isValid({ ...row, values: [1, 'x'] })).toBe(false);
  });
});
