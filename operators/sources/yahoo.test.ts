// The yahoo source against the Yahoo fixture server (recorded real Yahoo responses; faults and
// SYNTHETIC symbols and history where named), with the real yahoo-finance2 client inside. Time
// is a test clock: the source's sleeps advance it at once, so a weekend passes in a second.
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { definePipeline, TestDriver } from '../../engine/index.js';
import { STALEST_SYMBOLS } from '../../engine/source-status.js';
import { sessionsBetween } from '../../models/market-calendar.js';
import { type Bar, type Earnings, type News, type Quote, schemas } from '../../schemas/index.js';
import { startYahooFixtureServer, type YahooFixtureServer } from '../../test/support/yahoo-fixture-server.js';
import { bars } from '../transforms/bars.js';
import { createYahooFeed, defaultPollMs, type FeedClock, type YahooFeedOptions } from './yahoo.js';
import { type Clock, createYahooClient, QUOTE_FIELDS, type YahooClientOptions } from './yahoo-client.js';

let server: YahooFixtureServer;
beforeEach(async () => {
  server = await startYahooFixtureServer({
    synthetic: { test: (s) => /^SYN\d+$/.test(s) }, // SYNTHETIC: recorded quotes re-keyed
    syntheticCharts: { test: (s) => s !== 'NONEXIST' }, // SYNTHETIC daily history
  });
});
afterEach(() => server.close());

const at = (iso: string) => Date.parse(iso);
const MIN = 60_000;
/** The recorded quotes' regularMarketTime: Friday 2025-02-14 21:00 UTC (the close). */
const RECORDED_TS = at('2025-02-14T21:00:00Z');

function client(opts: YahooClientOptions = {}) {
  return createYahooClient({
    baseUrl: server.url,
    requestsPerMinute: 0,
    retries: 2,
    retryMinDelayMs: 2,
    retryMaxDelayMs: 5,
    log: () => {},
    ...opts,
  });
}

/**
 * A clock whose sleeps advance time at once; `each(i)` runs before the i-th wake (i = 1, 2, …);
 * the source is stopped when `until` is reached.
 */
function testClock(start: string, until: string, each?: (i: number, now: number) => void | Promise<void>) {
  let t = at(start);
  const stop = new AbortController();
  const wakes: number[] = [];
  const clock: FeedClock = {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
      if (t >= at(until)) {
        stop.abort();
        return;
      }
      wakes.push(t);
      await each?.(wakes.length, t);
    },
  };
  return { clock, signal: stop.signal, wakes };
}

/** The feed's quotes source, alone, run until the clock stops it. */
async function runQuotes(
  opts: Omit<YahooFeedOptions, 'client'> & { client?: YahooFeedOptions['client'] },
  signal: AbortSignal,
) {
  const feed = createYahooFeed({ client: client(), ...opts });
  const d = await TestDriver.forOperator(feed.quotes);
  await d.runSource(undefined, { signal });
  return { feed, d, quotes: d.read<Quote>('quotes') };
}

const quoteRequests = () => server.requestsTo('quote');

