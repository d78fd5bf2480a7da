// yahoo-client: the one door to Yahoo Finance for the `yahoo` source. It wraps ONE yahoo-finance2
// v3 instance (the library keeps its crumb and request queue per process, so a second instance
// would share them anyway) and makes it behave against a service that fails:
//
//   call ─▶ circuit breaker (per endpoint) ─▶ retries (backoff + jitter) ─▶ yahoo-finance2 ─▶ yahoo-fetch
//             open: fail fast                  429, 5xx, timeouts, cuts     its queue:          rate limit, Retry-After pause,
//             (YahooCircuitOpenError)          stale session: refresh,      `concurrency`       timeout, typed HTTP errors
//                                              then retry once
//
//   - quotes(symbols) in batches of at most 100 (Yahoo refuses more: yahoo-finance2 #901); a
//     record failing yahoo-finance2's schema validation is reported in `invalid` with the
//     reason and the rest of its batch is used; a symbol Yahoo leaves out is in `missing`; a
//     batch that fails as a whole (breaker open, retries spent) is in `failed`, the others used.
//   - dailyHistory via chart (1d), news via search, upcomingEarnings via quoteSummary
//     calendarEvents (404 for ETFs, crypto, funds… → null).
//   - `events` reports requests (kind, status), retries, session refreshes, Retry-After pauses
//     and breaker state changes, for the source to count with prom-client.
// Tests point it at the Yahoo fixture server (test/support/yahoo-fixture-server.ts) with `baseUrl`.
// Make one client per process (the composition root) and share it: backfill, quotes, news and
// earnings then draw on one rate limit, one session and one set of breakers.
// Libraries: yahoo-finance2 3.15 (the last major on Node 20; it warns below Node 22, which its
// engines do not require), p-retry, p-throttle (maintained; bottleneck has had no release since
// 2019), cockatiel for the breakers (ConsecutiveBreaker: "N failures in a row"; opossum trips on
// an error percentage over a rolling window, and its current major needs Node 22).
import { EventEmitter } from 'node:events';
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import pRetry, { AbortError } from 'p-retry';
import YahooFinance from 'yahoo-finance2';
import { ExtendedCookieJar } from 'yahoo-finance2/lib/cookieJar';
import { getCrumbClear } from 'yahoo-finance2/lib/getCrumb';
import type { QuoteField } from 'yahoo-finance2/modules/quote';
import type { BreakerState } from '../../engine/source-status.js';
import { type Clock, createRateLimiter, type RateLimiter } from './rate-limit.js';
import {
  classify,
  countsAsFailure,
  isTransient,
  YahooCircuitOpenError,
  type YahooEndpoint,
  YahooNotFoundError,
  type YahooRequestKind,
  YahooSessionError,
} from './yahoo-errors.js';
import { createYahooFetch, type YahooRequestEvent } from './yahoo-fetch.js';
import {
  type DailyHistory,
  type NewsItem,
  type QuoteFields,
  toDailyHistory,
  toNewsItem,
  toQuoteFields,
  toUpcomingEarnings,
  type UpcomingEarnings,
} from './yahoo-records.js';

export type { Clock } from './rate-limit.js';
export * from './yahoo-errors.js';
export type { YahooRequestEvent } from './yahoo-fetch.js';
export type { DailyBar, DailyHistory, NewsItem, QuoteFields, UpcomingEarnings } from './yahoo-records.js';

/**
 * The quote fields asked of Yahoo (`fields=`): what toQuoteFields reads, and the fields
 * yahoo-finance2's Quote schema requires of some quote types only (futures, options, alt symbols),
 * which Yahoo's essentials (quoteType, language, exchange, marketState… the rest of what it
 * requires) may not cover; a record without them would be refused. An equity's record then has
 * ~30 fields instead of ~80: yahoo-finance2 validates each record against the schema of every
 * quote type until one fits, walking all its fields each time, and that walk was most of a quote
 * cycle's CPU (bench/README.md, yahoo.bench.ts).
 */
export const QUOTE_FIELDS = [
  'symbol',
  'quoteType',
  'regularMarketPrice',
  'regularMarketTime',
  'regularMarketOpen',
  'regularMarketDayHigh',
  'regularMarketDayLow',
  'regularMarketVolume',
  'regularMarketPreviousClose',
  'currency',
  'exchange',
  'exchangeTimezoneName',
  'marketState',
  // Required by the FUTURE, OPTION and ALTSYMBOL schemas only.
  'contractSymbol',
  'underlyingExchangeSymbol',
  'underlyingSymbol',
  'expireDate',
  'expireIsoDate',
  'strike',
  'openInterest',
] as const satisfies readonly QuoteField[];

