// Earnings announcement dates per symbol: the router sends a bar to the earnings model when its
// next-day return spans an announcement, and explanations cite the last and next announcements.
// Dates are UTC calendar days (epoch ms at 00:00Z), as the daily bars' ts are.
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { nextTradingDay } from './trading-calendar.js';

const DAY_MS = 86_400_000;

export interface EarningsEvent {
  /** Announcement day, epoch ms at 00:00 UTC (time of day is not known: before the open or after the close). */
  date: number;
  epsEstimate: number | null;
  epsActual: number | null;
  /** EPS surprise in percent as the source reports it (eps_pct_diff); null when not reported. */
  surprisePct: number | null;
}

export interface EarningsCalendar {
  /** Announcements held, all symbols together. */
  readonly size: number;
  /** Symbols with at least one announcement, sorted. */
  symbols(): string[];
  /**
   * True when the next-day return of the bar at `ts` (UTC day D) spans an announcement: one on D
   * (after the close) or after D up to and including the next NYSE trading day (`nextTradingDay`:
   * before its open, or over a weekend or exchange holiday).
   */
  isEarningsWindow(symbol: string, ts: number): boolean;
  /** First announcement on or after the UTC day of `ts` (it may still come after today's close). */
  nextEarnings(symbol: string, ts: number): EarningsEvent | null;
  /** Last announcement strictly before the UTC day of `ts`: known at that bar, so no look-ahead. */
  lastEarnings(symbol: string, ts: number): EarningsEvent | null;
}

export interface EarningsRow extends EarningsEvent {
  symbol: string;
}

/** UTC day start of an epoch-ms time. */
function utcDay(ts: number): number {
  return Math.floor(ts / DAY_MS) * DAY_MS;
}

/** Index of the first element >= x in a sorted array (its length when there is none). */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface SymbolEvents {
  /** Sorted, distinct: binary searches run on this, not on the objects. */
  dates: number[];
  events: EarningsEvent[];
}

/** A calendar from announcements in any order; a repeated (symbol, date) keeps the later row. */
export function createEarningsCalendar(rows: Iterable<EarningsRow>): EarningsCalendar {
  const bySymbol = new Map<string, Map<number, EarningsEvent>>();
  for (const { symbol, date, epsEstimate, epsActual, surprisePct } of rows) {
    let m = bySymbol.get(symbol);
    if (!m) {
      m = new Map();
      bySymbol.set(symbol, m);
    }
    m.set(utcDay(date), { date: utcDay(date), epsEstimate, epsActual, surprisePct });
  }
  const table = new Map<string, SymbolEvents>();
  let size = 0;
  for (const [symbol, m] of bySymbol) {
    const events = [...m.values()].sort((a, b) => a.date - b.date);
    table.set(symbol, { dates: events.map((e) => e.date), events });
    size += events.length;
  }
  const symbols = [...table.keys()].sort();

  return {
    size,
    symbols: () => [...symbols],
    isEarningsWindow(symbol, ts) {
      const s = table.get(symbol);
      if (!s) return false;
      const day = utcDay(ts);
      const next = s.dates[lowerBound(s.dates, day)];
      return next !== undefined && next <= nextTradingDay(day);
    },
    nextEarnings(symbol, ts) {
      const s = table.get(symbol);
      if (!s) return null;
      const e = s.events[lowerBound(s.dates, utcDay(ts))];
      return e ? { ...e } : null;
    },
    lastEarnings(symbol, ts) {
      const s = table.get(symbol);
      if (!s) return null;
      const e = s.events[lowerBound(s.dates, utcDay(ts)) - 1];
      return e ? { ...e } : null;
    },
  };
}

