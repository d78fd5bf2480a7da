// The yahoo client against the Yahoo fixture server (recorded real Yahoo responses, faults
// injected per test), with the REAL yahoo-finance2 inside: each test is a usage example.
// Timers are short (backoff 5–20 ms, half-open 100 ms); the Retry-After wait runs on a test clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BUNDLED_YAHOO_FIXTURES,
  QUOTE_ESSENTIAL_FIELDS,
  sharedYahooFixtures,
  startYahooFixtureServer,
  type YahooFixtureServer,
} from '../../test/support/yahoo-fixture-server.js';
import {
  type BreakerState,
  type Clock,
  createYahooClient,
  QUOTE_FIELDS,
  quoteTypesFirst,
  YahooCircuitOpenError,
  type YahooClient,
  type YahooClientOptions,
  YahooHttpError,
  YahooMalformedResponseError,
  YahooNetworkError,
  YahooNotFoundError,
  YahooSessionError,
  YahooTimeoutError,
} from './yahoo-client.js';

let server: YahooFixtureServer;
beforeEach(async () => {
  // SYN… symbols: SYNTHETIC, recorded quotes re-keyed (scale tests only).
  server = await startYahooFixtureServer({ synthetic: { test: (s) => /^SYN\d+$/.test(s) } });
});
afterEach(() => server.close());

/** A client on the fixture server, quick to retry; no rate limit unless a test sets one. */
function client(opts: YahooClientOptions = {}): YahooClient {
  return createYahooClient({
    baseUrl: server.url,
    requestsPerMinute: 0,
    retries: 3,
    retryMinDelayMs: 5,
    retryMaxDelayMs: 20,
    log: () => {},
    ...opts,
  });
}

const quoteRequests = () => server.requestsTo('quote');

