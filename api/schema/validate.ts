// Argument checks shared by queries and subscriptions; each failure is a coded GraphQL error.

import { type BarInterval, INTERVAL_MS } from '../../operators/transforms/bars.js';
import type { ApiServices } from '../context.js';
import { apiError, ErrorCode } from '../errors.js';

const TICKER = /^[A-Z0-9][A-Z0-9.\-^=]{0,14}$/;

/** Upper-cases and checks one symbol: well-formed and known to the store or the feed. */
export async function knownSymbol(services: ApiServices, raw: string): Promise<string> {
  const symbol = raw.trim().toUpperCase();
  if (!TICKER.test(symbol) || !(await services.latest.has(symbol))) {
    throw apiError(ErrorCode.UNKNOWN_SYMBOL, `unknown symbol ${JSON.stringify(raw.slice(0, 20))}`, {
      symbols: [raw.slice(0, 20)],
    });
  }
  return symbol;
}

/** Checks a symbol list against `max` first (cheap), then that every symbol is known. */
export async function knownSymbols(services: ApiServices, raw: readonly string[], max: number): Promise<string[]> {
  if (raw.length > max) {
    throw apiError(ErrorCode.TOO_MANY_SYMBOLS, `at most ${max} symbols per request (got ${raw.length})`, { max });
  }
  if (raw.length === 0) throw apiError(ErrorCode.BAD_ARGUMENT, 'symbols: give at least one symbol');
  const symbols = [...new Set(raw.map((s) => s.trim().toUpperCase()))];
  const unknown: string[] = [];
  for (const s of symbols) {
    if (!TICKER.test(s) || !(await services.latest.has(s))) unknown.push(s.slice(0, 20));
  }
  if (unknown.length > 0) {
    // Quoted, so an empty or odd one shows as what it was ("" read as a trailing comma).
    const named = unknown.slice(0, 10).map((s) => JSON.stringify(s));
    throw apiError(ErrorCode.UNKNOWN_SYMBOL, `unknown symbol(s): ${named.join(', ')}`, {
      symbols: unknown,
    });
  }
  return symbols;
}

export function checkHorizon(services: ApiServices, horizon: number): number {
  if (!services.horizons.includes(horizon)) {
    throw apiError(
      ErrorCode.BAD_HORIZON,
      `no forecasts at horizon ${horizon}; horizons are ${services.horizons.join(', ')} trading days`,
      { horizons: [...services.horizons] },
    );
  }
  return horizon;
}

/** A bar interval the pipelines make (1d, 1m): any other would match no bar, and read as "no data". */
export function checkInterval(raw: string): BarInterval {
  const intervals = Object.keys(INTERVAL_MS) as BarInterval[];
  if (!(intervals as string[]).includes(raw)) {
    throw apiError(
      ErrorCode.BAD_INTERVAL,
      `no bars of interval ${JSON.stringify(raw.slice(0, 20))}; intervals are ${intervals.join(', ')}`,
      { intervals },
    );
  }
  return raw as BarInterval;
}

export function checkRange(from: number | null | undefined, to: number | null | undefined): void {
  if (from != null && to != null && from >= to) {
    throw apiError(ErrorCode.BAD_DATE, '`from` must be before `to`');
  }
}
