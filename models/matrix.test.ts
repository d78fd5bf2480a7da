import { describe, expect, it } from 'vitest';
import type { Example } from './dataset.js';
import { demeanByDay, toMatrix } from './matrix.js';

const DAY = 86_400_000;
const example = (symbol: string, day: number, targets: number[]): Example => ({
  symbol,
  ts: day * DAY,
  close: 100,
  features: Float32Array.of(day, symbol.length),
  targets,
  earnings: false,
});

describe('matrix', () => {
  it('lays examples out row-major and takes each day’s market move out of the targets', () => {
    // Day 1: the market rose 1% (mean of 0.02 and 0); day 2: one target unknown at horizon 5.
    const examples = [
      example('AAPL', 1, [0.02, 0.05]),
      example('MSFT', 1, [0.0, 0.01]),
      example('AAPL', 2, [-0.01, Number.NaN]),
      example('MSFT', 2, [0.03, 0.04]),
    ];
    const m = toMatrix(examples);
    expect(m).toMatchObject({ rows: 4, cols: 2, horizons: 2 });
    expect([...m.x]).toEqual([1, 4, 1, 4, 2, 4, 2, 4]);
    const d = demeanByDay(examples, m.y, m.horizons);
    const at = (r: number, h: number) => d[r * 2 + h]!;
    expect(at(0, 0)).toBeCloseTo(0.01, 7);
    expect(at(1, 0)).toBeCloseTo(-0.01, 7);
    expect(at(0, 1)).toBeCloseTo(0.02, 7);
    expect(at(2, 0)).toBeCloseTo(-0.02, 7);
    expect(at(2, 1)).toBeNaN(); // unknown stays unknown
    expect(at(3, 1)).toBeCloseTo(0, 7); // the only known target on its day
    expect(m.y[0]).toBeCloseTo(0.02, 7); // the input is left as it was
  });
});
