// The New York Stock Exchange's trading days (full sessions and early closes alike): weekdays
// that are not exchange holidays. Holidays follow NYSE Rule 7.2 (New Year's Day, Martin Luther
// King Jr. Day, Washington's Birthday, Good Friday, Memorial Day, Juneteenth from 2022,
// Independence Day, Labor Day, Thanksgiving, Christmas; a Sunday holiday is observed on Monday, a
// Saturday one on Friday, except New Year's Day, which then is not observed), plus the unscheduled
// closures since 2001. Days are 00:00 UTC of the New York date, as bars are stamped.

const DAY_MS = 86_400_000;

/** Closures outside the rules (September 11, national days of mourning, Hurricane Sandy). */
const SPECIAL_CLOSURES = [
  '2001-09-11',
  '2001-09-12',
  '2001-09-13',
  '2001-09-14',
  '2004-06-11',
  '2007-01-02',
  '2012-10-29',
  '2012-10-30',
  '2018-12-05',
  '2025-01-09',
];

const utc = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);

/** The `n`-th (1-based) given weekday (0 = Sunday) of a month; n = -1: the last. */
function nthWeekday(y: number, m: number, weekday: number, n: number): number {
  if (n > 0) {
    const first = new Date(utc(y, m, 1)).getUTCDay();
    return utc(y, m, 1 + ((weekday - first + 7) % 7) + 7 * (n - 1));
  }
  const lastDay = new Date(utc(y, m + 1, 0));
  return lastDay.getTime() - ((lastDay.getUTCDay() - weekday + 7) % 7) * DAY_MS;
}

/** Easter Sunday (Gregorian; anonymous algorithm, Meeus/Jones/Butcher). */
function easter(y: number): number {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return utc(y, month, day);
}

/** A fixed-date holiday moved off the weekend: Saturday → Friday, Sunday → Monday. */
function observed(t: number): number {
  const wd = new Date(t).getUTCDay();
  return wd === 6 ? t - DAY_MS : wd === 0 ? t + DAY_MS : t;
}

const holidaysByYear = new Map<number, Set<number>>();

/** The exchange holidays of a year (weekdays only), as 00:00 UTC of each day. */
export function nyseHolidays(y: number): ReadonlySet<number> {
  let out = holidaysByYear.get(y);
  if (out) return out;
  const days = [
    nthWeekday(y, 1, 1, 3), // Martin Luther King Jr. Day (3rd Monday of January)
    nthWeekday(y, 2, 1, 3), // Washington's Birthday
    easter(y) - 2 * DAY_MS, // Good Friday
    nthWeekday(y, 5, 1, -1), // Memorial Day
    observed(utc(y, 7, 4)),
    nthWeekday(y, 9, 1, 1), // Labor Day
    nthWeekday(y, 11, 4, 4), // Thanksgiving
    observed(utc(y, 12, 25)),
  ];
  const newYear = utc(y, 1, 1);
  const wd = new Date(newYear).getUTCDay();
  if (wd === 0) days.push(newYear + DAY_MS);
  else if (wd !== 6) days.push(newYear);
  if (y >= 2022) days.push(observed(utc(y, 6, 19)));
  for (const s of SPECIAL_CLOSURES) if (s.startsWith(`${y}-`)) days.push(Date.parse(`${s}T00:00:00Z`));
  out = new Set(days);
  holidaysByYear.set(y, out);
  return out;
}

/** True when the day containing `ts` (UTC date) is an NYSE trading day. */
export function isTradingDay(ts: number): boolean {
  const day = Math.floor(ts / DAY_MS) * DAY_MS;
  const wd = new Date(day).getUTCDay();
  if (wd === 0 || wd === 6) return false;
  return !nyseHolidays(new Date(day).getUTCFullYear()).has(day);
}

/**
 * Trading days strictly between the days of `a` and `b` (a < b): 0 for consecutive sessions
 * (Friday → Monday, or across a holiday), 1 when one session between them has no bar.
 */
export function tradingDaysBetween(a: number, b: number): number {
  let n = 0;
  const last = Math.floor(b / DAY_MS) * DAY_MS;
  // Bars are at most weeks apart in practice; a long gap is counted day by day all the same.
  for (let d = Math.floor(a / DAY_MS) * DAY_MS + DAY_MS; d < last; d += DAY_MS) if (isTradingDay(d)) n++;
  return n;
}

/** Cache of addTradingDays by (start day, n): the predict node asks the same few per batch. */
const ahead = new Map<number, number>();

/**
 * `ts` moved forward by `n` NYSE trading days (a weekend or holiday start counts its next session
 * as day 1), keeping the time of day: the day a forecast made at `ts` for horizon `n` is realised.
 */
export function addTradingDays(ts: number, n: number): number {
  const day = Math.floor(ts / DAY_MS) * DAY_MS;
  const key = (day / DAY_MS) * 1024 + n;
  let target = n < 1024 ? ahead.get(key) : undefined;
  if (target === undefined) {
    target = day;
    for (let left = n; left > 0; ) {
      target += DAY_MS;
      if (isTradingDay(target)) left--;
    }
    if (ahead.size > 200_000) ahead.clear();
    if (n < 1024) ahead.set(key, target);
  }
  return ts + (target - day);
}

/** The first trading day after the day of `ts` (00:00 UTC). */
export function nextTradingDay(ts: number): number {
  return addTradingDays(Math.floor(ts / DAY_MS) * DAY_MS, 1);
}

/** The UTC date of an epoch-ms time as YYYY-MM-DD (a day as bars and targets stamp it). */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
