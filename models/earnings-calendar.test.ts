import { describe, expect, it } from 'vitest';
import {
  createEarningsCalendar,
  createLiveEarningsCalendar,
  type EarningsCalendar,
  emptyEarningsCalendar,
  loadEarningsCalendar,
  parseEarningsCsv,
} from './earnings-calendar.js';

const FILE = new URL('../data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv', import.meta.url)
  .pathname;
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const weekday = (iso: string) => new Date(day(iso)).getUTCDay();

describe('earnings calendar', () => {
  let cal: EarningsCalendar;

  it('loads the bundled file: 1,038 announcements of 50 tickers', async () => {
    cal = await loadEarningsCalendar(FILE);
    expect(cal.size).toBe(1038);
    expect(cal.symbols()).toHaveLength(50);
    expect(cal.symbols().slice(0, 3)).toEqual(['AAPL', 'ADBE', 'AMD']);
  });

  it('marks the bar before and the bar of an announcement (AAPL reported Tue 2013-04-23)', () => {
    expect([weekday('2013-04-19'), weekday('2013-04-22'), weekday('2013-04-23')]).toEqual([5, 1, 2]);
    expect(cal.isEarningsWindow('AAPL', day('2013-04-19'))).toBe(false); // Fri: next weekday is Mon 22
    expect(cal.isEarningsWindow('AAPL', day('2013-04-22'))).toBe(true); // before the open on the 23rd
    expect(cal.isEarningsWindow('AAPL', day('2013-04-23'))).toBe(true); // after the close on the 23rd
    expect(cal.isEarningsWindow('AAPL', day('2013-04-24'))).toBe(false);
    // Intraday times count by their UTC day.
    expect(cal.isEarningsWindow('AAPL', day('2013-04-23') + 15 * 3_600_000)).toBe(true);
    expect(cal.isEarningsWindow('MSFT', day('2013-04-22'))).toBe(false);
    expect(cal.isEarningsWindow('NOPE', day('2013-04-22'))).toBe(false);
  });

  it('looks across the weekend: a Monday announcement marks the Friday bar', () => {
    // AAPL reported Mon 2013-10-28.
    expect(weekday('2013-10-28')).toBe(1);
    expect(cal.isEarningsWindow('AAPL', day('2013-10-24'))).toBe(false); // Thu
    expect(cal.isEarningsWindow('AAPL', day('2013-10-25'))).toBe(true); // Fri → Mon
    expect(cal.isEarningsWindow('AAPL', day('2013-10-28'))).toBe(true);
    // C has a row on Sun 2014-11-02: it moves the Fri → Mon return, not Mon → Tue.
    expect(weekday('2014-11-02')).toBe(0);
    expect(cal.isEarningsWindow('C', day('2014-10-31'))).toBe(true);
    expect(cal.isEarningsWindow('C', day('2014-11-03'))).toBe(false);
  });

  it('agrees with the pipeline test: AAPL 2015-07-21 and 2015-10-27 are earnings bars', () => {
    expect(cal.isEarningsWindow('AAPL', day('2015-07-21'))).toBe(true);
    expect(cal.isEarningsWindow('AAPL', day('2015-10-27'))).toBe(true);
  });

  it('finds the next announcement (same day included) and the last one (strictly before)', () => {
    expect(cal.nextEarnings('AAPL', day('2013-04-23'))).toEqual({
      date: day('2013-04-23'),
      epsEstimate: 0.36,
      epsActual: 0.36,
      surprisePct: 0.88,
    });
    expect(cal.lastEarnings('AAPL', day('2013-04-23'))).toEqual({
      date: day('2013-01-23'),
      epsEstimate: 0.48,
      epsActual: 0.49,
      surprisePct: 2.52,
    });
    expect(cal.lastEarnings('AAPL', day('2013-04-24'))?.date).toBe(day('2013-04-23'));
    expect(cal.nextEarnings('AAPL', day('2013-04-24'))?.date).toBe(day('2013-07-23'));
    // Before the first and after the last.
    expect(cal.lastEarnings('AAPL', day('2013-01-23'))).toBeNull();
    expect(cal.nextEarnings('AAPL', day('2018-02-02'))).toBeNull();
    expect(cal.lastEarnings('AAPL', day('2018-02-07'))?.date).toBe(day('2018-02-01'));
    expect(cal.nextEarnings('NOPE', 0)).toBeNull();
    expect(cal.lastEarnings('NOPE', 0)).toBeNull();
  });

  it('keeps missing EPS cells as null', () => {
    // 2015-10-16,1.27,,,C: estimate only.
    expect(cal.nextEarnings('C', day('2015-10-16'))).toEqual({
      date: day('2015-10-16'),
      epsEstimate: 1.27,
      epsActual: null,
      surprisePct: null,
    });
  });

  it('parses text: quoted commas, any order, repeats, lower-case tickers; rejects bad rows', () => {
    const c = parseEarningsCsv(
      [
        'dates,eps_estimate,eps_actual,eps_pct_diff,ticker,country,category',
        '2017-05-02,0.5,0.53,3.97,aapl,USA,"tech, electronics"',
        '2017-01-31,,,,AAPL,USA,"tech, electronics"',
        '2017-01-31,0.8,0.84,4.55,AAPL,USA,"tech, electronics"',
        '',
      ].join('\n'),
    );
    expect(c.size).toBe(2);
    expect(c.symbols()).toEqual(['AAPL']);
    expect(c.lastEarnings('AAPL', day('2017-03-01'))?.epsActual).toBe(0.84);
    expect(() => parseEarningsCsv('dates,ticker\n2017-02-30,AAPL\n', 'x.csv')).toThrow(/x.csv row 2: date/);
    expect(() => parseEarningsCsv('dates,eps_actual,ticker\n2017-02-03,abc,AAPL\n')).toThrow(/eps_actual/);
    expect(() => parseEarningsCsv('date,ticker\n')).toThrow(/missing column dates/);
    expect(parseEarningsCsv('').size).toBe(0);
  });

  it('has an empty calendar and builds from rows', () => {
    const empty = emptyEarningsCalendar();
    expect(empty.size).toBe(0);
    expect(empty.symbols()).toEqual([]);
    expect(empty.isEarningsWindow('AAPL', day('2013-04-23'))).toBe(false);
    const c = createEarningsCalendar([
      { symbol: 'X', date: day('2020-01-10') + 5, epsEstimate: null, epsActual: null, surprisePct: null },
    ]);
    expect(c.nextEarnings('X', day('2020-01-01'))?.date).toBe(day('2020-01-10'));
    expect(c.isEarningsWindow('X', day('2020-01-09'))).toBe(true);
  });
});

