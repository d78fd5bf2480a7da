// yahoo: live market data from Yahoo Finance, through ONE shared yahoo client (yahoo-client.ts:
// rate limit, retries, Retry-After, session refresh, breakers). `createYahooFeed` gives three
// source operators that share the client and what the feed knows of each symbol:
//
//   quotes   (node market-data) ─▶ `quotes`    backfill, then the quote cycles
//   news     (node news)        ─▶ `news`      headlines per symbol (search), on a slower cycle
//   earnings (node earnings)    ─▶ `earnings`  upcoming earnings days (quoteSummary calendarEvents),
//                                              daily; the earnings-calendar sink applies them
//
// Quotes. On start, daily history from `backfillFrom` to the last closed session (chart, 1d), one
// quote per day (source `yahoo-history`, ts = that session's close), emitted day by day with a
// watermark after each, like the replay: features warm up on real history before the first live
// quote. Then a cycle over the whole universe every `pollMs` while the NYSE is open (batches of
// ≤ 100 symbols), and `closedPollMs` between sessions, weekends and holidays (models/market-
// calendar.ts); symbols someone watches (`watched()`: dashboard and API subscribers) get a cycle of
// their own every `watchedPollMs` while open. A quote is emitted only when it changed (time, price,
// day open/high/low/volume), with event time = regularMarketTime; unchanged ones are not.
// Time policy: once a session has closed and `settleMs` passed (the closing prints), a full cycle
// fetches the final values and the watermark moves to the end of that UTC day, which closes the
// day's bar — so a live day becomes one daily bar, like a replayed day. While symbols are stale the
// day is held open, for at most `staleHoldMs`. With `intradayLagMs` (minute bars), the watermark
// also follows the cycles: cycle start − lag. A changed quote older than the watermark is late:
// `quotes.dlq`. A quote first seen older than the watermark (its day came from the backfill) is
// taken as the baseline, not emitted.
// Bad input: a symbol Yahoo does not know (missing from the answer) or a record it cannot use
// (schema validation, no price) goes to `quotes.dlq` with the reason, once per symbol until that
// changes. A batch that fails (retries spent, breaker open) keeps its symbols' last values, marked
// stale; `status()` and the metrics say how many and how old the data is.
// Ownership: make one feed per process (the composition root), on the process's one client.

import { Counter, Gauge, type Registry } from 'prom-client';
import { defineOperator, type SourceContext } from '../../engine/index.js';
import { type MarketDataStatus, STALEST_SYMBOLS, type SymbolDataAge } from '../../engine/source-status.js';
import {
  lastClosedSession,
  isOpen as marketIsOpen,
  nextOpen as marketNextOpen,
  sessionAt as marketSessionAt,
  newYorkDay,
  type Session,
  sessionOf,
} from '../../models/market-calendar.js';
import { isoDay } from '../../models/trading-calendar.js';
import { type News, type Quote, schemas } from '../../schemas/index.js';
import {
  type DailyBar,
  MAX_QUOTE_BATCH,
  type QuoteFields,
  YAHOO_ENDPOINTS,
  type YahooClient,
  YahooNotFoundError,
} from './yahoo-client.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** Time as the feed sees it; tests give a clock that does not wait. */
export interface FeedClock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemFeedClock: FeedClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((done) => {
      if (signal.aborted || ms <= 0) return done();
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        signal.removeEventListener('abort', finish);
        done();
      }
      signal.addEventListener('abort', finish, { once: true });
    }),
};

/** When the market trades; default the NYSE (models/market-calendar.ts). */
export interface FeedMarket {
  isOpen(t: number): boolean;
  nextOpen(t: number): number;
  /** The session running at `t`, or null. */
  sessionAt(t: number): Session | null;
  /** The latest session closed by `t`. */
  lastClosedSession(t: number): Session;
  sessionOf(day: number | string): Session | null;
}

export const nyseMarket: FeedMarket = {
  isOpen: marketIsOpen,
  nextOpen: marketNextOpen,
  sessionAt: marketSessionAt,
  lastClosedSession,
  sessionOf,
};