describe('quotes', () => {
  it('reads real recorded quotes: the session first (cookie, consent, crumb), then one request', async () => {
    const yahoo = client();
    const { quotes, missing, invalid, failed } = await yahoo.quotes(['AAPL', 'BABA']);
    expect(quotes.get('AAPL')).toEqual({
      symbol: 'AAPL',
      ts: 1739566800_000, // regularMarketTime 2025-02-14 21:00 UTC
      price: 244.6,
      dayOpen: 241.07,
      dayHigh: 245.41,
      dayLow: 241,
      dayVolume: 40896227,
      previousClose: 241.53,
      currency: 'USD',
      exchange: 'NMS',
      exchangeTimezoneName: 'America/New_York',
      marketState: 'CLOSED',
      quoteType: 'EQUITY',
    });
    expect(quotes.get('BABA')?.price).toBe(124.73);
    expect([missing, invalid, failed]).toEqual([[], [], []]);
    expect(server.requests.map((r) => r.endpoint)).toEqual([...Array(6).fill('consent'), 'getcrumb', 'quote']);
    // Asked with `fields`: Yahoo's recording of the two, cut to those fields and Yahoo's essentials.
    expect(quoteRequests()[0]!.served).toBe('filtered quote-AAPL-BABA.json');
  });

  it('asks Yahoo only for the fields it reads (smaller records, quicker to validate); Yahoo adds its essentials', async () => {
    const { quotes } = await client().quotes(['SYN001', 'AAPL']);
    expect(quoteRequests()[0]!.query.fields!.split(',')).toEqual([...QUOTE_FIELDS]);
    expect(quotes.get('SYN001')).toMatchObject({ dayOpen: expect.any(Number), previousClose: expect.any(Number) });
    const served = await fetch(
      `${server.url}/v7/finance/quote?symbols=AAPL&fields=${QUOTE_FIELDS.join(',')}&crumb=${server.crumb}`,
      { headers: { cookie: 'A3=x' } },
    );
    const [record] = (await served.json()).quoteResponse.result as Array<Record<string, unknown>>;
    expect(
      Object.keys(record!).every(
        (k) => (QUOTE_FIELDS as readonly string[]).includes(k) || QUOTE_ESSENTIAL_FIELDS.has(k),
      ),
    ).toBe(true);
    expect(Object.keys(record!).length).toBeLessThan(35); // of the ~80 a quote without fields has
  });

  it('a record lacking a field the schema requires is still refused, with the field named', async () => {
    server.inject({
      endpoint: 'quote',
      fault: {
        kind: 'editJson', // SYNTHETIC: BABA's time zone abbreviation (required by yahoo-finance2's Quote) removed
        edit: (body) => {
          const result = (body as { quoteResponse: { result: Array<Record<string, unknown>> } }).quoteResponse.result;
          delete result[1]!.exchangeTimezoneShortName;
          return body;
        },
      },
    });
    const { quotes, invalid } = await client().quotes(['AAPL', 'BABA']);
    expect([...quotes.keys()]).toEqual(['AAPL']);
    expect(invalid).toEqual([
      {
        symbol: 'BABA',
        reason:
          'failed yahoo-finance2 schema validation: record: Missing required properties (exchangeTimezoneShortName)',
      },
    ]);
  });

  it('any list of recorded symbols, MSFT included (recorded with fields=beta), in one request', async () => {
    const { quotes } = await client().quotes(['MSFT', 'GOOG', 'AMZN', 'QQQ', 'BTC-USD']);
    expect([...quotes.keys()]).toEqual(['MSFT', 'GOOG', 'AMZN', 'QQQ', 'BTC-USD']);
    expect(quotes.get('MSFT')).toMatchObject({ price: 408.43, ts: 1739566800_000 });
    expect(quotes.get('BTC-USD')?.quoteType).toBe('CRYPTOCURRENCY');
    expect(quoteRequests()).toHaveLength(1);
  });

  it('batches at most 100 symbols a request: 250 SYNTHETIC symbols → 3 requests', async () => {
    const symbols = Array.from({ length: 250 }, (_, i) => `SYN${String(i).padStart(3, '0')}`);
    const { quotes, missing } = await client().quotes(symbols);
    expect(quotes.size).toBe(250);
    expect(missing).toEqual([]);
    expect(quoteRequests().map((r) => r.symbols.length)).toEqual([100, 100, 50]);
    expect(quoteRequests().every((r) => r.synthetic?.length === r.symbols.length)).toBe(true);
  });

  it('a symbol Yahoo does not know is reported missing (Yahoo leaves it out of the result)', async () => {
    const { quotes, missing } = await client().quotes(['AAPL', 'NONEXIST']);
    expect([...quotes.keys()]).toEqual(['AAPL']);
    expect(missing).toEqual(['NONEXIST']);
    expect(quoteRequests()[0]!.served).toBe('filtered legacy-v2-format/quoteCombine-AAPL-NONEXIST.json'); // Yahoo's own answer
  });

  it('a partial batch: what came is used, the rest is missing', async () => {
    server.inject({ endpoint: 'quote', fault: { kind: 'partialBatch', keep: 2 } });
    const { quotes, missing } = await client().quotes(['AAPL', 'GOOG', 'AMZN', 'ABBV']);
    expect([...quotes.keys()]).toEqual(['AAPL', 'GOOG']);
    expect(missing).toEqual(['AMZN', 'ABBV']);
  });

  it('a record failing yahoo-finance2 validation is reported with the reason; the rest of the batch is used', async () => {
    server.inject({
      endpoint: 'quote',
      fault: {
        kind: 'editJson', // SYNTHETIC: BABA's recorded price and time made unreadable
        edit: (body) => {
          const result = (body as { quoteResponse: { result: Array<Record<string, unknown>> } }).quoteResponse.result;
          Object.assign(result[1]!, { regularMarketPrice: 'n/a', regularMarketTime: 'yesterday' });
          return body;
        },
      },
    });
    const { quotes, invalid, missing } = await client().quotes(['AAPL', 'BABA']);
    expect([...quotes.keys()]).toEqual(['AAPL']);
    expect(missing).toEqual([]);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]!.symbol).toBe('BABA');
    expect(invalid[0]!.reason).toMatch(/^failed yahoo-finance2 schema validation: /);
    expect(invalid[0]!.reason).toMatch(/regularMarketPrice: Number.parseFloat returned NaN/);
    expect(invalid[0]!.reason).toMatch(/regularMarketTime: Expecting date'ish/);
  });

  it('validating the usual quote types first changes no result: every recorded quote type, valid or not', async () => {
    const dirs = [BUNDLED_YAHOO_FIXTURES, ...(sharedYahooFixtures() ? [sharedYahooFixtures()!] : [])];
    const all = await startYahooFixtureServer({ dirs });
    try {
      all.inject({
        endpoint: 'quote',
        times: Infinity,
        fault: {
          kind: 'editJson', // SYNTHETIC: every third record lacks `market`, every third has no usable price
          edit: (body) => {
            const result = (body as { quoteResponse: { result: Array<Record<string, unknown>> } }).quoteResponse.result;
            result.forEach((q, i) => {
              if (i % 3 === 1) delete q.market;
              if (i % 3 === 2) q.regularMarketPrice = 'n/a';
            });
            return body;
          },
        },
      });
      const symbols = all.quoteSymbols();
      const run = async (quoteTypesFirst?: string[]) => {
        const warnings: string[] = [];
        const r = await client({
          baseUrl: all.url,
          log: (_, m) => warnings.push(m),
          ...(quoteTypesFirst ? { quoteTypesFirst } : {}),
        }).quotes(symbols);
        return { quotes: [...r.quotes], invalid: r.invalid, missing: r.missing, failed: r.failed, warnings };
      };
      const usualFirst = await run();
      const libraryOrder = await run([]);
      expect(usualFirst).toEqual(libraryOrder);
      expect(usualFirst.warnings).toEqual([]);
      const types = new Set(usualFirst.quotes.map(([, q]) => q.quoteType));
      expect(types.has('EQUITY')).toBe(true);
      // The bundled recordings are equities only; ../shared's add ETFs, crypto, futures…
      if (sharedYahooFixtures()) expect(types.size).toBeGreaterThanOrEqual(3);
      expect(usualFirst.invalid.length).toBeGreaterThanOrEqual(2);
      expect(usualFirst.invalid.map((x) => x.reason).join()).toMatch(/Missing required properties \(market\)/);
    } finally {
      await all.close();
    }
  });

  it('asked with those fields, every recorded quote type passes the schema (futures too, when ../shared is there)', async () => {
    const dirs = [BUNDLED_YAHOO_FIXTURES, ...(sharedYahooFixtures() ? [sharedYahooFixtures()!] : [])];
    const all = await startYahooFixtureServer({ dirs });
    try {
      const { quotes, invalid } = await client({ baseUrl: all.url }).quotes(all.quoteSymbols());
      expect(invalid.filter((x) => x.reason.includes('schema'))).toEqual([]);
      const types = new Set([...quotes.values()].map((q) => q.quoteType));
      expect([...types]).toEqual(expect.arrayContaining(['EQUITY', 'ETF', 'CRYPTOCURRENCY']));
      if (sharedYahooFixtures()) expect([...types]).toEqual(expect.arrayContaining(['FUTURE', 'INDEX', 'MUTUALFUND']));
    } finally {
      await all.close();
    }
  });

  it('the fields asked, with the essentials Yahoo adds, hold every field a quote type requires', async () => {
    // The library's schema, read from its file for this check only (not an export).
    const { default: schema } = await import('../../node_modules/yahoo-finance2/esm/src/modules/quote.schema.js');
    const definitions = schema.definitions as Record<string, { required?: string[] }>;
    const have = new Set<string>([...QUOTE_FIELDS, ...QUOTE_ESSENTIAL_FIELDS]);
    const types = (schema.definitions.Quote.oneOf as Array<{ $ref: string }>).map((s) => s.$ref.split('/').pop()!);
    expect(types.length).toBeGreaterThan(5);
    for (const type of types)
      expect([type, definitions[type]!.required!.filter((f) => !have.has(f))]).toEqual([type, []]);
  });

  it("the quote types tried first lead the Quote schema's oneOf; the others keep the library's order", async () => {
    // The library's schema, read from its file for this check only (not an export).
    const { default: schema } = await import('../../node_modules/yahoo-finance2/esm/src/modules/quote.schema.js');
    const definitions = schema.definitions as Parameters<typeof quoteTypesFirst>[0];
    const refs = (d: typeof definitions) => d.Quote!.oneOf!.map((s) => s.$ref);
    const reordered = quoteTypesFirst(definitions, ['EQUITY', 'ETF']);
    expect(refs(reordered).slice(0, 2)).toEqual(['#/definitions/QuoteEquity', '#/definitions/QuoteEtf']);
    expect(refs(reordered).slice(2)).toEqual(refs(definitions).filter((r) => !/QuoteEquity|QuoteEtf/.test(r!)));
    expect(refs(definitions)).not.toEqual(refs(reordered)); // the library's own is untouched
    expect(quoteTypesFirst({}, ['EQUITY'])).toEqual({});
  });

  it('a batch that fails as a whole is reported in `failed`; the other batches are used', async () => {
    const symbols = Array.from({ length: 150 }, (_, i) => `SYN${String(i).padStart(3, '0')}`);
    server.inject({ endpoint: 'quote', symbol: 'SYN120', times: Infinity, fault: { kind: 'status', status: 503 } });
    const { quotes, failed } = await client({ retries: 1 }).quotes(symbols);
    expect(quotes.size).toBe(100);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.symbols).toEqual(symbols.slice(100));
    expect(failed[0]!.error).toBeInstanceOf(YahooHttpError);
    expect((failed[0]!.error as YahooHttpError).status).toBe(503);
  });
});