describe('live earnings calendar (upcoming dates over a base calendar)', () => {
  const d = (s: string) => Date.parse(`${s}T00:00:00Z`);
  it('adds upcoming days the router and features see at once, replaces them on update, keeps the past', () => {
    const base = createEarningsCalendar([
      { symbol: 'AAPL', date: d('2025-01-30'), epsEstimate: 2.35, epsActual: 2.4, surprisePct: 2.1 },
    ]);
    const live = createLiveEarningsCalendar(base);
    expect(live.isEarningsWindow('AAPL', d('2025-04-29'))).toBe(false);
    live.setUpcoming('AAPL', [Date.parse('2025-04-30T10:59:00Z')], d('2025-02-14'));
    live.setUpcoming('MSFT', [d('2025-04-24')], d('2025-02-14'));
    expect(live.isEarningsWindow('AAPL', d('2025-04-29'))).toBe(true);
    expect(live.nextEarnings('AAPL', d('2025-02-14'))).toEqual({
      date: d('2025-04-30'),
      epsEstimate: null,
      epsActual: null,
      surprisePct: null,
    });
    expect(live.lastEarnings('AAPL', d('2025-02-14'))?.epsActual).toBe(2.4); // the base's row
    expect(live.symbols()).toEqual(['AAPL', 'MSFT']);
    expect(live.size).toBe(3);
    // Yahoo moves the date: the old upcoming day goes; once passed, a day stays as the last one.
    live.setUpcoming('AAPL', [d('2025-05-01')], d('2025-02-20'));
    expect(live.isEarningsWindow('AAPL', d('2025-04-29'))).toBe(false);
    live.setUpcoming('AAPL', [d('2025-07-31')], d('2025-05-02'));
    expect(live.lastEarnings('AAPL', d('2025-05-10'))?.date).toBe(d('2025-05-01'));
    expect(live.nextEarnings('AAPL', d('2025-05-10'))?.date).toBe(d('2025-07-31'));
    expect(live.updated.get('AAPL')).toBe(d('2025-05-02'));
  });
});
