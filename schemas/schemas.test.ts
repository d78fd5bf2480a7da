import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateTypes } from './codegen.js';
import { describeTypeErrors, type Quote, schemas } from './index.js';

const dir = dirname(fileURLToPath(import.meta.url));

describe('schemas', () => {
  it('generated.ts matches the .avsc files (run `npm run schemas` after changing one)', () => {
    expect(readFileSync(join(dir, 'generated.ts'), 'utf8')).toBe(generateTypes(dir));
  });

  it('round-trips a quote through Avro', () => {
    const q: Quote = {
      symbol: 'AAPL',
      ts: Date.UTC(2018, 1, 7, 21),
      price: 159.54,
      dayOpen: 163.085,
      dayHigh: 163.4,
      dayLow: 159.0685,
      dayVolume: 51_608_580,
      source: 'replay',
    };
    expect(schemas.Quote.type.fromBuffer(schemas.Quote.type.toBuffer(q))).toEqual(q);
    expect(schemas.Quote.validate(q)).toEqual([]);
  });

  it('says which field is wrong, and why', () => {
    expect(describeTypeErrors(schemas.Quote.type, { symbol: 'AAPL', ts: 1, price: '159', source: 'x' })).toEqual([
      'price: expected double, got "159"',
    ]);
    const bad: Quote = {
      symbol: 'aapl!',
      ts: 1,
      price: Number.NaN,
      dayOpen: -1,
      dayHigh: 1,
      dayLow: 2,
      dayVolume: Number.POSITIVE_INFINITY,
      source: 'x',
    };
    expect(schemas.Quote.validate(bad)).toEqual([
      'symbol: "aapl!" is not a ticker (A-Z, digits, . ^ = -)',
      'price: NaN must be a finite price > 0',
      'dayOpen: -1 must be a finite price > 0',
      'dayVolume: Infinity must be finite and >= 0',
      'dayHigh 1 < dayLow 2',
    ]);
  });

  it('gives every schema a stable fingerprint', () => {
    const prints = Object.values(schemas).map((s) => s.fingerprint);
    expect(new Set(prints).size).toBe(prints.length);
    expect(schemas.Features.name).toBe('tickcast.Features');
  });
});