export interface YahooFeedOptions {
  client: YahooClient;
  /** The universe (Yahoo spelling: BRK-B). */
  symbols: readonly string[];
  /** Symbols someone watches now; polled every `watchedPollMs` while the market is open. */
  watched?: () => ReadonlySet<string>;
  /** Full-universe cycle while the market is open (see `defaultPollMs`). */
  pollMs: number;
  /** Cycle of the watched symbols while open; default max(5 s, pollMs / 4). */
  watchedPollMs?: number;
  /** Full cycle while the market is closed; default max(15 min, pollMs). */
  closedPollMs?: number;
  /** After a session's close, how long until its values are final (closing prints); default 5 min. */
  settleMs?: number;
  /** Longest the day's bar waits for stale symbols after it could close; default 1 h. */
  staleHoldMs?: number;
  /** Minute bars: the watermark also follows the cycles, at cycle start − this lag. */
  intradayLagMs?: number;
  /** First day of the start-up backfill (epoch ms); undefined: none. */
  backfillFrom?: number;
  /** Requests a minute of the client (for pacing news and earnings); 0 = unlimited. */
  requestsPerMinute?: number;
  /** Chart requests in flight during the backfill; default 4. */
  backfillConcurrency?: number;
  /** A symbol's earnings dates are fetched again after this long; default 24 h. */
  earningsRefreshMs?: number;
  /** A symbol's headlines are fetched again after this long; default 30 min. */
  newsRefreshMs?: number;
  /** Headlines asked per symbol; default 10. */
  newsCount?: number;
  clock?: FeedClock;
  market?: FeedMarket;
  /** prom-client registry for the feed's and the client's series (the API serves it at /metrics). */
  registry?: Registry;
  /** One line per event worth a log (backfill done, breaker open…). */
  log?: (line: string) => void;
}

/** The data source as the API shows it (GraphQL `marketData`, /healthz): engine/source-status.ts. */
export type { MarketDataStatus } from '../../engine/source-status.js';

export interface YahooFeed {
  /** The market-data source: backfill, then quotes. */
  readonly quotes: ReturnType<typeof quotesOperator>;
  /** A bounded source for `tickcast backfill`: daily history of `symbols` from `from`, then it ends. */
  backfillOnly(from: number, symbols?: readonly string[]): ReturnType<typeof quotesOperator>;
  /** The news source. */
  readonly news: ReturnType<typeof newsOperator>;
  /** Each symbol's upcoming earnings days (quoteSummary calendarEvents), for the earnings calendar. */
  readonly earnings: ReturnType<typeof earningsOperator>;
  status(): MarketDataStatus;
}

/**
 * The default cycle while the market is open: the universe's quote requests spread over 80% of
 * the rate limit (news and earnings share the rest), at least 15 s. 5,000 symbols are 50
 * requests: at 100 requests a minute, a cycle every 37.5 s.
 */
export function defaultPollMs(symbols: number, requestsPerMinute: number): number {
  if (!(requestsPerMinute > 0) || !Number.isFinite(requestsPerMinute)) return 15_000;
  const requests = Math.ceil(symbols / MAX_QUOTE_BATCH);
  return Math.max(15_000, Math.ceil((requests * MINUTE_MS) / (0.8 * requestsPerMinute)));
}

interface SymbolState {
  /** The last quote emitted (or taken as the baseline). */
  last: QuoteFields | null;
  /** When Yahoo last answered for it (epoch ms): the data's age counts from here. */
  fetchedAt: number | null;
  stale: boolean;
  /** The dead-letter reason last reported, so a bad symbol is not reported every cycle. */
  reported: string | null;
}

type QuotePorts = { quotes: typeof schemas.Quote };
type NewsPorts = { news: typeof schemas.News };
type EarningsPorts = { earnings: typeof schemas.Earnings };