describe('yahoo source: quotes', () => {
  it('emits each changed quote once, event time = regularMarketTime; unchanged quotes are not re-emitted', async () => {
    // Tuesday 2025-02-18, market open: a cycle a minute. In the 3rd cycle Yahoo has a new AAPL trade.
    const { clock, signal } = testClock('2025-02-18T15:00:00Z', '2025-02-18T15:03:30Z', (i) => {
      if (i === 2)
        server.inject({
          endpoint: 'quote',
          fault: {
            kind: 'editJson', // SYNTHETIC: a later AAPL trade
            edit: (body) => {
              const r = (body as { quoteResponse: { result: Array<Record<string, unknown>> } }).quoteResponse.result;
              Object.assign(r.find((q) => q.symbol === 'AAPL')!, {
                regularMarketPrice: 245.1,
                regularMarketTime: at('2025-02-18T15:01:00Z') / 1000,
              });
              return body;
            },
          },
        });
    });
    const { quotes } = await runQuotes({ symbols: ['AAPL', 'MSFT', 'GOOG'], pollMs: MIN, clock }, signal);
    expect(quoteRequests()).toHaveLength(4); // 15:00, 15:01, 15:02, 15:03
    expect(quotes.map((q) => [q.symbol, q.ts, q.price])).toEqual([
      ['AAPL', RECORDED_TS, 244.6],
      ['MSFT', RECORDED_TS, 408.43],
      ['GOOG', RECORDED_TS + 1000, 186.87],
      ['AAPL', at('2025-02-18T15:01:00Z'), 245.1],
    ]);
    expect(quotes[0]).toEqual({
      symbol: 'AAPL',
      ts: RECORDED_TS,
      price: 244.6,
      dayOpen: 241.07,
      dayHigh: 245.41,
      dayLow: 241,
      dayVolume: 40896227,
      source: 'yahoo',
    });
  });

  it('batches the universe: 250 SYNTHETIC symbols → 3 requests a cycle (≤ 100 each)', async () => {
    const symbols = Array.from({ length: 250 }, (_, i) => `SYN${String(i).padStart(3, '0')}`);
    const { clock, signal } = testClock('2025-02-18T15:00:00Z', '2025-02-18T15:00:30Z');
    const { quotes } = await runQuotes({ symbols, pollMs: MIN, clock }, signal);
    expect(quoteRequests().map((r) => r.symbols.length)).toEqual([100, 100, 50]);
    expect(new Set(quotes.map((q) => q.symbol)).size).toBe(250);
  });

  it('derives the default cycle from the universe and the rate: 5,000 symbols at 100/min → 37.5 s', () => {
    expect(defaultPollMs(5000, 100)).toBe(37_500);
    expect(defaultPollMs(503, 100)).toBe(15_000); // at least 15 s
    expect(defaultPollMs(5000, 0)).toBe(15_000); // no limit
  });

  it('unknown and invalid symbols go to quotes.dlq with the reason, once; the rest is used', async () => {
    const { clock, signal } = testClock('2025-02-18T15:00:00Z', '2025-02-18T15:02:30Z');
    server.inject({
      endpoint: 'quote',
      times: Infinity,
      fault: {
        kind: 'editJson', // SYNTHETIC: BABA's price made unreadable
        edit: (body) => {
          const r = (body as { quoteResponse: { result: Array<Record<string, unknown>> } }).quoteResponse.result;
          const baba = r.find((q) => q.symbol === 'BABA');
          if (baba) baba.regularMarketPrice = 'n/a';
          return body;
        },
      },
    });
    const { d, quotes } = await runQuotes({ symbols: ['AAPL', 'NONEXIST', 'BABA'], pollMs: MIN, clock }, signal);
    expect(quoteRequests()).toHaveLength(3);
    expect(quotes.map((q) => q.symbol)).toEqual(['AAPL']);
    const reasons = d.deadLetters('quotes').map((l) => l.reason);
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toBe('NONEXIST: Yahoo has no quote for it (unknown or delisted symbol)');
    expect(reasons[1]).toMatch(/^BABA: failed yahoo-finance2 schema validation: regularMarketPrice/);
  });

  it('asks Yahoo for the fields it uses; a record lacking one the schema requires goes to quotes.dlq with the reason', async () => {
    const { clock, signal } = testClock('2025-02-18T15:00:00Z', '2025-02-18T15:01:30Z');
    server.inject({
      endpoint: 'quote',
      times: Infinity,
      fault: {
        kind: 'editJson', // SYNTHETIC: GOOG's market (required by yahoo-finance2's Quote schema) removed
        edit: (body) => {
          const r = (body as { quoteResponse: { result: Array<Record<string, unknown>> } }).quoteResponse.result;
          const goog = r.find((q) => q.symbol === 'GOOG');
          if (goog) delete goog.market;
          return body;
        },
      },
    });
    const { d, quotes } = await runQuotes({ symbols: ['AAPL', 'GOOG'], pollMs: MIN, clock }, signal);
    expect(quoteRequests()[0]!.query.fields).toBe(QUOTE_FIELDS.join(','));
    expect(quotes.map((q) => q.symbol)).toEqual(['AAPL']);
    expect(d.deadLetters('quotes').map((l) => l.reason)).toEqual([
      'GOOG: failed yahoo-finance2 schema validation: record: Missing required properties (market)',
    ]);
  });

  it('a 429 storm with Retry-After slows the cycle down, and it completes', async () => {
    // The client's Retry-After waits run on its own test clock (recorded, not slept).
    let t = Date.now();
    const waits: number[] = [];
    const limiterClock: Clock = {
      now: () => t,
      sleep: async (ms) => {
        waits.push(ms);
        t += ms;
      },
    };
    const yahoo = client({ clock: limiterClock, retries: 3 });
    const symbols = Array.from({ length: 300 }, (_, i) => `SYN${String(i).padStart(3, '0')}`);
    server.inject({ endpoint: 'quote', times: 4, fault: { kind: 'tooManyRequests', retryAfter: 2 } });
    const { clock, signal } = testClock('2025-02-18T15:00:00Z', '2025-02-18T15:00:30Z');
    const registry = new Registry();
    const { quotes } = await runQuotes({ client: yahoo, symbols, pollMs: MIN, clock, registry }, signal);
    expect(new Set(quotes.map((q) => q.symbol)).size).toBe(300); // the whole cycle
    expect(quoteRequests().filter((r) => r.status === 429)).toHaveLength(4);
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2000); // Yahoo's pause was honoured
    const text = await registry.metrics();
    expect(text).toMatch(/tickcast_yahoo_requests_total\{endpoint="quote",status="429"\} 4/);
    expect(text).toMatch(/tickcast_yahoo_retry_after_pauses_total 4/);
  });

  it('breaker open → last values kept, marked stale, status degraded; recovery when Yahoo is back', async () => {
    // No half-open delay: the breaker stays open until the next call, which is its probe (no sleep).
    const yahoo = client({ retries: 0, breakerThreshold: 1, breakerHalfOpenAfterMs: 0 });
    const seen: Array<{ state: string; stale: number; quote: string }> = [];
    let feed: ReturnType<typeof createYahooFeed> | undefined;
    const { clock, signal } = testClock('2025-02-18T15:00:00Z', '2025-02-18T15:03:30Z', async (i) => {
      const s = feed!.status();
      seen.push({
        state: s.state,
        stale: s.staleSymbols,
        quote: s.breakers.find((b) => b.endpoint === 'quote')!.state,
      });
      if (i === 1) server.inject({ endpoint: 'quote', times: Infinity, fault: { kind: 'status', status: 503 } });
      if (i === 2) server.clearFaults(); // Yahoo is back; the next cycle's call is the breaker's probe
    });
    feed = createYahooFeed({ client: yahoo, symbols: ['AAPL', 'MSFT'], pollMs: MIN, clock });
    const d = await TestDriver.forOperator(feed.quotes);
    await d.runSource(undefined, { signal });
    expect(seen).toEqual([
      { state: 'live', stale: 0, quote: 'closed' }, // after the first cycle
      { state: 'degraded', stale: 2, quote: 'open' }, // the batch failed: values kept, stale
      { state: 'live', stale: 0, quote: 'closed' }, // the probe succeeded
    ]);
    expect(feed.status().dataAgeMaxMs).toBeLessThanOrEqual(MIN);
    expect(d.read<Quote>('quotes')).toHaveLength(2); // nothing invented while stale
  });

  it('the status lists the stalest symbols, at most STALEST_SYMBOLS of a large universe', () => {
    const symbols = Array.from({ length: 5000 }, (_, i) => `SYN${String(i).padStart(4, '0')}`);
    const { stalest } = createYahooFeed({ client: client(), symbols, pollMs: MIN }).status();
    expect(stalest).toHaveLength(STALEST_SYMBOLS);
    expect(stalest![0]).toEqual({ symbol: 'SYN0000', ageMs: null, stale: false }); // none answered yet
  });

  it('market closed: a settle cycle after the close, then one every 30 min, and one at the next open', async () => {
    // Friday 2025-02-14, 15:58 New York (close 16:00 = 21:00 UTC); Monday 2025-02-17 is Presidents Day.
    const { clock, signal } = testClock('2025-02-14T20:58:00Z', '2025-02-18T14:32:30Z');
    const { yahoo, calls } = spied(clock);
    await runQuotes({ client: yahoo, symbols: ['AAPL'], pollMs: MIN, closedPollMs: 30 * MIN, clock }, signal);
    const iso = (t: number) => new Date(t).toISOString().slice(5, 16);
    const times = calls.map((c) => c.t);
    expect(times.slice(0, 4).map(iso)).toEqual(['02-14T20:58', '02-14T20:59', '02-14T21:00', '02-14T21:05']);
    const closed = times.filter((t) => t > at('2025-02-14T21:05:00Z') && t < at('2025-02-18T14:30:00Z'));
    const gaps = new Set(closed.slice(1).map((t, i) => (t - closed[i]!) / MIN));
    expect([...gaps]).toEqual([30]); // the whole long weekend, holiday included
    expect(closed.length).toBeGreaterThan(170);
    expect(times.filter((t) => t >= at('2025-02-18T14:30:00Z')).map(iso)).toEqual([
      '02-18T14:30', // the open
      '02-18T14:31',
      '02-18T14:32',
    ]);
  });

  it('polls watched symbols more often than the rest while the market is open', async () => {
    const { clock, signal } = testClock('2025-02-18T15:00:00Z', '2025-02-18T15:02:05Z');
    const { yahoo, calls } = spied(clock);
    const watched = new Set(['MSFT']);
    await runQuotes(
      {
        client: yahoo,
        symbols: ['AAPL', 'MSFT', 'GOOG'],
        watched: () => watched,
        pollMs: MIN,
        watchedPollMs: 15_000,
        clock,
      },
      signal,
    );
    const full = calls.filter((c) => c.symbols.length === 3).length;
    const msft = calls.filter((c) => c.symbols.join() === 'MSFT').length;
    expect(full).toBe(3); // 15:00, 15:01, 15:02
    expect(msft).toBe(6); // every 15 s between them
  });
});