describe('failures Yahoo users meet every week', () => {
  it('429 with Retry-After: every request waits until it has passed, then the call succeeds', async () => {
    // The test clock records waits instead of sleeping; `after` = requests the server had seen.
    const timeline: Array<{ wait: number; after: number }> = [];
    let t = Date.now();
    const clock: Clock = {
      now: () => t,
      sleep: async (ms) => {
        timeline.push({ wait: ms, after: server.requests.length });
        t += ms;
      },
    };
    const yahoo = client({ clock });
    const pauses: number[] = [];
    yahoo.events.on('pause', (e) => pauses.push(e.retryAfterMs));
    server.inject({ endpoint: 'quote', fault: { kind: 'tooManyRequests', retryAfter: 2 } });

    const { quotes } = await yahoo.quotes(['AAPL']);

    expect(quotes.get('AAPL')?.price).toBe(244.6);
    expect(pauses).toEqual([2000]);
    const [limited, retried] = quoteRequests();
    expect([limited!.status, retried!.status]).toEqual([429, 200]);
    const limitedAt = server.requests.indexOf(limited!) + 1;
    // Nothing reached Yahoo between the 429 and the end of the 2 s it asked for.
    expect(server.requests.indexOf(retried!)).toBe(limitedAt);
    const waited = timeline.filter((w) => w.after === limitedAt).reduce((sum, w) => sum + w.wait, 0);
    expect(waited).toBeGreaterThanOrEqual(2000);
  });

  it('500 is retried with backoff, then succeeds', async () => {
    const yahoo = client();
    const retries: string[] = [];
    yahoo.events.on('retry', (e) => retries.push(`${e.endpoint} ${e.reason} ${e.error.name}`));
    server.inject({ endpoint: 'quote', fault: { kind: 'status', status: 500 } });
    const { quotes } = await yahoo.quotes(['AAPL']);
    expect(quotes.has('AAPL')).toBe(true);
    expect(quoteRequests().map((r) => r.status)).toEqual([500, 200]);
    expect(retries).toEqual(['quote transient YahooHttpError']);
  });

  it('"Invalid Crumb": the session is refreshed (a new cookie and crumb), the call retried once, and it succeeds', async () => {
    const yahoo = client();
    const sessions: string[] = [];
    yahoo.events.on('session', (e) => sessions.push(e.reason));
    await yahoo.quotes(['AAPL']); // a session exists
    const before = server.requests.length;
    server.inject({ endpoint: 'quote', fault: { kind: 'invalidCrumb' } });

    const { quotes } = await yahoo.quotes(['GOOG']);

    expect(quotes.has('GOOG')).toBe(true);
    expect(sessions).toEqual(['Yahoo refused the session (HTTP 401: Invalid Crumb)']);
    expect(server.requests.slice(before).map((r) => `${r.endpoint} ${r.status}`)).toEqual([
      'quote 401',
      'consent 307', // finance.yahoo.com/quote/AAPL → consent
      'consent 302',
      'consent 200', // the consent form
      'consent 302', // its POST
      'consent 302', // copyConsent: the session cookies
      'consent 301',
      'getcrumb 200',
      'quote 200',
    ]);
  });

  it('a session Yahoo keeps refusing: one refresh, then the call fails — no loop', async () => {
    const yahoo = client();
    server.inject({ endpoint: 'quote', times: Infinity, fault: { kind: 'invalidCookie' } });
    const { failed } = await yahoo.quotes(['AAPL']);
    expect(failed[0]!.error).toBeInstanceOf(YahooSessionError);
    expect(quoteRequests()).toHaveLength(2);
    expect(server.requestsTo('getcrumb')).toHaveLength(2); // the first session, and the one refresh
  });

  it('"Failed to get crumb" (getcrumb 429) and "Could not find crumb" (empty crumb): bounded attempts, then the breaker opens; no loop; it recovers', async () => {
    for (const fault of [{ kind: 'tooManyRequests' }, { kind: 'emptyCrumb' }] as const) {
      server.requests.length = 0;
      const yahoo = client({ retries: 2, breakerThreshold: 2, breakerHalfOpenAfterMs: 100 });
      const states: BreakerState[] = [];
      yahoo.events.on('breaker', (e) => states.push(e.state));
      await yahoo.refreshSession('a new test'); // the library keeps its crumb per process
      server.inject({ endpoint: 'getcrumb', times: Infinity, fault });

      const errors: Error[] = [];
      for (let i = 0; i < 5; i++) {
        const { failed, quotes } = await yahoo.quotes(['AAPL']);
        expect(quotes.size).toBe(0);
        errors.push(failed[0]!.error);
      }
      // Two calls fail (each after a bounded number of crumb attempts), then the breaker is open
      // and the next three fail at once, sending nothing.
      // 429 is transient: 1 + 2 retries a call; an empty crumb is a session failure: one refresh a call.
      const attempts = server.requestsTo('getcrumb').length;
      expect(attempts).toBe(fault.kind === 'tooManyRequests' ? 2 * 3 : 2 * 2);
      // Each attempt is one walk of the cookie/consent flow (6 requests) and one getcrumb: nothing more.
      expect(server.requests).toHaveLength(attempts * 7);
      expect(errors.slice(0, 2).map((e) => e.message)).toEqual(
        Array(2).fill(
          expect.stringMatching(fault.kind === 'emptyCrumb' ? /Could not find crumb/ : /HTTP 429 .*getcrumb/),
        ),
      );
      for (const e of errors.slice(0, 2)) {
        expect(e).toBeInstanceOf(fault.kind === 'emptyCrumb' ? YahooSessionError : YahooHttpError);
      }
      expect(errors.slice(2).every((e) => e instanceof YahooCircuitOpenError)).toBe(true);
      expect(quoteRequests()).toHaveLength(0); // no quote went out without a crumb
      expect(states).toEqual(['open']);

      // Yahoo hands out crumbs again: the probe after the half-open delay gets one, and quotes flow.
      server.clearFaults();
      await vi.waitFor(async () => expect((await yahoo.quotes(['AAPL'])).quotes.has('AAPL')).toBe(true), {
        timeout: 5000,
        interval: 20,
      });
      expect(states).toEqual(['open', 'half-open', 'closed']);
    }
  });

  it('malformed JSON, a cut connection and a timeout are retried like 5xx', async () => {
    const yahoo = client({ timeoutMs: 150 });
    const errors: unknown[] = [];
    yahoo.events.on('retry', (e) => errors.push(e.error.constructor));
    server.inject({ endpoint: 'search', fault: { kind: 'malformedJson' } });
    server.inject({ endpoint: 'search', fault: { kind: 'cut' } });
    server.inject({ endpoint: 'search', fault: { kind: 'delay', ms: 400 } });
    const { items } = await yahoo.news('AAPL');
    expect(items).toHaveLength(4);
    expect(errors).toEqual([YahooMalformedResponseError, YahooNetworkError, YahooTimeoutError]);

    server.inject({ endpoint: 'search', fault: { kind: 'cut', when: 'midBody' } });
    errors.length = 0;
    expect((await yahoo.news('AAPL')).items).toHaveLength(4);
    expect(errors).toEqual([YahooNetworkError]);
  });

  it('retries spent: the call fails with the last error', async () => {
    const yahoo = client({ retries: 2 });
    server.inject({ endpoint: 'search', times: Infinity, fault: { kind: 'cut' } });
    await expect(yahoo.news('AAPL')).rejects.toBeInstanceOf(YahooNetworkError);
    expect(server.requestsTo('search')).toHaveLength(3);
  });

  it("persistent failures open the endpoint's breaker; calls then fail fast; a probe after the delay closes it", async () => {
    const yahoo = client({ retries: 0, breakerThreshold: 3, breakerHalfOpenAfterMs: 100 });
    const states: Array<[string, BreakerState]> = [];
    yahoo.events.on('breaker', (e) => states.push([e.endpoint, e.state]));
    server.inject({ endpoint: 'chart', times: Infinity, fault: { kind: 'status', status: 503 } });
    const history = () => yahoo.dailyHistory('AAPL', '2020-01-01', '2020-01-03');

    for (let i = 0; i < 3; i++) await expect(history()).rejects.toBeInstanceOf(YahooHttpError);
    expect(states).toEqual([['chart', 'open']]);
    const open = await history().catch((e: unknown) => e);
    expect(open).toBeInstanceOf(YahooCircuitOpenError);
    expect((open as Error).message).toMatch(/^Yahoo chart: circuit open/);
    expect(server.requestsTo('chart')).toHaveLength(3); // the open breaker sent nothing
    expect(yahoo.breakerStates()).toEqual({ quote: 'closed', chart: 'open', search: 'closed', quoteSummary: 'closed' });
    // Other endpoints are unaffected.
    expect((await yahoo.news('AAPL')).items).toHaveLength(4);

    server.clearFaults(); // Yahoo is back
    // Calls fail fast (circuit open) until the half-open delay has passed; the probe then closes it.
    await vi.waitFor(async () => expect((await history()).bars).toHaveLength(1), { timeout: 5000, interval: 20 });
    expect(states).toEqual([
      ['chart', 'open'],
      ['chart', 'half-open'],
      ['chart', 'closed'],
    ]);
  });

  it('a failed probe opens the breaker again', async () => {
    const yahoo = client({ retries: 0, breakerThreshold: 1, breakerHalfOpenAfterMs: 50 });
    const states: BreakerState[] = [];
    yahoo.events.on('breaker', (e) => states.push(e.state));
    server.inject({ endpoint: 'chart', times: Infinity, fault: { kind: 'status', status: 500 } });
    const history = () => yahoo.dailyHistory('AAPL', '2020-01-01', '2020-01-03');
    await expect(history()).rejects.toBeInstanceOf(YahooHttpError);
    // Calls fail fast until the half-open delay has passed: the probe is the first that reaches Yahoo.
    await vi.waitFor(() => expect(history()).rejects.toBeInstanceOf(YahooHttpError), { timeout: 5000, interval: 20 });
    await expect(history()).rejects.toBeInstanceOf(YahooCircuitOpenError);
    expect(states).toEqual(['open', 'half-open', 'open']);
  });

  it('answers are not failures: unknown symbols, 404s and invalid data never open a breaker', async () => {
    const yahoo = client({ breakerThreshold: 1 });
    await expect(yahoo.dailyHistory('NOPE', '2020-01-01', '2020-01-03')).rejects.toBeInstanceOf(YahooNotFoundError);
    expect(await yahoo.upcomingEarnings('QQQ')).toBeNull();
    expect(yahoo.breakerStates()).toEqual({
      quote: 'closed',
      chart: 'closed',
      search: 'closed',
      quoteSummary: 'closed',
    });
    expect(server.requestsTo('chart')).toHaveLength(1); // not retried either
  });

  it('one shared rate limit across calls (lower bound only: 5 requests at 10/s take ≥ 4 intervals)', async () => {
    const yahoo = client({ requestsPerMinute: 600, burst: 1 });
    await Promise.all(['AAPL', 'GOOG', 'AMZN', 'ABBV', 'QQQ'].map((s) => yahoo.news(s)));
    const at = server.requestsTo('search').map((r) => r.at);
    expect(at).toHaveLength(5);
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThanOrEqual(350);
  });
});

