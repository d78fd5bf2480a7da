// The NYSE's sessions: the trading days against real data (AAPL's bundled file is the exchange's
// calendar of those years), the hours in both DST regimes, early closes, known future holidays,
// and the questions the live source asks (open now? when next? which session closed last?).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  isOpen,
  lastClosedSession,
  nextOpen,
  nextSession,
  sessionAt,
  sessionOf,
  sessionsBetween,
} from './market-calendar.js';

const AAPL = new URL('../data/sp500-daily/AAPL_data.csv', import.meta.url);
const at = (s: string) => Date.parse(s);
const iso = (t: number) => new Date(t).toISOString();

describe('NYSE market calendar', () => {
  it('gives exactly the trading days of AAPL_data.csv, 2013-02-08 … 2018-02-07', () => {
    const traded = readFileSync(AAPL, 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => l !== '')
      .map((l) => l.slice(0, 10));
    expect(traded).toHaveLength(1259);
    expect(sessionsBetween('2013-02-08', '2018-02-07').map((s) => s.day)).toEqual(traded);
  });

  it('sessions run 09:30–16:00 New York time, in winter (EST) and summer (EDT)', () => {
    expect(sessionOf('2025-02-14')).toEqual({
      day: '2025-02-14',
      dayStart: at('2025-02-14T00:00:00Z'),
      open: at('2025-02-14T14:30:00Z'),
      close: at('2025-02-14T21:00:00Z'),
      earlyClose: false,
    });
    const summer = sessionOf('2025-07-07')!;
    expect([iso(summer.open), iso(summer.close)]).toEqual(['2025-07-07T13:30:00.000Z', '2025-07-07T20:00:00.000Z']);
    // The Monday after the spring change (2025-03-09) is already on EDT.
    expect(iso(sessionOf('2025-03-10')!.open)).toBe('2025-03-10T13:30:00.000Z');
    // A bar's timestamp (00:00 UTC of its day) names the day too.
    expect(sessionOf(at('2025-02-14T00:00:00Z'))?.day).toBe('2025-02-14');
  });

  it('closes at 13:00 the day after Thanksgiving, on Christmas Eve and July 3, when they are trading days', () => {
    const early = (d: string) => {
      const s = sessionOf(d);
      return s && { early: s.earlyClose, close: iso(s.close) };
    };
    expect(early('2026-11-27')).toEqual({ early: true, close: '2026-11-27T18:00:00.000Z' });
    expect(early('2026-12-24')).toEqual({ early: true, close: '2026-12-24T18:00:00.000Z' });
    expect(early('2025-07-03')).toEqual({ early: true, close: '2025-07-03T17:00:00.000Z' });
    expect(early('2018-07-03')).toEqual({ early: true, close: '2018-07-03T17:00:00.000Z' });
    // July 4, 2026 is a Saturday: Friday July 3 is the holiday, Thursday July 2 a full day.
    expect(sessionOf('2026-07-03')).toBeNull();
    expect(early('2026-07-02')).toEqual({ early: false, close: '2026-07-02T20:00:00.000Z' });
    // Christmas 2027 is a Saturday: Friday Dec 24 is the holiday, Thursday Dec 23 a full day.
    expect(sessionOf('2027-12-24')).toBeNull();
    expect(early('2027-12-23')?.early).toBe(false);
  });

  it('knows future holidays by rule, and the special closures', () => {
    const closed = [
      '2026-01-01',
      '2026-01-19', // MLK
      '2026-02-16', // Presidents
      '2026-04-03', // Good Friday
      '2026-05-25', // Memorial
      '2026-06-19', // Juneteenth
      '2026-07-03', // Independence, observed
      '2026-09-07', // Labor
      '2026-11-26', // Thanksgiving
      '2026-12-25',
      '2027-03-26', // Good Friday
      '2027-06-18', // Juneteenth on a Saturday: Friday
      '2027-07-05', // Independence on a Sunday: Monday
      '2012-10-29', // Hurricane Sandy
      '2012-10-30',
      '2018-12-05', // President Bush's day of mourning
      '2025-01-09', // President Carter's
    ];
    for (const d of closed) expect(sessionOf(d), d).toBeNull();
    // New Year 2028 is a Saturday: no Friday holiday in 2027.
    expect(sessionOf('2027-12-31')?.earlyClose).toBe(false);
    // New Year 2023 was a Sunday: Monday Jan 2 closed.
    expect(sessionOf('2023-01-02')).toBeNull();
  });

  it('answers open now, the session at a time, the next open and the last closed session', () => {
    // Friday 2025-02-14: open at 14:30 UTC, closed from 21:00.
    expect(isOpen(at('2025-02-14T14:29:59Z'))).toBe(false);
    expect(isOpen(at('2025-02-14T14:30:00Z'))).toBe(true);
    expect(isOpen(at('2025-02-14T20:59:59Z'))).toBe(true);
    expect(isOpen(at('2025-02-14T21:00:00Z'))).toBe(false);
    expect(sessionAt(at('2025-02-14T18:00:00Z'))?.day).toBe('2025-02-14');
    // After Friday's close the next open is Tuesday: Monday 2025-02-17 is Presidents Day.
    expect(iso(nextOpen(at('2025-02-14T21:00:00Z')))).toBe('2025-02-18T14:30:00.000Z');
    expect(iso(nextOpen(at('2025-02-18T14:30:00Z')))).toBe('2025-02-18T14:30:00.000Z');
    expect(nextSession(at('2025-02-18T15:00:00Z')).day).toBe('2025-02-19');
    // Weekend late evening in New York is the next UTC day: still Friday's session that closed last.
    expect(lastClosedSession(at('2025-02-17T03:00:00Z')).day).toBe('2025-02-14');
    expect(lastClosedSession(at('2025-02-14T20:59:00Z')).day).toBe('2025-02-13');
    expect(isOpen(at('2025-01-09T16:00:00Z'))).toBe(false); // a special closure
  });

  it('refuses a day that is not a calendar date', () => {
    expect(() => sessionOf('2025-02-30')).toThrow(/not a calendar day/);
  });
});