/** Yahoo refuses quote requests for more symbols than this (yahoo-finance2 issue #901). */
export const MAX_QUOTE_BATCH = 100;
export const YAHOO_ENDPOINTS: readonly YahooEndpoint[] = ['quote', 'chart', 'search', 'quoteSummary'];

export interface YahooClientOptions {
  /** Origin standing in for Yahoo (tests: the fixture server's url); unset: the real Yahoo. */
  baseUrl?: string;
  /** Shared budget of HTTP requests a minute, every call and the session flow included; default 120; 0 or Infinity: none. */
  requestsPerMinute?: number;
  /** Requests that may start back to back; default one second's worth of the rate. */
  burst?: number;
  /** yahoo-finance2's queue: requests in flight at once; default 4. */
  concurrency?: number;
  /** Per HTTP request, headers and body; default 15 s. */
  timeoutMs?: number;
  /** Retries of a transient failure (429, 5xx, timeout, cut connection, body not JSON); default 3. */
  retries?: number;
  /** First backoff, doubling each retry, times a random factor in [1, 2); default 1 s. */
  retryMinDelayMs?: number;
  /** Longest backoff; default 30 s. */
  retryMaxDelayMs?: number;
  /** Consecutive failed calls that open an endpoint's breaker; default 5. */
  breakerThreshold?: number;
  /** How long an open breaker refuses calls before one probe goes through; default 30 s. */
  breakerHalfOpenAfterMs?: number;
  /** Longest a call waits for a Retry-After pause before failing (YahooRateLimitedError); default 60 s. */
  maxPauseWaitMs?: number;
  /** Symbols per quote request, at most 100; default 100. */
  batchSize?: number;
  /**
   * Quote types yahoo-finance2's validation tries first (default EQUITY, ETF: what a stock
   * universe holds); [] keeps the library's order. Changes no result, only the work.
   */
  quoteTypesFirst?: readonly string[];
  /** The fetch underneath (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Time for the Retry-After pause (tests check waits without waiting). */
  clock?: Clock;
  /** Warnings and errors of yahoo-finance2 (default: console.warn). */
  log?: (level: 'warn' | 'error', message: string) => void;
}

/** Breaker states: engine/source-status.ts (the API shows them). */
export type { BreakerState };

export interface YahooClientEvents {
  /** Every HTTP request: what for, its status (or timeout/network), how long. */
  request: [YahooRequestEvent];
  /** A call tries again: after a transient failure (with backoff) or a session refresh. */
  retry: [{ endpoint: YahooEndpoint; attempt: number; reason: 'transient' | 'session'; error: Error }];
  /** The cookie/crumb session was thrown away; the next call fetches a new one. */
  session: [{ reason: string }];
  /** Yahoo asked for a pause (Retry-After): no request starts until it ends. */
  pause: [{ kind: YahooRequestKind; retryAfterMs: number }];
  breaker: [{ endpoint: YahooEndpoint; state: BreakerState }];
}

export interface QuotesResult {
  /** By the symbol as asked. */
  quotes: Map<string, QuoteFields>;
  /** Asked, and not in Yahoo's answer (unknown, delisted, or left out of a partial batch). */
  missing: string[];
  /** In Yahoo's answer but unusable: failed yahoo-finance2's schema validation, no price or time… */
  invalid: Array<{ symbol?: string; reason: string }>;
  /** Batches that failed as a whole (e.g. YahooCircuitOpenError, retries spent); other batches are still used. */
  failed: Array<{ symbols: string[]; error: Error }>;
}

export interface NewsResult {
  items: NewsItem[];
  invalid: Array<{ uuid?: string; reason: string }>;
}

/** A day 'YYYY-MM-DD' (UTC midnight), a Date, or epoch ms. */
export type DateInput = string | number | Date;