describe('daily history (chart, interval 1d)', () => {
  it('parses the recorded AAPL bar of 2020-01-02', async () => {
    const history = await client().dailyHistory('AAPL', '2020-01-01', '2020-01-03');
    expect(history).toMatchObject({ symbol: 'AAPL', currency: 'USD', exchangeTimezoneName: 'America/New_York' });
    expect(history.bars).toHaveLength(1);
    expect(history.bars[0]).toMatchObject({ date: '2020-01-02', ts: 1577975400_000, volume: 135480400 });
    expect(history.bars[0]!.close).toBeCloseTo(75.0875, 3);
    expect(server.requestsTo('chart')[0]!.served).toBe('chart-AAPL-2020-01-01-to-2020-01-03.json');
  });

  it('any window inside a recorded one: MSFT, March 2021', async () => {
    const { bars } = await client().dailyHistory('MSFT', new Date('2021-03-01T00:00:00Z'), '2021-03-08');
    expect(bars.map((b) => b.date)).toEqual(['2021-03-01', '2021-03-02', '2021-03-03', '2021-03-04', '2021-03-05']);
    expect(bars.every((b) => b.low <= Math.min(b.open, b.close) && b.high >= Math.max(b.open, b.close))).toBe(true);
  });

  it('the money-market fund (0P0000XTS7): volume 0 and open = high = low = close, kept as Yahoo sent them', async () => {
    const { bars, instrumentType } = await client().dailyHistory('0P0000XTS7', '2024-09-12', '2024-09-16');
    expect(instrumentType).toBe('MUTUALFUND');
    expect(bars.map((b) => [b.date, b.open, b.high, b.low, b.close, b.volume])).toEqual([
      ['2024-09-12', 11887.099609375, 11887.099609375, 11887.099609375, 11887.099609375, 0],
      ['2024-09-13', 11892.1904296875, 11892.1904296875, 11892.1904296875, 11892.1904296875, 0],
    ]);
  });

  it('rows with null prices (as Yahoo sends for funds and holidays) are skipped and said so', async () => {
    server.inject({
      endpoint: 'chart',
      fault: {
        kind: 'editJson', // SYNTHETIC: the fund's first row's prices nulled
        edit: (body) => {
          const q = (body as { chart: { result: Array<{ indicators: { quote: Array<Record<string, unknown[]>> } }> } })
            .chart.result[0]!.indicators.quote[0]!;
          for (const k of ['open', 'high', 'low', 'close', 'volume']) q[k]![0] = null;
          return body;
        },
      },
    });
    const { bars, skipped } = await client().dailyHistory('0P0000XTS7', '2024-09-12', '2024-09-16');
    expect(bars.map((b) => b.date)).toEqual(['2024-09-13']);
    expect(skipped).toEqual([{ date: '2024-09-12', reason: 'no prices (null open, high, low or close)' }]);
  });

  it('a chart without timestamps is an invalid answer, not retried', async () => {
    server.inject({ endpoint: 'chart', fault: { kind: 'serve', file: 'chart-notimestamp-weird-quote.fake.json' } });
    await expect(client().dailyHistory('AAPL', '2020-01-01', '2020-01-03')).rejects.toThrow(/No timestamp/);
    expect(server.requestsTo('chart')).toHaveLength(1);
  });
});