describe('yahoo source: backfill, watermarks and daily bars', () => {
  /** The source and the daily bars operator, as in the pipeline. */
  async function sourceAndBars(feed: ReturnType<typeof createYahooFeed>, operator = feed.quotes) {
    return TestDriver.create(
      definePipeline({
        name: 'yahoo-bars',
        topics: {
          quotes: { schema: schemas.Quote, partitions: 1 },
          bars: { schema: schemas.Bar, partitions: 1 },
        },
        nodes: [
          { id: 'market-data', operator, writes: { quotes: 'quotes' } },
          { id: 'bars', operator: bars({ interval: '1d' }), reads: 'quotes', writes: { bars: 'bars' } },
        ],
      }),
    );
  }

  it('backfills daily history day by day, then the live day becomes one daily bar at the close', async () => {
    // Tuesday 2025-02-18 15:00 UTC: the SYNTHETIC history ends on 2025-02-13, the recorded quotes are of 02-14.
    const { clock, signal } = testClock('2025-02-18T15:00:00Z', '2025-02-18T15:01:30Z');
    const feed = createYahooFeed({
      client: client(),
      symbols: ['AAPL', 'MSFT', 'NONEXIST'],
      pollMs: MIN,
      clock,
      backfillFrom: at('2024-11-01T00:00:00Z'),
    });
    const d = await sourceAndBars(feed);
    await d.runSource('market-data', { signal });
    const days = sessionsBetween('2024-11-01', '2025-02-13').map((s) => s.dayStart);
    const quotes = d.read<Quote>('quotes');
    const history = quotes.filter((q) => q.source === 'yahoo-history');
    expect(history).toHaveLength(2 * days.length);
    expect(history.at(-1)).toMatchObject({ symbol: 'MSFT', ts: at('2025-02-13T21:00:00Z'), source: 'yahoo-history' });
    // Then the live quotes of 02-14 (after the backfilled days), once.
    expect(quotes.filter((q) => q.source === 'yahoo').map((q) => [q.symbol, q.ts])).toEqual([
      ['AAPL', RECORDED_TS],
      ['MSFT', RECORDED_TS],
    ]);
    const aapl = d.read<Bar>('bars').filter((b) => b.symbol === 'AAPL');
    expect(aapl.map((b) => b.ts)).toEqual([...days, at('2025-02-14T00:00:00Z')]);
    expect(aapl.at(-1)).toMatchObject({ interval: '1d', open: 241.07, high: 245.41, low: 241, close: 244.6 });
    expect(aapl.at(-2)!.close).toBe(241.53); // the history's last close = the quote's previous close
    expect(d.deadLetters('quotes').map((l) => l.reason)).toEqual([
      expect.stringMatching(/^NONEXIST: backfill from 2024-11-01 failed: Yahoo has no daily history for it/),
      'NONEXIST: Yahoo has no quote for it (unknown or delisted symbol)',
    ]);
    expect(feed.status()).toMatchObject({ state: 'stopped', backfill: { done: 3, total: 3 } });
  });

  it('a quote of a day the backfill already closed is the baseline, not re-emitted', async () => {
    // SYNTHETIC history here runs through 2025-02-14, the recorded quotes' day: that day is backfilled.
    const through14th = await startYahooFixtureServer({ syntheticCharts: { test: () => true, until: '2025-02-15' } });
    try {
      const { clock, signal } = testClock('2025-02-19T15:00:00Z', '2025-02-19T15:01:30Z');
      const yahoo = createYahooClient({ baseUrl: through14th.url, requestsPerMinute: 0, log: () => {} });
      const feed = createYahooFeed({
        client: yahoo,
        symbols: ['AAPL'],
        pollMs: MIN,
        clock,
        backfillFrom: at('2025-02-03T00:00:00Z'),
      });
      const d = await sourceAndBars(feed);
      await d.runSource('market-data', { signal });
      expect(through14th.requestsTo('quote')).toHaveLength(2);
      const quotes = d.read<Quote>('quotes');
      expect(quotes.at(-1)).toMatchObject({ ts: at('2025-02-14T21:00:00Z'), source: 'yahoo-history' });
      expect(quotes.every((q) => q.source === 'yahoo-history')).toBe(true);
      expect(d.deadLetters('quotes')).toEqual([]);
    } finally {
      await through14th.close();
    }
  });

  it('a bounded backfill (tickcast backfill) ends after the history', async () => {
    const { clock } = testClock('2025-02-18T15:00:00Z', '2025-02-19T00:00:00Z');
    const feed = createYahooFeed({ client: client(), symbols: ['AAPL', 'MSFT'], pollMs: MIN, clock });
    const d = await sourceAndBars(feed, feed.backfillOnly(at('2025-02-03T00:00:00Z'), ['AAPL']));
    await d.runSource('market-data');
    expect(d.read<Bar>('bars').map((b) => new Date(b.ts).toISOString().slice(0, 10))).toEqual(
      sessionsBetween('2025-02-03', '2025-02-13').map((s) => s.day),
    );
  });
});

