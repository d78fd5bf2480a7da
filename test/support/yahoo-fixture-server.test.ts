// What the Yahoo fixture server (a test double serving recorded real Yahoo responses) promises:
// checked with the real yahoo-finance2 client where the client is the point (the cookie/crumb
// flow), and with plain fetch where the wire is (statuses, headers, bodies, faults).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YahooFinance from 'yahoo-finance2';
import { ExtendedCookieJar } from 'yahoo-finance2/lib/cookieJar';
import { sessionsBetween } from '../../models/market-calendar.js';
import { createRateLimiter } from '../../operators/sources/rate-limit.js';
import { createYahooClient } from '../../operators/sources/yahoo-client.js';
import { createYahooFetch } from '../../operators/sources/yahoo-fetch.js';
import {
  BUNDLED_YAHOO_FIXTURES,
  QUOTE_ESSENTIAL_FIELDS,
  sharedYahooFixtures,
  startYahooFixtureServer,
  type YahooFixtureServer,
} from './yahoo-fixture-server.js';

let server: YahooFixtureServer;
beforeEach(async () => {
  server = await startYahooFixtureServer({ synthetic: { test: (s) => s.startsWith('SYN') } });
});
afterEach(() => server.close());

/** The recorded file's body as the recorder replays it. */
function recordedBody(file: string, dir = BUNDLED_YAHOO_FIXTURES): string {
  const { response } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  return response.bodyJson !== undefined ? JSON.stringify(response.bodyJson) : response.bodyText;
}

/** A request as yahoo-finance2 would send it once it has a session (cookie A3 and the crumb). */
function get(pathAndQuery: string, init: RequestInit = {}) {
  const url = new URL(pathAndQuery, server.url);
  if (url.pathname === '/v7/finance/quote' || url.pathname.startsWith('/v10/'))
    url.searchParams.set('crumb', server.crumb);
  return fetch(url, { ...init, headers: { cookie: 'A3=recorded-session', ...init.headers } });
}

const quoteSymbols = async (r: Response) =>
  ((await r.json()) as { quoteResponse: { result: Array<{ symbol: string }> } }).quoteResponse.result.map(
    (q) => q.symbol,
  );

describe('the Yahoo fixture server, through the real yahoo-finance2 client', () => {
  it('walks the recorded cookie/crumb flow, then answers a quote with its recording', async () => {
    const yf = new YahooFinance({
      fetch: createYahooFetch({
        limiter: createRateLimiter({ requestsPerMinute: 0 }),
        timeoutMs: 5_000,
        baseUrl: server.url,
      }),
      cookieJar: new ExtendedCookieJar(),
      versionCheck: false,
      suppressNotices: ['yahooSurvey'],
      logger: { info() {}, warn() {}, error() {}, debug() {}, dir() {} },
    });
    const quotes = await yf.quote(['AAPL', 'BABA'], { return: 'array' });
    expect(quotes.map((q) => [q.symbol, q.regularMarketPrice])).toEqual([
      ['AAPL', 244.6],
      ['BABA', 124.73],
    ]);
    expect(server.requests.map((r) => `${r.method} ${r.host}${r.path} ${r.status} ${r.served}`)).toEqual([
      'GET finance.yahoo.com/quote/AAPL 307 getCrumb-quote-AAPL.json',
      'GET guce.yahoo.com/consent 302 getCrumb-quote-AAPL-consent.html.json',
      'GET consent.yahoo.com/v2/collectConsent 200 getCrumb-quote-AAPL-collectConsent.html.json',
      'POST consent.yahoo.com/v2/collectConsent 302 getCrumb-quote-AAPL-collectConsentSubmit.json',
      'GET guce.yahoo.com/copyConsent 302 getCrumb-quote-AAPL-copyConsent.json',
      'GET finance.yahoo.com/quote/AAPL 301 getCrumb-quote-AAPL-consent-final-redirect.html.json',
      'GET query1.finance.yahoo.com/v1/test/getcrumb 200 getCrumb-getcrumb.json',
      'GET query2.finance.yahoo.com/v7/finance/quote 200 quote-AAPL-BABA.json',
    ]);
    // The consent form was filled from the recorded page, and the quote carried the recorded crumb.
    expect(server.requests[3]!.body).toContain('csrfToken=GoNrer0');
    expect(server.requests.at(-1)!.query.crumb).toBe('haT3oykhHqZ');
    expect(server.requests.at(-1)!.cookie).toMatch(/A3=/);
  });
});