describe('news (search)', () => {
  it('parses the recorded AAPL headlines', async () => {
    const { items, invalid } = await client().news('AAPL');
    expect(invalid).toEqual([]);
    expect(items).toHaveLength(4);
    expect(items[1]).toEqual({
      uuid: 'bfb8b663-081c-3c2b-84e3-df8fff2c37d8',
      title: 'Indonesia and Apple said to agree on terms to lift iPhone 16 ban',
      publisher: 'Bloomberg',
      link: 'https://finance.yahoo.com/news/indonesia-apple-said-agree-terms-055447668.html',
      providerPublishTime: 1740462887_000,
      relatedTickers: ['AAPL'],
      type: 'STORY',
    });
    expect(items[3]!.relatedTickers).toEqual(['BRK-B']); // Yahoo's search is loose: the source filters
    expect(server.requestsTo('search')[0]!.query).toMatchObject({ q: 'AAPL', newsCount: '10', quotesCount: '0' });
  });

  it("items failing the schema are reported, not used (yahoo-finance2's search-badResult.fake)", async () => {
    server.inject({ endpoint: 'search', fault: { kind: 'serve', file: 'search-badResult.fake.json' } });
    const { items, invalid } = await client().news('AAPL');
    expect(items).toEqual([]);
    expect(invalid).toEqual([{ reason: 'no uuid' }]);
  });
});

