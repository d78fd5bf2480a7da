// The NYSE's sessions in time: when the market is open, when it next opens, and the session of a
// day. The trading days themselves (holidays by rule, observed days, special closures such as
// 2012-10-29/30, 2018-12-05, 2025-01-09) come from trading-calendar.ts, which is checked against
// every bundled trading day; this module adds the hours:
//   - regular session 09:30–16:00 New York time (DST-correct: the offset comes from the time
//     zone database, so 14:30–21:00 UTC in winter, 13:30–20:00 UTC in summer);
//   - early closes at 13:00 New York time on the day after Thanksgiving, on Christmas Eve and on
//     July 3, each when it is a trading day (so not when July 3 or December 24 is itself the
//     observed holiday or a weekend).
// No library: the npm ones are holiday lists only (no sessions or early closes), read dates in
// the machine's local time zone, and the maintained-looking one (nyse-holidays 1.2.0, 2024-12)
// predates the 2025-01-09 closure.
import { isTradingDay } from './trading-calendar.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
export const NEW_YORK = 'America/New_York';

export interface Session {
  /** The trading day, YYYY-MM-DD (New York date). */
  day: string;
  /** 00:00 UTC of that date: the day's bars are stamped with it. */
  dayStart: number;
  /** 09:30 New York time, epoch ms. */
  open: number;
  /** 16:00 New York time (13:00 on an early close), epoch ms. */
  close: number;
  earlyClose: boolean;
}

const nyParts = new Intl.DateTimeFormat('en-US', {
  timeZone: NEW_YORK,
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

/** New York's offset from UTC at `t`, ms (e.g. −5 h in winter). */
export function newYorkOffset(t: number): number {
  const p: Record<string, number> = {};
  for (const { type, value } of nyParts.formatToParts(t)) if (type !== 'literal') p[type] = Number(value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - Math.floor(t / 1000) * 1000;
}

/** Epoch ms of a New York wall-clock time on the date whose 00:00 UTC is `dayStart`. */
export function newYorkTime(dayStart: number, hour: number, minute: number): number {
  const wall = dayStart + hour * 3_600_000 + minute * MINUTE_MS;
  // The offset at the guess is the offset at the answer, except within an hour of a DST change (02:00).
  return wall - newYorkOffset(wall - newYorkOffset(wall));
}

/** 00:00 UTC of the New York date at instant `t`. */
export function newYorkDay(t: number): number {
  return Math.floor((t + newYorkOffset(t)) / DAY_MS) * DAY_MS;
}

const iso = (dayStart: number) => new Date(dayStart).toISOString().slice(0, 10);

function parseDay(day: number | string): number {
  if (typeof day === 'number') return Math.floor(day / DAY_MS) * DAY_MS;
  const t = Date.parse(`${day}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(t) || iso(t) !== day) {
    throw new RangeError(`not a calendar day: ${JSON.stringify(day)} (YYYY-MM-DD)`);
  }
  return t;
}

/** 13:00 closes: the day after Thanksgiving, Christmas Eve and July 3, when trading days. */
function isEarlyClose(dayStart: number): boolean {
  const d = new Date(dayStart);
  const m = d.getUTCMonth() + 1;
  const date = d.getUTCDate();
  if (m === 12 && date === 24) return true;
  if (m === 7 && date === 3) return true;
  // The Friday after the fourth Thursday of November: Friday the 23rd to the 29th.
  return m === 11 && d.getUTCDay() === 5 && date >= 23 && date <= 29;
}

/**
 * The session of a day (`YYYY-MM-DD`, or any epoch ms in its UTC date: bar timestamps work), or
 * null when the exchange does not trade that day (weekend, holiday, special closure).
 */
export function sessionOf(day: number | string): Session | null {
  const dayStart = parseDay(day);
  if (!isTradingDay(dayStart)) return null;
  const early = isEarlyClose(dayStart);
  return {
    day: iso(dayStart),
    dayStart,
    open: newYorkTime(dayStart, 9, 30),
    close: newYorkTime(dayStart, early ? 13 : 16, 0),
    earlyClose: early,
  };
}

/** The session open at `t` (open ≤ t < close), or null. */
export function sessionAt(t: number): Session | null {
  const s = sessionOf(newYorkDay(t));
  return s && t >= s.open && t < s.close ? s : null;
}

/** True while a regular session runs (09:30 to its close, New York time). */
export function isOpen(t: number): boolean {
  return sessionAt(t) !== null;
}

/** The first session whose open is at or after `t` (a session running at `t` is not it). */
export function nextSession(t: number): Session {
  for (let day = newYorkDay(t); ; day += DAY_MS) {
    const s = sessionOf(day);
    if (s && s.open >= t) return s;
  }
}

/** When the market next opens, at or after `t`. */
export function nextOpen(t: number): number {
  return nextSession(t).open;
}

/** The latest session that had closed by `t` (close ≤ t). */
export function lastClosedSession(t: number): Session {
  for (let day = newYorkDay(t); ; day -= DAY_MS) {
    const s = sessionOf(day);
    if (s && s.close <= t) return s;
  }
}

/** Sessions whose day is in [from, to] (days as YYYY-MM-DD or epoch ms), oldest first. */
export function sessionsBetween(from: number | string, to: number | string): Session[] {
  const out: Session[] = [];
  for (let day = parseDay(from), end = parseDay(to); day <= end; day += DAY_MS) {
    const s = sessionOf(day);
    if (s) out.push(s);
  }
  return out;
}
