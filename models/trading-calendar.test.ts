// The NYSE calendar against the exchange's published holidays and against the real data: the
// days some bundled ticker traded are exactly the calendar's trading days over the same span.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addTradingDays, isTradingDay, nextTradingDay, nyseHolidays, tradingDaysBetween } from './trading-calendar.js';

const DATA = new URL('../data/sp500-daily', import.meta.url).pathname;
const DAY = 86_400_000;
const iso = (t: number) => new Date(t).toISOString().slice(0, 10);

describe('NYSE trading calendar', () => {
  it('has the published holidays (2016, 2021 with New Year on a Saturday, 2022 with Juneteenth)', () => {
    const of = (y: number) => [...nyseHolidays(y)].sort((a, b) => a - b).map(iso);
    expect(of(2016)).toEqual([
      '2016-01-01',
      '2016-01-18',
      '2016-02-15',
      '2016-03-25',
      '2016-05-30',
      '2016-07-04',
      '2016-09-05',
      '2016-11-24',
      '2016-12-26',
    ]);
    // 2022-01-01 is a Saturday: not observed on Friday 2021-12-31.
    expect(of(2022)).toEqual([
      '2022-01-17',
      '2022-02-21',
      '2022-04-15',
      '2022-05-30',
      '2022-06-20',
      '2022-07-04',
      '2022-09-05',
      '2022-11-24',
      '2022-12-26',
    ]);
    expect(isTradingDay(Date.UTC(2021, 11, 31))).toBe(true);
    expect(isTradingDay(Date.UTC(2018, 11, 5))).toBe(false); // President Bush's day of mourning
  });

  it('is exactly the days the bundled tickers traded, 2013-02-08 to 2018-02-07', () => {
    const traded = new Set<string>();
    for (const f of readdirSync(DATA).filter((x) => x.endsWith('.csv'))) {
      for (const line of readFileSync(join(DATA, f), 'utf8').split('\n').slice(1)) {
        if (/^\d{4}-\d{2}-\d{2},/.test(line)) traded.add(line.slice(0, 10));
      }
    }
    const days = [...traded].sort();
    const calendar: string[] = [];
    for (let t = Date.parse(`${days[0]}T00:00:00Z`); t <= Date.parse(`${days.at(-1)}T00:00:00Z`); t += DAY) {
      if (isTradingDay(t)) calendar.push(iso(t));
    }
    expect(calendar).toEqual(days);
    expect(days).toHaveLength(1259);
  });

  it('counts the trading days strictly between two bars', () => {
    expect(tradingDaysBetween(Date.UTC(2016, 2, 24), Date.UTC(2016, 2, 28))).toBe(0); // Good Friday between
    expect(tradingDaysBetween(Date.UTC(2015, 5, 8), Date.UTC(2015, 5, 10))).toBe(1); // REGN's missing 06-09
    expect(tradingDaysBetween(Date.UTC(2015, 5, 8, 21), Date.UTC(2015, 5, 9))).toBe(0);
  });

  it('puts a target date on a session: a Friday before a holiday Monday targets Tuesday', () => {
    const day = (s: string) => Date.parse(`${s}T00:00:00Z`);
    // Friday 2017-01-13, then Martin Luther King Jr. Day: the 1-day target is Tuesday the 17th.
    expect(iso(addTradingDays(day('2017-01-13'), 1))).toBe('2017-01-17');
    // Thanksgiving Wednesday → Friday; Christmas Eve 2018 (Monday) → Wednesday the 26th.
    expect(iso(addTradingDays(day('2016-11-23'), 1))).toBe('2016-11-25');
    expect(iso(addTradingDays(day('2018-12-24'), 1))).toBe('2018-12-26');
    // 21 sessions after 2018-02-02 (Presidents' Day on the way): 2018-03-06, not the weekday count's 03-05.
    expect(iso(addTradingDays(day('2018-02-02'), 21))).toBe('2018-03-06');
    // From a weekend the next session is day 1; the time of day is kept.
    expect(iso(addTradingDays(day('2017-01-14'), 1))).toBe('2017-01-17');
    expect(addTradingDays(day('2017-01-13') + 3_600_000, 1)).toBe(day('2017-01-17') + 3_600_000);
    expect(iso(nextTradingDay(day('2017-01-13') + 5))).toBe('2017-01-17');
  });

  it('agrees with the day-by-day count over the calendar, for every start day of two years', () => {
    const stepByStep = (ts: number, n: number) => {
      let t = ts;
      for (let left = n; left > 0; ) {
        t += DAY;
        if (isTradingDay(t)) left--;
      }
      return t;
    };
    for (let t = Date.UTC(2016, 0, 1); t < Date.UTC(2018, 0, 1); t += DAY) {
      for (const h of [1, 5, 21]) expect(addTradingDays(t, h)).toBe(stepByStep(t, h));
    }
  });
});