describe('upcoming earnings (quoteSummary calendarEvents)', () => {
  it("the recorded window of AAPL's next earnings", async () => {
    expect(await client().upcomingEarnings('AAPL')).toEqual({
      symbol: 'AAPL',
      earningsDates: [1746010740_000, 1746446400_000],
      isEstimate: true,
      callDates: [1738274400_000],
    });
  });

  it('an ETF or a crypto: Yahoo answers 404 "No fundamentals data found" → none, not an error', async () => {
    const yahoo = client();
    expect(await yahoo.upcomingEarnings('QQQ')).toBeNull();
    expect(await yahoo.upcomingEarnings('BTC-USD')).toBeNull();
    expect(server.requestsTo('quoteSummary').map((r) => [r.status, r.served])).toEqual([
      [404, 'quoteSummary-calendarEvents-QQQ.json'],
      [404, 'quoteSummary-calendarEvents-BTC-USD.json'],
    ]);
  });
});

describe('metrics hooks', () => {
  it('every request by kind and status, retries, pauses and breaker changes, for prom-client', async () => {
    const yahoo = client();
    const counts = new Map<string, number>();
    yahoo.events.on('request', (e) => {
      const key = `${e.kind} ${e.status}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      expect(e.durationMs).toBeGreaterThanOrEqual(0);
    });
    server.inject({ endpoint: 'quote', fault: { kind: 'status', status: 502 } });
    server.inject({ endpoint: 'chart', fault: { kind: 'cut' } });
    await yahoo.quotes(['AAPL']);
    await yahoo.dailyHistory('AAPL', '2020-01-01', '2020-01-03');
    await yahoo.upcomingEarnings('QQQ');
    expect(Object.fromEntries(counts)).toEqual({
      'session 307': 1,
      'session 302': 3,
      'session 200': 2,
      'session 301': 1,
      'quote 502': 1,
      'quote 200': 1,
      'chart network': 1,
      'chart 200': 1,
      'quoteSummary 404': 1,
    });
  });
});