describe('routing: recorded responses by path and the query that matters', () => {
  it('serves a recording byte for byte: status, headers and the body the recorder replays', async () => {
    const r = await get('/v7/finance/quote?symbols=AAPL%2CBABA');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json;charset=utf-8');
    expect(r.headers.get('date')).toBe('Mon, 17 Feb 2025 11:10:14 GMT');
    expect(await r.text()).toBe(recordedBody('quote-AAPL-BABA.json'));
  });

  it('assembles a quote for any symbol list from recorded results; a symbol nothing recorded is absent, as on Yahoo', async () => {
    const r = await get('/v7/finance/quote?symbols=MSFT,NOPE,GOOG,AAPL');
    expect(await quoteSymbols(r)).toEqual(['MSFT', 'GOOG', 'AAPL']);
    expect(server.requests.at(-1)!.served).toBe('assembled');
    // Yahoo's own answer to an unknown symbol, recorded: the legacy AAPL,NONEXIST file.
    const recorded = await get('/v7/finance/quote?symbols=AAPL,NONEXIST');
    expect(await quoteSymbols(recorded)).toEqual(['AAPL']);
    expect(server.requests.at(-1)!.served).toBe('legacy-v2-format/quoteCombine-AAPL-NONEXIST.json');
  });

  it('re-keys recorded quotes to SYNTHETIC symbols only when asked, and says so', async () => {
    const r = await get('/v7/finance/quote?symbols=SYN001,SYN002,AAPL');
    expect(r.headers.get('x-fixture-synthetic')).toMatch(/2 SYNTHETIC/);
    expect(await quoteSymbols(r)).toEqual(['SYN001', 'SYN002', 'AAPL']);
    expect(server.requests.at(-1)!.synthetic).toEqual(['SYN001', 'SYN002']);
    const plain = await startYahooFixtureServer();
    try {
      const none = await fetch(`${plain.url}/v7/finance/quote?symbols=SYN001&crumb=${plain.crumb}`, {
        headers: { cookie: 'A3=x' },
      });
      expect(await quoteSymbols(none)).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  it('fields=: a recording of those fields as recorded; else each record cut to the fields asked and the essentials Yahoo adds', async () => {
    const recorded = await get('/v7/finance/quote?symbols=MSFT&fields=beta');
    expect(await recorded.text()).toBe(recordedBody('quote-MSFT-fields-beta.json'));
    const full = JSON.parse(recordedBody('quote-AAPL-BABA.json')).quoteResponse.result as Array<
      Record<string, unknown>
    >;
    const cut = await get('/v7/finance/quote?symbols=AAPL,BABA&fields=regularMarketOpen,beta,noSuchField');
    expect(server.requests.at(-1)!.served).toBe('filtered quote-AAPL-BABA.json');
    const records = (await cut.json()).quoteResponse.result as Array<Record<string, unknown>>;
    records.forEach((record, i) => {
      const want = Object.fromEntries(
        Object.entries(full[i]!).filter(
          ([k]) => QUOTE_ESSENTIAL_FIELDS.has(k) || k === 'regularMarketOpen' || k === 'beta',
        ),
      );
      expect(record).toEqual(want);
      expect(Object.keys(record)).toContain('regularMarketOpen');
    });
    const assembled = await get('/v7/finance/quote?symbols=SYN001,GOOG&fields=regularMarketOpen');
    expect(server.requests.at(-1)!.served).toBe('assembled');
    for (const record of (await assembled.json()).quoteResponse.result as Array<Record<string, unknown>>) {
      expect(Object.keys(record).filter((k) => k !== 'regularMarketOpen' && !QUOTE_ESSENTIAL_FIELDS.has(k))).toEqual(
        [],
      );
      expect(record.regularMarketOpen).toEqual(expect.any(Number));
    }
  });

  it("the essentials are what Yahoo's recorded fields= answers hold beyond the fields asked", async () => {
    const dirs = [BUNDLED_YAHOO_FIXTURES, ...(sharedYahooFixtures() ? [sharedYahooFixtures()!] : [])];
    let checked = 0;
    for (const dir of dirs) {
      for (const file of readdirSync(dir).filter((f) => /^quote-.*-fields-.*\.json$/.test(f))) {
        const { request, response } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
        const asked = new Set((new URL(request.url).searchParams.get('fields') ?? '').split(','));
        for (const record of response.bodyJson.quoteResponse.result as Array<Record<string, unknown>>) {
          const keys = Object.keys(record);
          expect(new Set(keys.filter((k) => !asked.has(k) || QUOTE_ESSENTIAL_FIELDS.has(k)))).toEqual(
            QUOTE_ESSENTIAL_FIELDS,
          );
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(1);
  });

  it('answers quote and quoteSummary only within a session: "Invalid Cookie", "Invalid Crumb" as Yahoo does', async () => {
    const noCookie = await fetch(`${server.url}/v7/finance/quote?symbols=AAPL&crumb=${server.crumb}`);
    expect(noCookie.status).toBe(401);
    expect(await noCookie.json()).toEqual({
      finance: { result: null, error: { code: 'Unauthorized', description: 'Invalid Cookie' } },
    });
    const wrongCrumb = await fetch(`${server.url}/v10/finance/quoteSummary/AAPL?modules=price&crumb=stale`, {
      headers: { cookie: 'A3=x' },
    });
    expect(wrongCrumb.status).toBe(401);
    expect(await wrongCrumb.json()).toMatchObject({ finance: { error: { description: 'Invalid Crumb' } } });
    // chart and search need no crumb.
    expect((await fetch(`${server.url}/v1/finance/search?q=AAPL`)).status).toBe(200);
  });

  it("charts: the recorded window, a window inside a recorded one (trimmed), else Yahoo's 404", async () => {
    const exact = await get(
      '/v8/finance/chart/AAPL?interval=1d&period1=1577836800&period2=1578009600&events=div%7Csplit%7Cearn',
    );
    expect(await exact.text()).toBe(recordedBody('chart-AAPL-2020-01-01-to-2020-01-03.json'));
    // 2021-03-01 .. 2021-03-06 inside the recorded year of MSFT.
    const inside = await get('/v8/finance/chart/MSFT?interval=1d&period1=1614556800&period2=1614988800');
    const chart = (await inside.json()).chart.result[0];
    expect(chart.timestamp).toHaveLength(5);
    expect(chart.timestamp.every((t: number) => t >= 1614556800 && t < 1614988800)).toBe(true);
    expect(chart.indicators.quote[0].close).toHaveLength(5);
    expect(server.requests.at(-1)!.served).toBe(
      'trimmed historical-via-chart-MSFT-dividends-2021-02-01-to-2022-01-31.csv.json',
    );
    const unknown = await get('/v8/finance/chart/NOPE?interval=1d&period1=1614556800&period2=1614988800');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-fixture-miss')).toBe('GET /v8/finance/chart/NOPE');
    expect((await unknown.json()).chart.error.description).toBe('No data found, symbol may be delisted');
  });

  it('quoteSummary by symbol and modules, recorded 404s included; search by q', async () => {
    const qqq = await get('/v10/finance/quoteSummary/QQQ?formatted=false&modules=calendarEvents');
    expect(qqq.status).toBe(404);
    expect(await qqq.text()).toBe(recordedBody('quoteSummary-calendarEvents-QQQ.json'));
    const search = await get('/v1/finance/search?q=AAPL&quotesCount=0&newsCount=10');
    expect(await search.text()).toBe(recordedBody('search-AAPL.json'));
    const nothing = await get('/v1/finance/search?q=NOPE');
    expect((await nothing.json()).news).toEqual([]);
  });
});

describe('SYNTHETIC daily history (syntheticCharts)', () => {
  it('answers a 1d window no recording covers with re-dated recorded returns, ending at the quote; labelled', async () => {
    const synthetic = await startYahooFixtureServer({ syntheticCharts: { test: (s) => s !== 'NOPE' } });
    try {
      const yahoo = createYahooClient({ baseUrl: synthetic.url, requestsPerMinute: 0, log: () => {} });
      const { bars } = await yahoo.dailyHistory('AAPL', '2024-06-03', '2025-06-01');
      // NYSE sessions only, up to the day before the recorded quotes (2025-02-14).
      expect(bars.map((b) => b.date)).toEqual(sessionsBetween('2024-06-03', '2025-02-13').map((s) => s.day));
      expect(bars.at(-1)!.close).toBe(241.53); // AAPL's recorded regularMarketPreviousClose
      expect(bars.every((b) => b.low <= Math.min(b.open, b.close) && b.high >= Math.max(b.open, b.close))).toBe(true);
      expect(synthetic.requestsTo('chart')[0]).toMatchObject({ served: 'synthetic chart', synthetic: ['AAPL'] });
      // The same day gets the same bar whatever the window.
      const again = await yahoo.dailyHistory('AAPL', '2024-12-02', '2024-12-07');
      expect(again.bars).toEqual(bars.filter((b) => b.date >= '2024-12-02' && b.date < '2024-12-07'));
      // A recorded window is still served as recorded; a symbol not matching is Yahoo's 404.
      expect((await yahoo.dailyHistory('AAPL', '2020-01-01', '2020-01-03')).bars[0]!.volume).toBe(135480400);
      await expect(yahoo.dailyHistory('NOPE', '2024-06-03', '2024-07-01')).rejects.toThrow(/No data found/);
      // A window after the synthetic history ends: no bars.
      expect((await yahoo.dailyHistory('AAPL', '2025-03-03', '2025-03-08')).bars).toEqual([]);
    } finally {
      await synthetic.close();
    }
  });
});

describe('faults, injected per test', () => {
  it('429 with Retry-After, then the normal answer (`times` uses of a rule)', async () => {
    server.inject({ endpoint: 'quote', fault: { kind: 'tooManyRequests', retryAfter: 3 } });
    const limited = await get('/v7/finance/quote?symbols=AAPL');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(await limited.text()).toBe('Too Many Requests\r\n');
    expect((await get('/v7/finance/quote?symbols=AAPL')).status).toBe(200);
  });

  it('any status (500, 503), only for the endpoint and symbol named', async () => {
    server.inject({ endpoint: 'chart', symbol: 'MSFT', times: 2, fault: { kind: 'status', status: 503 } });
    expect((await get('/v1/finance/search?q=MSFT')).status).toBe(200);
    expect((await get('/v8/finance/chart/AAPL?interval=1d&period1=1577836800&period2=1578009600')).status).toBe(200);
    for (const _ of [1, 2]) {
      const r = await get('/v8/finance/chart/MSFT?interval=1d&period1=1614556800&period2=1614988800');
      expect([r.status, await r.text()]).toEqual([503, 'Service Unavailable\r\n']);
    }
    expect((await get('/v8/finance/chart/MSFT?interval=1d&period1=1614556800&period2=1614988800')).status).toBe(200);
    expect(server.requests.map((r) => r.served)).toContain('fault status');
  });

  it('invalid crumb or cookie, whatever the session', async () => {
    server.inject({ endpoint: 'quote', fault: { kind: 'invalidCrumb' } });
    server.inject({ endpoint: 'quote', fault: { kind: 'invalidCookie' } });
    const a = await get('/v7/finance/quote?symbols=AAPL');
    const b = await get('/v7/finance/quote?symbols=AAPL');
    expect([a.status, (await a.json()).finance.error.description]).toEqual([401, 'Invalid Crumb']);
    expect([b.status, (await b.json()).finance.error.description]).toEqual([401, 'Invalid Cookie']);
  });

  it('a getcrumb that hands out no crumb (empty body), or fails with 429', async () => {
    server.inject({ endpoint: 'getcrumb', fault: { kind: 'emptyCrumb' } });
    server.inject({ endpoint: 'getcrumb', fault: { kind: 'tooManyRequests', retryAfter: 1 } });
    const empty = await get('/v1/test/getcrumb');
    expect([empty.status, await empty.text()]).toEqual([200, '']);
    const throttled = await get('/v1/test/getcrumb');
    expect([throttled.status, throttled.headers.get('retry-after')]).toEqual([429, '1']);
    const normal = await get('/v1/test/getcrumb');
    expect([normal.status, await normal.text()]).toEqual([200, server.crumb]);
  });

  it('a slow answer', async () => {
    server.inject({ endpoint: 'search', fault: { kind: 'delay', ms: 150 } });
    const started = performance.now();
    expect((await get('/v1/finance/search?q=AAPL')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('malformed JSON: a well-framed 200 whose body is cut in half', async () => {
    server.inject({ fault: { kind: 'malformedJson' } });
    const r = await get('/v1/finance/search?q=AAPL');
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text.length).toBe(Math.floor(recordedBody('search-AAPL.json').length / 2));
    expect(() => JSON.parse(text)).toThrow();
  });

  it('a cut connection: before the headers, or in the middle of the body', async () => {
    server.inject({ fault: { kind: 'cut' } });
    await expect(get('/v1/finance/search?q=AAPL')).rejects.toThrow(/fetch failed/);
    server.inject({ fault: { kind: 'cut', when: 'midBody' } });
    const r = await get('/v1/finance/search?q=AAPL');
    expect(r.status).toBe(200);
    await expect(r.text()).rejects.toThrow();
    expect(server.requests.map((x) => x.status)).toEqual(['cut', 'cut']);
  });

  it('quote: symbols dropped (unknown to Yahoo), a partial batch', async () => {
    server.inject({ endpoint: 'quote', fault: { kind: 'dropSymbols', symbols: ['GOOG'] } });
    expect(await quoteSymbols(await get('/v7/finance/quote?symbols=AAPL,GOOG,AMZN'))).toEqual(['AAPL', 'AMZN']);
    server.inject({ endpoint: 'quote', fault: { kind: 'partialBatch', keep: 1 } });
    expect(await quoteSymbols(await get('/v7/finance/quote?symbols=AAPL,GOOG,AMZN'))).toEqual(['AAPL']);
  });

  it('another recorded file, or a SYNTHETIC edit of the normal body', async () => {
    server.inject({ endpoint: 'search', fault: { kind: 'serve', file: 'search-badResult.fake.json' } });
    expect(await (await get('/v1/finance/search?q=AAPL')).text()).toBe(recordedBody('search-badResult.fake.json'));
    server.inject({
      endpoint: 'quote',
      fault: {
        kind: 'editJson',
        edit: (body) => {
          (body as { quoteResponse: { result: Array<Record<string, unknown>> } }).quoteResponse
            .result[0]!.regularMarketPrice = 'n/a';
          return body;
        },
      },
    });
    const edited = await get('/v7/finance/quote?symbols=AAPL');
    expect(edited.headers.get('x-fixture-synthetic')).toMatch(/SYNTHETIC/);
    expect((await edited.json()).quoteResponse.result[0].regularMarketPrice).toBe('n/a');
    expect(server.requests.at(-1)!.served).toBe('quote-AAPL.json + fault editJson (SYNTHETIC)');
  });
});

describe.skipIf(sharedYahooFixtures() === undefined)('the full recorded set (../shared, when present)', () => {
  it('answers every recorded API request with its own recording', async () => {
    const dir = sharedYahooFixtures()!;
    const full = await startYahooFixtureServer({ dirs: [dir] });
    try {
      const files = full
        .files()
        .filter((f) => /^(quote|chart|historical|search|quoteSummary)-/.test(f) && !f.includes('.fake.'));
      expect(files.length).toBeGreaterThan(200);
      for (const file of files) {
        const { request, response } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
        const url = new URL(request.url);
        const r = await fetch(`${full.url}${url.pathname}${url.search}`, { headers: { cookie: 'A3=x' } });
        // chart-X and historical-via-chart-X of one window differ by `events`: each gets its own.
        expect(full.requests.at(-1)!.served).toBe(file);
        expect(r.status).toBe(response.status);
        expect(await r.text()).toBe(recordedBody(file, dir));
      }
    } finally {
      await full.close();
    }
  });
});