export function createYahooFeed(opts: YahooFeedOptions): YahooFeed {
  const clock = opts.clock ?? systemFeedClock;
  const market = opts.market ?? nyseMarket;
  const log = opts.log ?? (() => {});
  const universe = [...new Set(opts.symbols)];
  const symbols = new Map<string, SymbolState>(
    universe.map((s) => [s, { last: null, fetchedAt: null, stale: false, reported: null }]),
  );
  const shared: FeedState = {
    state: 'starting',
    newestQuoteTs: null,
    lastCycleAt: null,
    backfill: null,
    watermark: Number.NEGATIVE_INFINITY,
    emitted: 0,
  };
  const metrics = opts.registry ? feedMetrics(opts.registry, opts.client, symbols, shared, clock) : null;

  const status = (): MarketDataStatus => {
    const now = clock.now();
    const ages = [...symbols.values()]
      .filter((s) => s.fetchedAt !== null)
      .map((s) => now - s.fetchedAt!)
      .sort((a, b) => a - b);
    const stale = [...symbols.values()].filter((s) => s.stale).length;
    const breakers = YAHOO_ENDPOINTS.map((endpoint) => ({ endpoint, state: opts.client.breakerStates()[endpoint] }));
    const degraded = stale > 0 || breakers.some((b) => b.state !== 'closed');
    return {
      source: 'yahoo',
      state: shared.state !== 'stopped' && degraded ? 'degraded' : shared.state,
      marketOpen: market.isOpen(now),
      newestQuoteTs: shared.newestQuoteTs,
      symbols: universe.length,
      staleSymbols: stale,
      dataAgeMaxMs: ages.length > 0 ? ages.at(-1)! : null,
      dataAgeMedianMs: ages.length > 0 ? ages[Math.floor((ages.length - 1) / 2)]! : null,
      stalest: stalest(symbols, now),
      breakers,
      lastCycleAt: shared.lastCycleAt,
      backfill: shared.backfill,
    };
  };

  const deps: FeedDeps = { opts, clock, market, log, universe, symbols, shared, metrics };
  return {
    quotes: quotesOperator(deps),
    news: newsOperator(deps),
    earnings: earningsOperator(deps),
    backfillOnly: (from, list = universe) =>
      defineOperator({
        kind: 'source',
        name: 'yahoo-backfill',
        outputs: { quotes: schemas.Quote },
        async run(ctx) {
          try {
            await backfill(deps, from, ctx, list);
          } finally {
            shared.state = 'stopped';
          }
        },
      }),
    status,
  };
}

/**
 * The STALEST_SYMBOLS symbols with the oldest data, oldest first: never answered, then by the
 * time Yahoo last answered for them, then by name.
 */
function stalest(symbols: ReadonlyMap<string, SymbolState>, now: number): SymbolDataAge[] {
  const rank = (s: SymbolState) => s.fetchedAt ?? Number.NEGATIVE_INFINITY;
  return [...symbols]
    .sort(([a, sa], [b, sb]) => rank(sa) - rank(sb) || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, STALEST_SYMBOLS)
    .map(([symbol, s]) => ({ symbol, ageMs: s.fetchedAt === null ? null : now - s.fetchedAt, stale: s.stale }));
}

interface FeedState {
  state: MarketDataStatus['state'];
  newestQuoteTs: number | null;
  lastCycleAt: number | null;
  backfill: { done: number; total: number } | null;
  /** The quotes source's watermark. */
  watermark: number;
  /** Quotes emitted so far, history included (the source's progress). */
  emitted: number;
}

interface FeedDeps {
  opts: YahooFeedOptions;
  clock: FeedClock;
  market: FeedMarket;
  log: (line: string) => void;
  universe: string[];
  symbols: Map<string, SymbolState>;
  shared: FeedState;
  metrics: FeedMetrics | null;
}

// --- quotes --------------------------------------------------------------------------------------

function quotesOperator(deps: FeedDeps) {
  return defineOperator({
    kind: 'source',
    name: 'yahoo',
    outputs: { quotes: schemas.Quote },
    async run(ctx) {
      try {
        if (deps.opts.backfillFrom !== undefined) await backfill(deps, deps.opts.backfillFrom, ctx);
        await quoteCycles(deps, ctx);
      } finally {
        deps.shared.state = 'stopped';
      }
    },
  });
}

/**
 * Daily history of every symbol from `from` to the last closed session, emitted day by day (one
 * quote per day, watermark after each day), like a replay. Symbols without history, or whose
 * request failed, are dead-lettered with the reason; the rest are used.
 */
