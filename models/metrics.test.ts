import { describe, expect, it } from 'vitest';
import { rankIc, ranks, type Scored, score } from './metrics.js';

const row = (ts: number, actual: number, predicted: number, width = 0.02): Scored => ({
  ts,
  actual,
  predicted,
  lower: predicted - width,
  upper: predicted + width,
});

describe('metrics', () => {
  it('scores persistence against itself: ratio 1, no direction, coverage from the interval', () => {
    const rows = [row(1, 0.01, 0), row(1, -0.03, 0), row(2, 0.005, 0)];
    const m = score(rows);
    expect(m.maeRatio).toBe(1);
    expect(m.mae).toBeCloseTo(((Math.expm1(0.01) + -Math.expm1(-0.03) + Math.expm1(0.005)) / 3) * 100, 12);
    expect(m.hitRate).toBeNaN();
    expect(m.coverage80).toBeCloseTo(2 / 3, 12);
  });

  it('rewards a forecast that gets direction and ranking right', () => {
    const actual = [0.02, -0.01, 0.005, -0.02, 0.01, 0.03];
    const rows = actual.map((a) => row(7, a, a / 2));
    const m = score(rows);
    expect(m.hitRate).toBe(1);
    expect(m.rankIc).toBeCloseTo(1, 12);
    expect(m.maeRatio).toBeLessThan(0.6);
  });

  it('ranks ties by their mean rank, and a reversed order has rank IC −1', () => {
    expect(ranks([3, 1, 3, 2])).toEqual([2.5, 0, 2.5, 1]);
    const rows = [1, 2, 3, 4, 5].map((x) => row(1, x / 100, -x / 100));
    expect(rankIc(rows)).toBeCloseTo(-1, 12);
  });
});