export interface YahooClient {
  quotes(symbols: readonly string[]): Promise<QuotesResult>;
  /** Daily bars in [from, to) (Yahoo's period1/period2, UTC). Unknown symbol: YahooNotFoundError. */
  dailyHistory(symbol: string, from: DateInput, to: DateInput): Promise<DailyHistory>;
  /** Recent headlines Yahoo's search gives for the symbol (default 10). */
  news(symbol: string, opts?: { count?: number }): Promise<NewsResult>;
  /** The next earnings date(s), or null when Yahoo has none (ETF, crypto, fund, index…). */
  upcomingEarnings(symbol: string): Promise<UpcomingEarnings | null>;
  breakerStates(): Record<YahooEndpoint, BreakerState>;
  /** Throw the cookie/crumb session away now (calls do it themselves on "Invalid Crumb"). */
  refreshSession(reason?: string): Promise<void>;
  readonly events: EventEmitter<YahooClientEvents>;
  readonly limiter: RateLimiter;
}

interface Breaker {
  execute<T>(fn: () => Promise<T>): Promise<T>;
  state: BreakerState;
  openedAt: number;
}

export function createYahooClient(opts: YahooClientOptions = {}): YahooClient {
  const events = new EventEmitter<YahooClientEvents>();
  const log = opts.log ?? ((level, message) => console.warn(`[yahoo] ${level}: ${message}`));
  const batchSize = Math.min(MAX_QUOTE_BATCH, Math.max(1, opts.batchSize ?? MAX_QUOTE_BATCH));
  const limiter = createRateLimiter({
    requestsPerMinute: opts.requestsPerMinute ?? 120,
    ...(opts.burst !== undefined ? { burst: opts.burst } : {}),
    maxPauseWaitMs: opts.maxPauseWaitMs ?? 60_000,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const cookieJar = new ExtendedCookieJar();
  const yf = new YahooFinance({
    fetch: createYahooFetch({
      limiter,
      timeoutMs: opts.timeoutMs ?? 15_000,
      ...(opts.baseUrl !== undefined ? { baseUrl: opts.baseUrl } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.clock ? { now: () => opts.clock!.now() } : {}),
      onRequest: (e) => events.emit('request', e),
      onPause: (e) => events.emit('pause', e),
    }),
    cookieJar,
    queue: { concurrency: opts.concurrency ?? 4 },
    // Validation errors are ours to report (per record), not the library's to print.
    validation: { logErrors: false },
    versionCheck: false,
    suppressNotices: ['yahooSurvey'],
    logger: libraryLogger(log),
  });
  validateQuoteTypesFirst(yf, opts.quoteTypesFirst ?? ['EQUITY', 'ETF'], log);

  // --- the session: yahoo-finance2 fetches a cookie and crumb when it has none -----------------
  // The library keeps its crumb per process, and once it has one it stops checking the cookies
  // behind it: a new client starts from a clean session (and a stale one is caught as "Invalid
  // Cookie"/"Invalid Crumb" below).
  const clean = getCrumbClear(cookieJar);
  let generation = 0;
  let refreshing: Promise<void> | undefined;
  const refreshSession = (reason: string, seen = generation): Promise<void> => {
    if (refreshing) return refreshing;
    if (seen !== generation) return Promise.resolve(); // another call refreshed it meanwhile
    refreshing = (async () => {
      // Forgets the crumb (kept per process by the library) and every cookie of our jar.
      await getCrumbClear(cookieJar);
      generation++;
      events.emit('session', { reason });
    })().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  // --- retries ---------------------------------------------------------------------------------
  const withRetries = <T>(endpoint: YahooEndpoint, op: () => Promise<T>): Promise<T> => {
    let sessionRefreshed = false;
    return pRetry(
      async () => {
        const seen = generation;
        let error: Error;
        try {
          return await op();
        } catch (e) {
          error = classify(e);
        }
        if (error instanceof YahooSessionError && !sessionRefreshed) {
          // Once per call: refresh, then try again at once. A second session failure ends the call.
          sessionRefreshed = true;
          events.emit('retry', { endpoint, attempt: 1, reason: 'session', error });
          await refreshSession(error.message, seen);
          try {
            return await op();
          } catch (e) {
            error = classify(e);
          }
        }
        if (isTransient(error)) throw error;
        throw new AbortError(error);
      },
      {
        retries: opts.retries ?? 3,
        factor: 2,
        minTimeout: opts.retryMinDelayMs ?? 1_000,
        maxTimeout: opts.retryMaxDelayMs ?? 30_000,
        randomize: true,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft > 0) events.emit('retry', { endpoint, attempt: attemptNumber, reason: 'transient', error });
        },
      },
    );
  };

  // --- circuit breakers ------------------------------------------------------------------------
  const halfOpenAfter = opts.breakerHalfOpenAfterMs ?? 30_000;
  const makeBreaker = (endpoint: YahooEndpoint): Breaker => {
    const policy = circuitBreaker(handleWhen(countsAsFailure), {
      halfOpenAfter,
      breaker: new ConsecutiveBreaker(opts.breakerThreshold ?? 5),
    });
    const breaker: Breaker = {
      state: 'closed',
      openedAt: 0,
      async execute(fn) {
        try {
          return await policy.execute(fn);
        } catch (e) {
          if (e instanceof BrokenCircuitError)
            throw new YahooCircuitOpenError(endpoint, breaker.openedAt + halfOpenAfter);
          throw e;
        }
      },
    };
    policy.onStateChange((s) => {
      const state: BreakerState =
        s === CircuitState.Open ? 'open' : s === CircuitState.HalfOpen ? 'half-open' : 'closed';
      if (state === 'open') breaker.openedAt = Date.now();
      breaker.state = state;
      events.emit('breaker', { endpoint, state });
    });
    return breaker;
  };
  const breakers = Object.fromEntries(YAHOO_ENDPOINTS.map((e) => [e, makeBreaker(e)])) as Record<
    YahooEndpoint,
    Breaker
  >;
  const call = async <T>(endpoint: YahooEndpoint, op: () => Promise<T>): Promise<T> => {
    await clean;
    return breakers[endpoint].execute(() => withRetries(endpoint, op));
  };

  // --- the calls -------------------------------------------------------------------------------
  const quoteBatch = async (batch: string[]) => {
    try {
      const records: unknown[] = await yf.quote(batch, { return: 'array', fields: [...QUOTE_FIELDS] });
      return { records, problems: new Map<number, string>() };
    } catch (e) {
      // One bad record fails yahoo-finance2's validation of the whole array; its error carries
      // the array (coerced) and where each problem is: keep the good records.
      const failed = validationFailure(e);
      if (failed && Array.isArray(failed.result)) {
        return { records: failed.result as unknown[], problems: problemsByIndex(failed.errors, failed.result) };
      }
      throw e;
    }
  };

  const quotes = async (symbols: readonly string[]): Promise<QuotesResult> => {
    const unique = [...new Set(symbols.map((s) => s.trim()).filter((s) => s !== ''))];
    const batches: string[][] = [];
    for (let i = 0; i < unique.length; i += batchSize) batches.push(unique.slice(i, i + batchSize));
    const outcomes = await Promise.all(
      batches.map((batch) =>
        call('quote', () => quoteBatch(batch)).then(
          (answer) => ({ batch, answer }),
          (error: unknown) => ({ batch, error: error instanceof Error ? error : new Error(String(error)) }),
        ),
      ),
    );
    const result: QuotesResult = { quotes: new Map(), missing: [], invalid: [], failed: [] };
    for (const outcome of outcomes) {
      if ('error' in outcome) {
        result.failed.push({ symbols: outcome.batch, error: outcome.error });
        continue;
      }
      const asked = new Map(outcome.batch.map((s) => [s.toUpperCase(), s]));
      const answered = new Set<string>();
      outcome.answer.records.forEach((record, i) => {
        const yahooSymbol = symbolOf(record);
        const symbol = yahooSymbol === undefined ? undefined : asked.get(yahooSymbol.toUpperCase());
        if (symbol !== undefined) answered.add(symbol);
        const problem = outcome.answer.problems.get(i);
        if (problem !== undefined) {
          result.invalid.push({ ...(yahooSymbol !== undefined ? { symbol: yahooSymbol } : {}), reason: problem });
          return;
        }
        const fields = toQuoteFields(record);
        if ('reason' in fields) {
          result.invalid.push({ ...(yahooSymbol !== undefined ? { symbol: yahooSymbol } : {}), reason: fields.reason });
        } else if (symbol === undefined) {
          result.invalid.push({ symbol: fields.symbol, reason: 'in the answer but not asked for' });
        } else {
          result.quotes.set(symbol, fields);
        }
      });
      for (const s of outcome.batch) if (!answered.has(s)) result.missing.push(s);
    }
    return result;
  };

  const dailyHistory = async (symbol: string, from: DateInput, to: DateInput): Promise<DailyHistory> => {
    const period1 = toDate(from);
    const period2 = toDate(to);
    if (!(period1 < period2)) throw new RangeError(`dailyHistory(${symbol}): from must be before to`);
    const chart = await call('chart', () => lenient(yf.chart(symbol, { period1, period2, interval: '1d' })));
    return toDailyHistory(symbol, chart);
  };

  const news = async (symbol: string, o: { count?: number } = {}): Promise<NewsResult> => {
    const answer = await call('search', () => lenient(yf.search(symbol, { quotesCount: 0, newsCount: o.count ?? 10 })));
    const raw = isObject(answer) && Array.isArray(answer.news) ? answer.news : [];
    const result: NewsResult = { items: [], invalid: [] };
    for (const item of raw) {
      const parsed = toNewsItem(item);
      if ('reason' in parsed) {
        const uuid = isObject(item) && typeof item.uuid === 'string' ? item.uuid : undefined;
        result.invalid.push({ ...(uuid !== undefined ? { uuid } : {}), reason: parsed.reason });
      } else {
        result.items.push(parsed);
      }
    }
    return result;
  };

  const upcomingEarnings = async (symbol: string): Promise<UpcomingEarnings | null> => {
    try {
      const summary = await call('quoteSummary', () =>
        lenient(yf.quoteSummary(symbol, { modules: ['calendarEvents'] })),
      );
      return toUpcomingEarnings(symbol, summary);
    } catch (e) {
      if (e instanceof YahooNotFoundError) return null; // "No fundamentals data found": nothing scheduled
      throw e;
    }
  };

  return {
    quotes,
    dailyHistory,
    news,
    upcomingEarnings,
    breakerStates: () =>
      Object.fromEntries(YAHOO_ENDPOINTS.map((e) => [e, breakers[e].state])) as Record<YahooEndpoint, BreakerState>,
    refreshSession: (reason = 'asked') => refreshSession(reason),
    events,
    limiter,
  };
}

// --- helpers -----------------------------------------------------------------------------------

type Definitions = Record<
  string,
  { oneOf?: Array<{ $ref?: string }>; properties?: Record<string, { const?: unknown }> }
>;
interface ModuleExecOptions {
  moduleName?: string;
  result?: { definitions?: Definitions };
}

/**
 * yahoo-finance2 validates each quote against its Quote `oneOf`, one subschema per quoteType, in
 * its own order (EQUITY 6th of 11), each one that fails costing a walk of the whole record and a
 * JSON.parse of it. Only the subschema of the record's quoteType can match (each fixes quoteType
 * to a const), so trying the usual types first accepts, refuses and coerces exactly as before,
 * with a fifth of the work for an equity. Done by handing the library's quote module a copy of
 * its definitions with `oneOf` reordered, through the `_moduleExec` its modules call (the custom
 * module contract, lib/moduleCommon's ModuleThis); if that is not there, the library's order stays.
 */
function validateQuoteTypesFirst(
  yf: object,
  types: readonly string[],
  log: (level: 'warn' | 'error', message: string) => void,
): void {
  const target = yf as { _moduleExec?: (this: unknown, o: ModuleExecOptions) => unknown };
  const inner = target._moduleExec;
  if (types.length === 0) return;
  if (typeof inner !== 'function') {
    log('warn', 'yahoo-finance2 has no _moduleExec: quotes are validated in its own quote type order (slower)');
    return;
  }
  const reordered = new WeakMap<Definitions, Definitions>();
  target._moduleExec = function (this: unknown, o: ModuleExecOptions) {
    const definitions = o?.moduleName === 'quote' ? o.result?.definitions : undefined;
    if (!definitions) return inner.call(this, o);
    let mine = reordered.get(definitions);
    if (!mine) {
      mine = quoteTypesFirst(definitions, types);
      reordered.set(definitions, mine);
    }
    return inner.call(this, { ...o, result: { ...o.result, definitions: mine } });
  };
}

/** The definitions with Quote's `oneOf` trying `types` first (stable otherwise); unchanged if its shape is not known. */
export function quoteTypesFirst(definitions: Definitions, types: readonly string[]): Definitions {
  const quote = definitions.Quote;
  if (!quote || !Array.isArray(quote.oneOf)) return definitions;
  const typeOf = (s: { $ref?: string }) =>
    definitions[s.$ref?.replace('#/definitions/', '') ?? '']?.properties?.quoteType?.const;
  const rank = (s: { $ref?: string }) => {
    const i = types.indexOf(String(typeOf(s)));
    return i === -1 ? types.length : i;
  };
  return { ...definitions, Quote: { ...quote, oneOf: [...quote.oneOf].sort((a, b) => rank(a) - rank(b)) } };
}

interface ValidationFailure {
  result: unknown;
  errors: unknown;
}

/** yahoo-finance2's FailedYahooValidationError (not exported by the package: by name and shape). */
function validationFailure(e: unknown): ValidationFailure | undefined {
  return e instanceof Error && e.name === 'FailedYahooValidationError' && 'result' in e
    ? (e as unknown as ValidationFailure)
    : undefined;
}

/** The result despite schema problems; our own parsing checks every field it uses. */
async function lenient<T>(p: Promise<T>): Promise<unknown> {
  try {
    return await p;
  } catch (e) {
    const failed = validationFailure(e);
    if (failed?.result !== undefined && failed.result !== null) return failed.result;
    throw e;
  }
}

interface SchemaError {
  instancePath?: string;
  schemaPath?: string;
  message?: string;
  /** "Missing required properties": which (yahoo-finance2 folds them into one error). */
  params?: { missing?: unknown };
  subErrors?: SchemaError[];
}

/**
 * Validation errors of a quote array → reason per record index. A record is checked against the
 * schema of every quote type; the reasons kept are those of the schema whose quoteType matched.
 */
function problemsByIndex(errors: unknown, records: unknown[]): Map<number, string> {
  const byIndex = new Map<number, SchemaError[]>();
  for (const error of (Array.isArray(errors) ? errors : []) as SchemaError[]) {
    const index = /^\/(\d+)(?:\/|$)/.exec(error.instancePath ?? '')?.[1];
    if (index === undefined) continue;
    const list = byIndex.get(Number(index)) ?? [];
    list.push(error);
    byIndex.set(Number(index), list);
  }
  const out = new Map<number, string>();
  for (const [index, list] of byIndex) {
    if (index >= records.length) continue;
    const leaves = list.flatMap((e) => (e.subErrors?.length ? e.subErrors : [e]));
    // A missing property's error is on the subschema's path + "/required".
    const schemaOf = (e: SchemaError) => e.schemaPath?.replace(/\/required$/, '');
    const wrongType = new Set(
      leaves.filter((e) => e.message === 'Invalid const value' && e.instancePath?.endsWith('/quoteType')).map(schemaOf),
    );
    const own = leaves.filter((e) => !wrongType.has(schemaOf(e)) && e.message !== 'Invalid const value');
    const chosen = own.length > 0 ? own : leaves.filter((e) => e.message !== 'Invalid const value');
    const describe = (e: SchemaError) =>
      Array.isArray(e.params?.missing) ? `${e.message} (${e.params.missing.join(', ')})` : e.message;
    const reasons = [
      ...new Set(chosen.map((e) => `${(e.instancePath ?? '').replace(/^\/\d+\/?/, '') || 'record'}: ${describe(e)}`)),
    ];
    out.set(index, `failed yahoo-finance2 schema validation: ${reasons.join('; ') || 'unknown problem'}`);
  }
  return out;
}

function symbolOf(record: unknown): string | undefined {
  return isObject(record) && typeof record.symbol === 'string' ? record.symbol : undefined;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function toDate(d: DateInput): Date {
  const date =
    d instanceof Date
      ? d
      : typeof d === 'number'
        ? new Date(d)
        : new Date(/^\d{4}-\d{2}-\d{2}$/.test(d) ? `${d}T00:00:00Z` : d);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a date: ${String(d)}`);
  return date;
}

/** yahoo-finance2's logger → ours. It warns on every Node < 22; 3.x declares Node ≥ 20, which this client is tested on. */
function libraryLogger(log: (level: 'warn' | 'error', message: string) => void) {
  const text = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  return {
    info: () => {},
    debug: () => {},
    dir: () => {},
    warn: (...args: unknown[]) => {
      const message = text(args);
      if (!message.includes('Unsupported environment')) log('warn', message);
    },
    error: (...args: unknown[]) => log('error', text(args)),
  };
}