/** No announcements: every bar is a normal day. */
export function emptyEarningsCalendar(): EarningsCalendar {
  return createEarningsCalendar([]);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDate(s: string, where: string): number {
  const m = DATE.exec(s);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  // Date.UTC rolls 2013-02-30 over to March: round-tripping catches impossible dates.
  if (!m || new Date(t).toISOString().slice(0, 10) !== s)
    throw new Error(`${where}: date ${JSON.stringify(s)} is not YYYY-MM-DD`);
  return t;
}

function parseNumber(s: string | undefined, column: string, where: string): number | null {
  if (s === undefined || s === '') return null;
  const x = Number(s);
  if (!Number.isFinite(x)) throw new Error(`${where}: ${column} ${JSON.stringify(s)} is not a number`);
  return x;
}

/**
 * A calendar from the text of an earnings CSV with columns dates, ticker and optionally
 * eps_estimate, eps_actual, eps_pct_diff (others, e.g. country and category, are ignored).
 * Empty EPS cells become null; a bad date or number throws, naming the source and row.
 */
export function parseEarningsCsv(text: string, source = 'earnings csv'): EarningsCalendar {
  return createEarningsCalendar(parseRows(text, source));
}

function parseRows(text: string, source: string): EarningsRow[] {
  const records = parse(text, { skip_empty_lines: true, trim: true, bom: true }) as string[][];
  const header = records[0];
  if (!header) return [];
  const col = (name: string, required: boolean): number => {
    const i = header.indexOf(name);
    if (i < 0 && required) throw new Error(`${source}: missing column ${name} (have ${header.join(', ')})`);
    return i;
  };
  const iDate = col('dates', true);
  const iTicker = col('ticker', true);
  const iEst = col('eps_estimate', false);
  const iAct = col('eps_actual', false);
  const iPct = col('eps_pct_diff', false);
  const rows: EarningsRow[] = [];
  for (let r = 1; r < records.length; r++) {
    const rec = records[r]!;
    const where = `${source} row ${r + 1}`;
    const symbol = (rec[iTicker] ?? '').toUpperCase();
    if (symbol === '') throw new Error(`${where}: ticker is empty`);
    rows.push({
      symbol,
      date: parseDate(rec[iDate] ?? '', where),
      epsEstimate: iEst < 0 ? null : parseNumber(rec[iEst], 'eps_estimate', where),
      epsActual: iAct < 0 ? null : parseNumber(rec[iAct], 'eps_actual', where),
      surprisePct: iPct < 0 ? null : parseNumber(rec[iPct], 'eps_pct_diff', where),
    });
  }
  return rows;
}

/** Reads an earnings CSV (see parseEarningsCsv) into a calendar. */
export async function loadEarningsCalendar(file: string): Promise<EarningsCalendar> {
  return parseEarningsCsv(await readFile(file, 'utf8'), file);
}

/** A calendar the live source keeps current: upcoming dates (e.g. from Yahoo) over a base calendar. */
export interface LiveEarningsCalendar extends EarningsCalendar {
  /**
   * The upcoming announcement days of `symbol` (epoch ms, any time in the UTC day) replace the ones
   * set before from today (the UTC day of `now`) on; days set before today stay, as past
   * announcements. The base calendar's rows are kept: a day in both is the base's (it has EPS).
   */
  setUpcoming(symbol: string, days: readonly number[], now: number): void;
  /** Symbols given upcoming days, and when last (epoch ms). */
  readonly updated: ReadonlyMap<string, number>;
}

/**
 * A calendar that the live source updates while the router and features read it (synchronously,
 * on every bar). One object per process: with the memory transport the source and the router
 * share it; with Kafka only processes running the source see the updates (operators/README.md).
 */
export function createLiveEarningsCalendar(base: EarningsCalendar = emptyEarningsCalendar()): LiveEarningsCalendar {
  /** Sorted distinct UTC days per symbol. */
  const upcoming = new Map<string, number[]>();
  const updated = new Map<string, number>();
  const event = (date: number): EarningsEvent => ({ date, epsEstimate: null, epsActual: null, surprisePct: null });
  const later = (a: EarningsEvent | null, b: EarningsEvent | null) => (!a ? b : !b ? a : b.date > a.date ? b : a);
  const sooner = (a: EarningsEvent | null, b: EarningsEvent | null) => (!a ? b : !b ? a : b.date < a.date ? b : a);
  return {
    get size() {
      let n = base.size;
      for (const days of upcoming.values()) n += days.length;
      return n;
    },
    symbols: () => [...new Set([...base.symbols(), ...upcoming.keys()])].sort(),
    isEarningsWindow(symbol, ts) {
      if (base.isEarningsWindow(symbol, ts)) return true;
      const days = upcoming.get(symbol);
      if (!days) return false;
      const day = utcDay(ts);
      const next = days[lowerBound(days, day)];
      return next !== undefined && next <= nextTradingDay(day);
    },
    nextEarnings(symbol, ts) {
      const days = upcoming.get(symbol);
      const own = days?.[lowerBound(days, utcDay(ts))];
      const fromBase = base.nextEarnings(symbol, ts);
      // The same day in both: the base's row, with its EPS.
      return own === undefined || fromBase?.date === own ? fromBase : sooner(fromBase, event(own));
    },
    lastEarnings(symbol, ts) {
      const days = upcoming.get(symbol);
      const own = days?.[lowerBound(days, utcDay(ts)) - 1];
      const fromBase = base.lastEarnings(symbol, ts);
      return own === undefined || fromBase?.date === own ? fromBase : later(fromBase, event(own));
    },
    setUpcoming(symbol, given, now) {
      const today = utcDay(now);
      const kept = (upcoming.get(symbol) ?? []).filter((d) => d < today);
      const days = [...new Set([...kept, ...given.map(utcDay)])].sort((a, b) => a - b);
      if (days.length > 0) upcoming.set(symbol, days);
      else upcoming.delete(symbol);
      updated.set(symbol, now);
    },
    updated,
  };
}