export async function backfill(
  deps: Pick<FeedDeps, 'opts' | 'clock' | 'market' | 'log' | 'universe' | 'shared' | 'metrics'>,
  from: number,
  ctx: SourceContext<QuotePorts>,
  symbols: readonly string[] = deps.universe,
): Promise<{ days: number; quotes: number; failed: number }> {
  const { opts, clock, market, shared } = deps;
  shared.state = 'backfilling';
  const last = market.lastClosedSession(clock.now() - (opts.settleMs ?? 5 * MINUTE_MS));
  const to = last.dayStart + DAY_MS;
  const byDay = new Map<number, Quote[]>();
  let failed = 0;
  if (from < to) {
    const queue = [...symbols];
    shared.backfill = { done: 0, total: queue.length };
    const worker = async () => {
      for (let s = queue.shift(); s !== undefined && !ctx.signal.aborted; s = queue.shift()) {
        const symbol = s;
        try {
          const history = await opts.client.dailyHistory(symbol, from, to);
          for (const bar of history.bars) {
            const session = market.sessionOf(bar.date);
            // Yahoo may add the running day's bar, or a bar on a day the exchange did not trade.
            if (!session || session.dayStart > last.dayStart) continue;
            const list = byDay.get(session.dayStart) ?? [];
            list.push(historyQuote(symbol, bar, session));
            byDay.set(session.dayStart, list);
          }
        } catch (e) {
          failed++;
          const why = e instanceof YahooNotFoundError ? 'Yahoo has no daily history for it' : errorText(e);
          ctx.deadLetter(
            'quotes',
            `${symbol}: backfill from ${isoDay(from)} failed: ${why}`,
            JSON.stringify({ symbol }),
          );
        }
        shared.backfill!.done++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.backfillConcurrency ?? 4) }, worker));
  }
  if (ctx.signal.aborted) return { days: 0, quotes: 0, failed };
  let quotes = 0;
  const days = [...byDay.keys()].sort((a, b) => a - b);
  // Progress counts quotes, as the replay's does (the CLI compares it with what went through).
  let total = 0;
  for (const list of byDay.values()) total += list.length;
  for (const day of days) {
    if (ctx.signal.aborted) break;
    for (const q of byDay.get(day)!.sort((a, b) => (a.symbol < b.symbol ? -1 : 1))) {
      await ctx.emit('quotes', q, { timestamp: q.ts });
      quotes++;
    }
    // The day is complete. Only days with data are closed here: a later day none of the symbols
    // had history for stays open for the live quotes (closed after the first cycle, closeDays).
    await advanceWatermark(deps, ctx, day + DAY_MS);
    ctx.progress(shared.emitted + quotes, shared.emitted + total);
  }
  shared.emitted += quotes;
  deps.metrics?.backfilled.inc(quotes);
  deps.log(
    `yahoo: backfill ${isoDay(from)} … ${last.day}: ${quotes.toLocaleString('en-US')} daily quotes of ${symbols.length - failed}/${symbols.length} symbols`,
  );
  return { days: days.length, quotes, failed };
}

function historyQuote(symbol: string, bar: DailyBar, session: Session): Quote {
  return {
    symbol,
    ts: session.close,
    price: bar.close,
    dayOpen: bar.open,
    dayHigh: bar.high,
    dayLow: bar.low,
    dayVolume: bar.volume,
    source: 'yahoo-history',
  };
}

async function advanceWatermark(deps: Pick<FeedDeps, 'shared'>, ctx: SourceContext<QuotePorts>, time: number) {
  if (time <= deps.shared.watermark) return;
  deps.shared.watermark = time;
  await ctx.watermark(time);
}

