// The watchlist's symbols, kept in localStorage (per browser; no account needed).
import { ApiError } from './api';
import { changePct } from './format';
import type { Prediction } from './types';

const KEY = 'tickcast.watchlist';

export function loadWatchlist(): string[] | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (raw === null) return null;
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === 'string') : null;
  } catch {
    return null;
  }
}

export function saveWatchlist(symbols: readonly string[]): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(symbols));
  } catch {
    // Private mode or a full quota: the list still works for this session.
  }
}

// The table's logic, apart from the view (views/Watchlist.svelte): what a row shows and how the
// rows are filtered, sorted, held, windowed and updated.

/** What a row's logic reads: its symbol, latest prediction and when that arrived. */
export interface RowState {
  readonly symbol: string;
  prediction: Prediction | null;
  /** Wall-clock ms when the row's prediction arrived (or was loaded). */
  receivedAt: number | null;
}

export type SortKey = 'symbol' | 'last' | 'predicted' | 'change' | 'rank' | 'width' | 'model' | 'age';
export type Filter = 'all' | 'up' | 'down' | 'earnings' | 'waiting';
export type SortDir = 1 | -1;

/** Points in a row's sparkline. */
export const SPARK_POINTS = 30;

/** Predicted change from the last close, %. */
export const change = (p: Prediction): number => changePct(p.lastClose, p.predictedClose);
/** The 80% interval's width, % of the predicted close. */
export const width = (p: Prediction): number => ((p.interval.upper - p.interval.lower) / p.predictedClose) * 100;

/**
 * What a row sorts by: rows still waiting for a prediction sort last (first descending). `rank` is
 * the prediction's rank score, the net's ranking signal (not a forecast): highest first when sorted
 * descending, rows without one (a baseline ships) after those with one.
 */
export function sortValue(r: RowState, key: SortKey): number | string {
  const p = r.prediction;
  switch (key) {
    case 'symbol':
      return r.symbol;
    case 'model':
      return p?.modelVersion ?? '';
    case 'age':
      return r.receivedAt === null ? Number.POSITIVE_INFINITY : -r.receivedAt;
    default:
      if (!p) return Number.NEGATIVE_INFINITY;
      if (key === 'rank') return p.rankScore ?? -Number.MAX_VALUE;
      return key === 'last'
        ? p.lastClose
        : key === 'predicted'
          ? p.predictedClose
          : key === 'change'
            ? change(p)
            : width(p);
  }
}

/** Whether a row passes the search (a part of its symbol, any case) and the filter. */
export function matches(r: RowState, search: string, filter: Filter): boolean {
  const needle = search.trim().toUpperCase();
  if (needle && !r.symbol.includes(needle)) return false;
  const p = r.prediction;
  if (filter === 'up') return p !== null && p.predictedClose > p.lastClose;
  if (filter === 'down') return p !== null && p.predictedClose < p.lastClose;
  if (filter === 'earnings') return p?.regime === 'earnings';
  if (filter === 'waiting') return p === null;
  return true;
}

/**
 * The rows shown, in order: those that match, sorted by `sortKey` in `sortDir` (stable), or, while
 * an order is held (`held`: symbol → position), in that order with rows it does not know last.
 */
export function visibleRows<R extends RowState>(
  rows: readonly R[],
  view: {
    search: string;
    filter: Filter;
    sortKey: SortKey;
    sortDir: SortDir;
    held: ReadonlyMap<string, number> | null;
  },
): R[] {
  const out = rows.filter((r) => matches(r, view.search, view.filter));
  const held = view.held;
  if (held) return out.sort((a, b) => (held.get(a.symbol) ?? held.size) - (held.get(b.symbol) ?? held.size));
  const keyed = out.map((r) => [sortValue(r, view.sortKey), r] as const);
  const dir = view.sortDir;
  keyed.sort((a, b) => (a[0] < b[0] ? -dir : a[0] > b[0] ? dir : 0));
  return keyed.map(([, r]) => r);
}

/** A click on a column: the same one flips the direction; another sorts by it, text ascending, figures descending. */
export function nextSort(current: { key: SortKey; dir: SortDir }, key: SortKey): { key: SortKey; dir: SortDir } {
  if (current.key === key) return { key, dir: current.dir === 1 ? -1 : 1 };
  return { key, dir: key === 'symbol' || key === 'model' ? 1 : -1 };
}

/**
 * The order to hold while focus is in the table: the visible order, except that the rows on screen
 * (`shown`, in DOM order, which can lag the state by one flush) keep the places they are shown in.
 */
export function holdOrder(order: readonly string[], shown: readonly string[]): Map<string, number> {
  const result = [...order];
  const inOrder = new Set(order);
  const onScreen = shown.filter((s) => inOrder.has(s));
  const onScreenSet = new Set(onScreen);
  let k = 0;
  for (let i = 0; i < result.length; i++) if (onScreenSet.has(result[i]!)) result[i] = onScreen[k++]!;
  return new Map(result.map((s, i) => [s, i]));
}

/**
 * The rows to render, [start, end), for a table body whose top is `top` px from the viewport's
 * (negative once scrolled past), rows of `rowHeight`, and `overscan` rows either side.
 */
export function rowWindow(
  top: number,
  viewportHeight: number,
  count: number,
  rowHeight: number,
  overscan: number,
): { start: number; end: number } {
  const first = Math.max(0, Math.floor(-top / rowHeight));
  return {
    start: Math.max(0, first - overscan),
    end: Math.min(count, first + Math.ceil(viewportHeight / rowHeight) + overscan),
  };
}

/**
 * A prediction for a row whose current one is `prev`: null to ignore it (another horizon, or older
 * than what the row shows); else the row's new spark, the last close appended (at most
 * SPARK_POINTS) when the prediction is for a newer input day, unchanged when it replaces the same day's.
 */
export function nextSpark(prev: Prediction | null, spark: number[], p: Prediction): number[] | null {
  if (p.horizon !== 1) return null;
  if (prev && prev.inputTime > p.inputTime) return null;
  if (prev && prev.inputTime === p.inputTime) return spark;
  return spark.length >= SPARK_POINTS ? [...spark.slice(1), p.lastClose] : [...spark, p.lastClose];
}

/** `xs` in consecutive parts of at most `n`. */
export function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** The symbols typed in the add box: separated by spaces or commas, upper-cased, blanks dropped. */
export function parseSymbols(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
}

/** What the add box says when the API refuses symbols: unknown ones by name, else the error. */
export function addErrorText(err: unknown, fresh: readonly string[]): string {
  if (err instanceof ApiError && err.code === 'UNKNOWN_SYMBOL')
    return `Unknown symbol: ${err.symbols.join(', ') || fresh.join(', ')} — tickcast has no data for it.`;
  return err instanceof Error ? err.message : String(err);
}

/** The one-line message for an error that stops the view loading. */
export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The notice for a background refresh that failed (predictions, rechecks, sparklines): the list
 * stays as it was and keeps retrying, but the user is told what is stale and why.
 */
export function refreshErrorText(what: 'predictions' | 'sparklines', err: unknown): string {
  const why = err instanceof ApiError && err.code ? `${err.message} (${err.code})` : errorText(err);
  return `Could not refresh ${what}: ${why}. Showing the last values; retrying.`;
}