describe('yahoo source: minute bars (TICKCAST_MINUTE_BARS=on)', () => {
  /** As pipelines/price-prediction.ts wires them with `minuteBars`: daily bars, and 1m bars of the live quotes only. */
  async function sourceAndMinuteBars(feed: ReturnType<typeof createYahooFeed>) {
    return TestDriver.create(
      definePipeline({
        name: 'yahoo-minute-bars',
        topics: {
          quotes: { schema: schemas.Quote, partitions: 1 },
          bars: { schema: schemas.Bar, partitions: 1 },
          'bars.1m': { schema: schemas.Bar, partitions: 1 },
        },
        nodes: [
          { id: 'market-data', operator: feed.quotes, writes: { quotes: 'quotes' } },
          { id: 'bars', operator: bars({ interval: '1d' }), reads: 'quotes', writes: { bars: 'bars' } },
          {
            id: 'bars-1m',
            operator: bars({ interval: '1m', sources: ['yahoo'] }),
            reads: 'quotes',
            writes: { bars: 'bars.1m' },
          },
        ],
      }),
    );
  }

  /**
   * SYNTHETIC: every quote request answers a new AAPL trade 20 s before the request (the test
   * clock's time), a cent higher each time, with 1,000 more shares of day volume; `lateAt`: that
   * request's trade is 3.5 min old instead.
   */
  function liveAapl(clock: FeedClock, lateAt?: number) {
    let n = 0;
    server.inject({
      endpoint: 'quote',
      times: Infinity,
      fault: {
        kind: 'editJson',
        edit: (body) => {
          n++;
          const r = (body as { quoteResponse: { result: Array<Record<string, unknown>> } }).quoteResponse.result;
          Object.assign(r.find((q) => q.symbol === 'AAPL')!, {
            regularMarketTime: (clock.now() - (n === lateAt ? 210_000 : 20_000)) / 1000,
            regularMarketPrice: 245 + n / 100,
            regularMarketVolume: 1_000_000 + n * 1_000,
          });
          return body;
        },
      },
    });
  }

  const minute = (b: Bar) => [new Date(b.ts).toISOString().slice(11, 16), b.close, b.volume, b.quotes];

  it('live quotes become 1m bars; the watermark follows the cycles (start − intradayLagMs), closing each minute', async () => {
    // Tuesday 2025-02-18, market open: a cycle a minute, 15:00 … 15:06; the lag is the app's (2 min).
    const { clock, signal } = testClock('2025-02-18T15:00:00Z', '2025-02-18T15:06:30Z');
    liveAapl(clock, 5); // the 15:04 cycle answers a trade of 15:00:30: behind the watermark
    const feed = createYahooFeed({ client: client(), symbols: ['AAPL'], pollMs: MIN, clock, intradayLagMs: 2 * MIN });
    const d = await sourceAndMinuteBars(feed);
    await d.runSource('market-data', { signal });
    expect(quoteRequests()).toHaveLength(7);
    expect(d.read<Quote>('quotes').map((q) => new Date(q.ts).toISOString().slice(11, 19))).toEqual([
      '14:59:40',
      '15:00:40',
      '15:01:40',
      '15:02:40',
      '15:04:40',
      '15:05:40',
    ]);
    // Closed minutes: each quote is its minute's bar; volume = growth of the day volume since the last closed minute.
    expect(d.read<Bar>('bars.1m').map(minute)).toEqual([
      ['14:59', 245.01, 1_001_000, 1], // the first minute seen takes the day's volume so far
      ['15:00', 245.02, 1_000, 1],
      ['15:01', 245.03, 1_000, 1],
      ['15:02', 245.04, 1_000, 1],
    ]);
    expect(d.read<Bar>('bars.1m').every((b) => b.interval === '1m' && b.source === 'yahoo')).toBe(true);
    // The late trade is refused by the source, with the watermark it is behind.
    expect(d.deadLetters('quotes').map((l) => l.reason)).toEqual([
      'AAPL: late quote: 2025-02-18T15:00:30.000Z is before the watermark 2025-02-18T15:01:00.000Z (its minute has closed)',
    ]);
  });

  it('without intradayLagMs (minute bars off) the watermark stays at the last closed day: no minute closes intraday', async () => {
    const { clock, signal } = testClock('2025-02-18T15:00:00Z', '2025-02-18T15:06:30Z');
    liveAapl(clock);
    const feed = createYahooFeed({ client: client(), symbols: ['AAPL'], pollMs: MIN, clock });
    const d = await sourceAndMinuteBars(feed);
    await d.runSource('market-data', { signal });
    expect(d.read<Quote>('quotes')).toHaveLength(7);
    expect(d.read<Bar>('bars.1m').map(minute)).toEqual([]);
  });
});