async function quoteCycles(deps: FeedDeps, ctx: SourceContext<QuotePorts>): Promise<void> {
  const { opts, clock, market, shared } = deps;
  const pollMs = opts.pollMs;
  const watchedPollMs = opts.watchedPollMs ?? Math.max(5_000, pollMs / 4);
  const closedPollMs = opts.closedPollMs ?? Math.max(15 * MINUTE_MS, pollMs);
  const settleMs = opts.settleMs ?? 5 * MINUTE_MS;
  shared.state = 'live';
  let nextFull = clock.now();
  let nextWatched = Number.POSITIVE_INFINITY;
  while (!ctx.signal.aborted) {
    const now = clock.now();
    const session = market.sessionAt(now);
    if (now >= nextFull) {
      await quoteCycle(deps, ctx, deps.universe, 'full');
      shared.lastCycleAt = now;
      await closeDays(deps, ctx, now, settleMs);
      // Open: the next cycle, and one more at the close + settle for the final values.
      // Closed: a slow cycle, and one at the next open.
      const settled = market.lastClosedSession(now).close + settleMs;
      nextFull = session
        ? Math.min(now + pollMs, Math.max(now + 1_000, session.close + settleMs))
        : Math.min(now + closedPollMs, market.nextOpen(now), settled > now ? settled : Number.POSITIVE_INFINITY);
      nextWatched = session && opts.watched ? now + watchedPollMs : Number.POSITIVE_INFINITY;
    } else if (now >= nextWatched) {
      const watched = [...(opts.watched?.() ?? [])].filter((s) => deps.symbols.has(s));
      if (watched.length > 0) await quoteCycle(deps, ctx, watched, 'watched');
      nextWatched = now + watchedPollMs;
    }
    const wake = Math.min(nextFull, nextWatched);
    await clock.sleep(Math.max(0, wake - clock.now()), ctx.signal);
  }
}

/** One pass over `list`: emits what changed, dead-letters what Yahoo cannot answer, marks failures stale. */
async function quoteCycle(
  deps: FeedDeps,
  ctx: SourceContext<QuotePorts>,
  list: readonly string[],
  kind: 'full' | 'watched',
): Promise<void> {
  const { opts, clock, symbols, shared, metrics } = deps;
  const started = clock.now();
  const result = await opts.client.quotes(list);
  const answeredAt = clock.now();
  let emitted = 0;
  const report = (symbol: string, reason: string) => {
    const s = symbols.get(symbol);
    if (!s || s.reported === reason) return;
    s.reported = reason;
    ctx.deadLetter('quotes', `${symbol}: ${reason}`, JSON.stringify({ symbol }));
  };
  for (const symbol of result.missing) report(symbol, 'Yahoo has no quote for it (unknown or delisted symbol)');
  for (const bad of result.invalid) {
    if (bad.symbol !== undefined) report(bad.symbol, bad.reason);
    else ctx.deadLetter('quotes', `a quote record Yahoo sent: ${bad.reason}`, JSON.stringify(bad));
  }
  for (const failure of result.failed) {
    for (const symbol of failure.symbols) {
      const s = symbols.get(symbol);
      if (s) s.stale = true;
    }
    metrics?.failedBatches.inc({ kind });
  }
  for (const [symbol, q] of result.quotes) {
    const s = symbols.get(symbol);
    if (!s) continue;
    s.fetchedAt = answeredAt;
    s.stale = false;
    s.reported = null;
    if (s.last && sameQuote(s.last, q)) continue;
    const first = s.last === null;
    s.last = q;
    if (q.ts < shared.watermark) {
      // First sight of a day the backfill already holds: the baseline. A change there is late.
      if (!first)
        ctx.deadLetter(
          'quotes',
          `${symbol}: late quote: ${new Date(q.ts).toISOString()} is before the watermark ${new Date(shared.watermark).toISOString()} (${deps.opts.intradayLagMs !== undefined ? 'its minute has' : "its day's bar has"} closed)`,
          JSON.stringify(q),
        );
      continue;
    }
    await ctx.emit('quotes', liveQuote(q), { timestamp: q.ts });
    emitted++;
    if (shared.newestQuoteTs === null || q.ts > shared.newestQuoteTs) shared.newestQuoteTs = q.ts;
  }
  // Out now, not when a batch fills: a live quote is news while it is fresh.
  await ctx.flush();
  shared.emitted += emitted;
  if (emitted > 0) ctx.progress(shared.emitted, shared.emitted);
  metrics?.cycles.inc({ kind });
  metrics?.emitted.inc(emitted);
  if (kind === 'full') metrics?.cycleSeconds.set((clock.now() - started) / 1000);
}

