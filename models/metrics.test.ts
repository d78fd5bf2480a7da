import { describe, expect, it } from 'vitest';
import { dailyRankIcs, icByYear, icStats, rankIc, ranks, type Scored, score } from './metrics.js';

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

  it('gives the hit rate of always forecasting up: the share of rows that moved whose return was up', () => {
    const rows = [row(1, 0.01, 0), row(1, 0.02, -0.01), row(1, -0.01, 0.01), row(2, 0, 0.01), row(2, 0.03, 0.01)];
    expect(score(rows).hitRateAlwaysUp).toBe(3 / 4);
    expect(score([row(1, 0, 0)]).hitRateAlwaysUp).toBeNaN();
  });

  it('a rank IC t-statistic is the mean daily IC over its standard error', () => {
    // ICs 0.1 and 0.3: mean 0.2, sample σ √((0.1² + 0.1²) / 1) = 0.1414, t = 0.2 / (0.1414 / √2) = 2.
    const two = icStats([
      { ts: 1, ic: 0.1 },
      { ts: 2, ic: 0.3 },
    ]);
    expect(two.ic).toBeCloseTo(0.2, 12);
    expect(two.t).toBeCloseTo(2, 12);
    expect(two.dates).toBe(2);
    // 0.1, 0.2, 0.3: σ 0.1, t = 0.2 / (0.1 / √3) = 2√3.
    const three = [0.1, 0.2, 0.3].map((ic, ts) => ({ ts, ic }));
    expect(icStats(three).t).toBeCloseTo(2 * Math.sqrt(3), 12);
    // One date, or the same IC every date, has no standard error.
    expect(icStats([{ ts: 1, ic: 0.1 }]).t).toBeNaN();
    expect(icStats([0.1, 0.1].map((ic, ts) => ({ ts, ic }))).t).toBeNaN();
  });

  it('samples every h-th date for non-overlapping h-day targets, counting dates whose IC is undefined', () => {
    const daily = [0.1, 0.9, Number.NaN, 0.9, 0.2, 0.9, 0.3].map((ic, ts) => ({ ts, ic }));
    // every 2: dates 0, 2, 4, 6 → 0.1, (undefined), 0.2, 0.3
    expect(icStats(daily, 2)).toEqual({
      ic: expect.closeTo(0.2, 12),
      t: expect.closeTo(2 * Math.sqrt(3), 12),
      dates: 3,
    });
    expect(icStats(daily, 1).dates).toBe(6);
    expect(() => icStats(daily, 0)).toThrow(RangeError);
  });

  it('computes the daily rank ICs oldest first, and their statistics per year', () => {
    const day = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);
    const up = [1, 2, 3, 4, 5];
    const rows = [
      ...up.map((x) => row(day(2017, 1, 3), x / 100, x / 100)), // IC 1
      ...up.map((x) => row(day(2016, 12, 30), x / 100, -x / 100)), // IC −1
      ...up.slice(0, 4).map((x) => row(day(2016, 12, 29), x / 100, x / 100)), // 4 symbols: undefined
      ...up.map((x, i) => row(day(2017, 1, 4), x / 100, [2, 1, 3, 4, 5][i]! / 100)), // IC 0.9
    ];
    const daily = dailyRankIcs(rows);
    expect(daily.map((d) => d.ts)).toEqual([day(2016, 12, 29), day(2016, 12, 30), day(2017, 1, 3), day(2017, 1, 4)]);
    expect(daily[0]!.ic).toBeNaN();
    expect(daily.slice(1).map((d) => d.ic)).toEqual([
      expect.closeTo(-1, 12),
      expect.closeTo(1, 12),
      expect.closeTo(0.9, 12),
    ]);
    expect(icByYear(daily)).toEqual([
      { year: 2016, ic: expect.closeTo(-1, 12), t: Number.NaN, dates: 1 },
      {
        year: 2017,
        ic: expect.closeTo(0.95, 12),
        t: expect.closeTo(0.95 / (Math.sqrt(0.005) / Math.sqrt(2)), 9),
        dates: 2,
      },
    ]);
    const m = score(rows);
    expect(m.rankIc).toBeCloseTo((-1 + 1 + 0.9) / 3, 12);
    expect(m.rankIcT).toBeCloseTo(icStats(daily).t, 12);
  });
});