describe('yahoo source: news and earnings', () => {
  it('headlines about the symbol into news (source yahoo, minute precision, id from the uuid)', async () => {
    const { clock, signal } = testClock('2025-02-18T15:00:00Z', '2025-02-18T15:45:00Z');
    const feed = createYahooFeed({ client: client(), symbols: ['AAPL'], pollMs: MIN, clock, newsRefreshMs: 30 * MIN });
    const d = await TestDriver.forOperator(feed.news);
    await d.runSource(undefined, { signal });
    const news = d.read<News>('news');
    // 4 recorded items, one of them about BRK-B only: 3, each once across the two rounds.
    expect(server.requestsTo('search')).toHaveLength(2);
    expect(news).toHaveLength(3);
    expect(news[1]).toEqual({
      id: 'yahoo:AAPL:2025-02-25:bfb8b663-081c-3c2b-84e3-df8fff2c37d8',
      symbol: 'AAPL',
      ts: 1740462887_000,
      headline: 'Indonesia and Apple said to agree on terms to lift iPhone 16 ban',
      source: 'yahoo',
      url: 'https://finance.yahoo.com/news/indonesia-apple-said-agree-terms-055447668.html',
      body: null,
      precision: 'minute',
    });
  });

  it("writes each symbol's upcoming earnings days from Yahoo's calendarEvents", async () => {
    const { clock, signal } = testClock('2025-02-18T15:00:00Z', '2025-02-18T15:00:30Z');
    const feed = createYahooFeed({ client: client(), symbols: ['AAPL', 'QQQ'], pollMs: MIN, clock });
    const d = await TestDriver.forOperator(feed.earnings);
    await d.runSource(undefined, { signal });
    // AAPL's recorded window starts 2025-04-30 (New York date); QQQ (an ETF) has none, said as such.
    expect(d.read<Earnings>('earnings')).toEqual([
      { symbol: 'AAPL', ts: at('2025-02-18T15:00:00Z'), days: [at('2025-04-30T00:00:00Z')], source: 'yahoo' },
      { symbol: 'QQQ', ts: expect.any(Number), days: [], source: 'yahoo' },
    ]);
  });
});

/** The client with its quote calls recorded at the feed's clock time. */
function spied(clock: FeedClock) {
  const yahoo = client();
  const calls: Array<{ t: number; symbols: string[] }> = [];
  return {
    calls,
    yahoo: {
      ...yahoo,
      quotes: (symbols: readonly string[]) => {
        calls.push({ t: clock.now(), symbols: [...symbols] });
        return yahoo.quotes(symbols);
      },
    },
  };
}