/**
 * The watermark after a full cycle: past the last closed session's day once it has settled and
 * no symbol is stale (or the stale hold ran out); with minute bars, also cycle start − lag.
 */
async function closeDays(deps: FeedDeps, ctx: SourceContext<QuotePorts>, cycleStart: number, settleMs: number) {
  const { opts, market, symbols } = deps;
  const closed = market.lastClosedSession(cycleStart - settleMs);
  let target = closed.dayStart + DAY_MS;
  const stale = [...symbols.values()].some((s) => s.stale);
  if (
    stale &&
    target > deps.shared.watermark &&
    cycleStart < closed.close + settleMs + (opts.staleHoldMs ?? 3_600_000)
  ) {
    target = deps.shared.watermark; // hold the day open for the stale symbols' final values
  }
  if (opts.intradayLagMs !== undefined) target = Math.max(target, cycleStart - opts.intradayLagMs);
  await advanceWatermark(deps, ctx, target);
}

function sameQuote(a: QuoteFields, b: QuoteFields): boolean {
  return (
    a.ts === b.ts &&
    a.price === b.price &&
    a.dayOpen === b.dayOpen &&
    a.dayHigh === b.dayHigh &&
    a.dayLow === b.dayLow &&
    a.dayVolume === b.dayVolume
  );
}

function liveQuote(q: QuoteFields): Quote {
  return {
    symbol: q.symbol.toUpperCase(),
    ts: q.ts,
    price: q.price,
    dayOpen: q.dayOpen,
    dayHigh: q.dayHigh,
    dayLow: q.dayLow,
    dayVolume: q.dayVolume,
    source: 'yahoo',
  };
}

// --- earnings ------------------------------------------------------------------------------------

function earningsOperator(deps: FeedDeps) {
  return defineOperator({
    kind: 'source',
    name: 'yahoo-earnings',
    outputs: { earnings: schemas.Earnings },
    async run(ctx) {
      await earningsCycles(deps, ctx);
    },
  });
}

/**
 * Each symbol's upcoming earnings days (watched ones first) as `earnings` records, paced at 5% of
 * the rate limit, again after `earningsRefreshMs`. An estimated window (two dates) counts from its
 * first day. Failures leave the symbol's dates as they were and are retried next round.
 */
async function earningsCycles(deps: FeedDeps, ctx: SourceContext<EarningsPorts>): Promise<void> {
  await symbolRounds(deps, ctx, {
    what: 'earnings',
    share: 0.05,
    refreshMs: deps.opts.earningsRefreshMs ?? DAY_MS,
    async fetch(symbol) {
      const upcoming = await deps.opts.client.upcomingEarnings(symbol);
      const first = upcoming?.earningsDates[0];
      const ts = deps.clock.now();
      const days = first === undefined ? [] : [newYorkDay(first)];
      await ctx.emit('earnings', { symbol, ts, days, source: 'yahoo' }, { timestamp: ts });
      return 1;
    },
  });
}

/**
 * The slow per-symbol loops (news, earnings): a round over the universe, watched symbols first,
 * one request every `share` of the rate limit, the next round `refreshMs` after this one began. A
 * failed symbol is counted and logged, and retried next round; progress counts records emitted.
 */
async function symbolRounds(
  deps: FeedDeps,
  ctx: Pick<SourceContext<NewsPorts | EarningsPorts>, 'signal' | 'progress' | 'flush'>,
  loop: {
    what: 'news' | 'earnings';
    share: number;
    refreshMs: number;
    /** Fetches one symbol and emits its records; returns how many. */
    fetch(symbol: string): Promise<number>;
  },
): Promise<void> {
  const { clock, metrics } = deps;
  const gapMs = paceMs(deps.opts.requestsPerMinute, loop.share);
  let emitted = 0;
  while (!ctx.signal.aborted) {
    const round = clock.now();
    for (const symbol of watchedFirst(deps)) {
      if (ctx.signal.aborted) return;
      try {
        emitted += await loop.fetch(symbol);
        metrics?.[loop.what].inc({ outcome: 'ok' });
      } catch (e) {
        metrics?.[loop.what].inc({ outcome: 'failed' });
        deps.log(`yahoo: ${loop.what} of ${symbol} not read: ${errorText(e)}`);
      }
      ctx.progress(emitted);
      await ctx.flush();
      await clock.sleep(gapMs, ctx.signal);
    }
    await clock.sleep(Math.max(0, round + loop.refreshMs - clock.now()), ctx.signal);
  }
}

