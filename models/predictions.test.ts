import { describe, expect, it } from 'vitest';
import { addTradingDays } from './predictions.js';

describe('addTradingDays', () => {
  it('counts weekdays for the target date, from any day of the week', () => {
    expect(new Date(addTradingDays(Date.UTC(2018, 1, 2), 21)).toISOString().slice(0, 10)).toBe('2018-03-05');
    // Against the obvious day-by-day count, for 5 weeks of start days and several horizons.
    const DAY = 86_400_000;
    const stepByStep = (ts: number, days: number) => {
      let t = ts;
      for (let left = days; left > 0; ) {
        t += DAY;
        if (![0, 6].includes(new Date(t).getUTCDay())) left--;
      }
      return t;
    };
    for (let d = 0; d < 35; d++) {
      const ts = Date.UTC(2018, 0, 1) + d * DAY;
      for (const h of [1, 2, 4, 5, 6, 21, 63]) expect(addTradingDays(ts, h)).toBe(stepByStep(ts, h));
    }
  });
});
