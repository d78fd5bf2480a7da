// The Model view's summaries of the live scores: per month and per regime, each day weighted by
// its number of forecasts, coverage as a percentage, NaN where there is nothing to average.
import { describe, expect, it } from 'vitest';
import { byMonth, byRegime, type ScoreDay } from './live-scores';

const day = (
  time: string,
  regime: string,
  n: number,
  mae: number,
  maePersistence: number,
  coverage: number,
): ScoreDay => ({
  time,
  regime,
  n,
  mae,
  maePersistence,
  coverage,
});

const days: ScoreDay[] = [
  day('2024-02-05T00:00:00Z', 'normal', 3, 1.0, 1.2, 1.0),
  day('2024-01-10T00:00:00Z', 'normal', 1, 2.0, 2.0, 0.0),
  day('2024-01-11T00:00:00Z', 'earnings', 3, 4.0, 6.0, 0.5),
  day('2024-03-01T00:00:00Z', 'normal', 0, 9.0, 9.0, 1.0),
  day('2024-02-06T00:00:00Z', 'unrouted', 1, 5.0, 5.0, 1.0),
];

describe('byMonth', () => {
  it('weights days by forecasts, oldest month first, and drops months without any', () => {
    const months = byMonth(days);
    expect(months.map((m) => m.month)).toEqual(['2024-01', '2024-02']);
    const [jan, feb] = months;
    expect(jan).toMatchObject({ n: 4 });
    expect(jan!.mae).toBeCloseTo((1 * 2 + 3 * 4) / 4);
    expect(jan!.maePersistence).toBeCloseTo((1 * 2 + 3 * 6) / 4);
    expect(jan!.coverage).toBeCloseTo(((0 + 3 * 0.5) / 4) * 100);
    expect(feb).toMatchObject({ n: 4 });
    expect(feb!.mae).toBeCloseTo((3 * 1 + 5) / 4);
    expect(feb!.coverage).toBeCloseTo(100);
  });

  it('is empty for no days', () => {
    expect(byMonth([])).toEqual([]);
  });
});

describe('byRegime', () => {
  it('sums all days, and the normal and earnings days apart', () => {
    const r = byRegime(days);
    expect(r.all.n).toBe(8);
    expect(r.all.mae).toBeCloseTo((3 * 1 + 2 + 3 * 4 + 5) / 8);
    expect(r.normal.n).toBe(4);
    expect(r.normal.maePersistence).toBeCloseTo((3 * 1.2 + 2) / 4);
    expect(r.normal.coverage).toBeCloseTo(75);
    expect(r.earnings).toEqual({ n: 3, mae: 4, maePersistence: 6, coverage: 50 });
  });

  it('has NaN figures, not zeros, for a regime without forecasts', () => {
    const r = byRegime([day('2024-01-10T00:00:00Z', 'normal', 2, 1, 1, 1)]);
    expect(r.earnings.n).toBe(0);
    expect(r.earnings.mae).toBeNaN();
    expect(r.earnings.maePersistence).toBeNaN();
    expect(r.earnings.coverage).toBeNaN();
  });
});