// --- news ----------------------------------------------------------------------------------------

function newsOperator(deps: FeedDeps) {
  return defineOperator({
    kind: 'source',
    name: 'yahoo-news',
    outputs: { news: schemas.News },
    async run(ctx) {
      await newsCycles(deps, ctx);
    },
  });
}

/**
 * Headlines per symbol (watched ones first), paced at 10% of the rate limit, a round every
 * `newsRefreshMs` at most. Yahoo's search is loose: an item whose relatedTickers do not name the
 * symbol is not about it and is skipped. Each headline is emitted once per process (the embed
 * node also skips ids the vector store holds). Items Yahoo sends without what a headline needs go
 * to `news.dlq`.
 */
async function newsCycles(deps: FeedDeps, ctx: SourceContext<NewsPorts>): Promise<void> {
  const seen = new Set<string>();
  await symbolRounds(deps, ctx, {
    what: 'news',
    share: 0.1,
    refreshMs: deps.opts.newsRefreshMs ?? 30 * MINUTE_MS,
    async fetch(symbol) {
      const { items, invalid } = await deps.opts.client.news(symbol, { count: deps.opts.newsCount ?? 10 });
      for (const bad of invalid) {
        ctx.deadLetter('news', `${symbol}: a headline Yahoo sent: ${bad.reason}`, JSON.stringify(bad));
      }
      let emitted = 0;
      for (const item of items) {
        if (!item.relatedTickers.some((t) => t.toUpperCase() === symbol.toUpperCase())) continue;
        const record = newsRecord(symbol, item);
        if (seen.has(record.id)) continue;
        seen.add(record.id);
        await ctx.emit('news', record, { timestamp: record.ts });
        emitted++;
      }
      return emitted;
    },
  });
}

/** A Yahoo headline as a `News` record: id `yahoo:<SYMBOL>:<New York date>:<uuid>`, stable across fetches. */
export function newsRecord(
  symbol: string,
  item: { uuid: string; title: string; link: string; providerPublishTime: number },
): News {
  const s = symbol.toUpperCase();
  return {
    id: `yahoo:${s}:${isoDay(newYorkDay(item.providerPublishTime))}:${item.uuid}`,
    symbol: s,
    ts: item.providerPublishTime,
    headline: item.title,
    source: 'yahoo',
    url: item.link,
    body: null,
    precision: 'minute',
  };
}

// --- helpers -------------------------------------------------------------------------------------

function watchedFirst(deps: FeedDeps): string[] {
  const watched = deps.opts.watched?.() ?? new Set<string>();
  const first = deps.universe.filter((s) => watched.has(s));
  return [...first, ...deps.universe.filter((s) => !watched.has(s))];
}

/** Wait between requests so a loop uses at most `share` of the rate limit. */
function paceMs(requestsPerMinute: number | undefined, share: number): number {
  if (!requestsPerMinute || !Number.isFinite(requestsPerMinute) || requestsPerMinute <= 0) return 0;
  return Math.ceil(MINUTE_MS / (share * requestsPerMinute));
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// --- metrics -------------------------------------------------------------------------------------

interface FeedMetrics {
  cycles: Counter<'kind'>;
  failedBatches: Counter<'kind'>;
  emitted: Counter;
  backfilled: Counter;
  cycleSeconds: Gauge;
  news: Counter<'outcome'>;
  earnings: Counter<'outcome'>;
}

/** The feed's and its client's series, registered once on `registers`. */
function feedMetrics(
  registry: Registry,
  client: YahooClient,
  symbols: Map<string, SymbolState>,
  shared: FeedState,
  clock: FeedClock,
): FeedMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: 'tickcast_yahoo_requests_total',
    help: 'HTTP requests to Yahoo by endpoint (or session) and status (or timeout, network)',
    labelNames: ['endpoint', 'status'],
    registers,
  });
  const retries = new Counter({
    name: 'tickcast_yahoo_retries_total',
    help: 'Calls tried again, by endpoint and reason (transient: 429, 5xx, timeouts; session: crumb refreshed)',
    labelNames: ['endpoint', 'reason'],
    registers,
  });
  const pauses = new Counter({
    name: 'tickcast_yahoo_retry_after_pauses_total',
    help: 'Pauses Yahoo asked for with Retry-After (no request starts during one)',
    registers,
  });
  const sessions = new Counter({
    name: 'tickcast_yahoo_session_refreshes_total',
    help: 'Cookie/crumb sessions thrown away and fetched again',
    registers,
  });
  client.events.on('request', (e) => requests.inc({ endpoint: e.kind, status: String(e.status) }));
  client.events.on('retry', (e) => retries.inc({ endpoint: e.endpoint, reason: e.reason }));
  client.events.on('pause', () => pauses.inc());
  client.events.on('session', () => sessions.inc());
  new Gauge({
    name: 'tickcast_yahoo_breaker_state',
    help: 'Circuit breaker per endpoint: 0 closed, 1 half-open, 2 open',
    labelNames: ['endpoint'],
    registers,
    collect() {
      const states = client.breakerStates();
      for (const endpoint of YAHOO_ENDPOINTS) {
        const s = states[endpoint];
        this.set({ endpoint }, s === 'open' ? 2 : s === 'half-open' ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'tickcast_yahoo_data_age_seconds',
    help: 'Age of the data held per symbol (since Yahoo last answered for it), over the universe',
    labelNames: ['stat'],
    registers,
    collect() {
      const now = clock.now();
      const ages = [...symbols.values()]
        .filter((s) => s.fetchedAt !== null)
        .map((s) => (now - s.fetchedAt!) / 1000)
        .sort((a, b) => a - b);
      if (ages.length === 0) return;
      this.set({ stat: 'max' }, ages.at(-1)!);
      this.set({ stat: 'median' }, ages[Math.floor((ages.length - 1) / 2)]!);
    },
  });
  new Gauge({
    name: 'tickcast_yahoo_stale_symbols',
    help: 'Symbols whose last fetch failed (their last good values are kept)',
    registers,
    collect() {
      this.set([...symbols.values()].filter((s) => s.stale).length);
    },
  });
  new Gauge({
    name: 'tickcast_yahoo_newest_quote_age_seconds',
    help: 'Now minus the event time (regularMarketTime) of the newest quote seen',
    registers,
    collect() {
      if (shared.newestQuoteTs !== null) this.set((clock.now() - shared.newestQuoteTs) / 1000);
    },
  });
  return {
    cycles: new Counter({
      name: 'tickcast_yahoo_quote_cycles_total',
      help: 'Quote cycles done: full (the universe) or watched (the watched symbols)',
      labelNames: ['kind'],
      registers,
    }),
    failedBatches: new Counter({
      name: 'tickcast_yahoo_failed_batches_total',
      help: 'Quote batches that failed as a whole (their symbols keep their last values, stale)',
      labelNames: ['kind'],
      registers,
    }),
    emitted: new Counter({
      name: 'tickcast_yahoo_quotes_emitted_total',
      help: 'Changed quotes emitted to the quotes topic',
      registers,
    }),
    backfilled: new Counter({
      name: 'tickcast_yahoo_backfill_quotes_total',
      help: 'Daily history quotes emitted by backfills',
      registers,
    }),
    cycleSeconds: new Gauge({
      name: 'tickcast_yahoo_cycle_seconds',
      help: 'Duration of the last full quote cycle',
      registers,
    }),
    news: new Counter({
      name: 'tickcast_yahoo_news_requests_total',
      help: 'Headline fetches per symbol, by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    earnings: new Counter({
      name: 'tickcast_yahoo_earnings_requests_total',
      help: 'Upcoming-earnings fetches per symbol, by outcome',
      labelNames: ['outcome'],
      registers,
    }),
  };
}
