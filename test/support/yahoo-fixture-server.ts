// Yahoo fixture server: a TEST DOUBLE of Yahoo Finance's HTTP API — not Yahoo, and no request
// ever reaches Yahoo (there is no network to Yahoo here: ../shared/NOTES.md, "Yahoo"). It serves
// RECORDED real Yahoo responses: the fetch-mock-cache files of yahoo-finance2's test suite
// (../shared/data/yahoo-http-fixtures/, format in its README; a byte-identical subset ships in
// test/fixtures/yahoo/ so tests run without ../shared). The real `yahoo-finance2` client reaches
// it through the custom fetch of operators/sources/yahoo-fetch.ts (`baseUrl`), which rewrites
// Yahoo's origins to this server and names the original host in `x-forwarded-host`.
// Routing, by path and the query that matters (a recording whose request matches is served with
// its recorded status, headers and body, i.e. JSON.stringify(bodyJson) or bodyText, as the
// recorder replays them):
//   GET /v7/finance/quote?symbols=A,B[&fields=…]   that exact recording (fields included), else
//       ASSEMBLED from the recorded per-symbol results (a symbol nothing recorded is absent from
//       `result`, as Yahoo answers unknown symbols); symbols matching `synthetic` get a recorded
//       result re-keyed to them: SYNTHETIC, for scale tests only (header x-fixture-synthetic,
//       `synthetic` in the log). With `fields=` and no recording of those fields, each record
//       keeps only the fields asked plus the essentials Yahoo always adds (QUOTE_ESSENTIAL_FIELDS),
//       as Yahoo answers: the recording of the same symbols without fields "filtered <file>", or
//       the assembled answer.
//   GET /v8/finance/chart/:symbol?interval&period1&period2   that exact window, else the bars of a
//       recorded window of the same symbol and interval that covers it, trimmed to it ("trimmed");
//       else, for symbols matching `syntheticCharts`, SYNTHETIC daily history (below).
//   GET /v1/finance/search?q=…                      by q (counts are not part of the key).
//   GET /v10/finance/quoteSummary/:symbol?modules=… by symbol and module set (recorded 404s too).
//   Cookie/crumb: GET finance.yahoo.com/quote/AAPL (307 to consent) → guce /consent → consent
//       /v2/collectConsent (GET form, POST) → guce /copyConsent (the session cookies) → the final
//       redirect; GET query1…/v1/test/getcrumb → the recorded crumb.
//   quote and quoteSummary need the session, as on Yahoo: no session cookie → 401 "Invalid
//   Cookie", another crumb → 401 "Invalid Crumb" ({"finance":{"result":null,"error":…}}).
//   Anything else: 404 with `x-fixture-miss` (chart: Yahoo's "No data found" body; quoteSummary:
//   its "No fundamentals data found" body; search: an empty result), marked generated.
// Faults, per test (`inject`, first matching rule, `times` uses): 429 with Retry-After, any
// status (500, 503…), a delay before the normal answer, invalid crumb or cookie, a getcrumb
// that hands out no crumb (`emptyCrumb`; a failing getcrumb: 429/status on 'getcrumb'), malformed JSON
// (the normal body cut in half), a cut connection (before the headers, or mid-body), symbols
// dropped from a quote result (unknown symbol, partial batch), another recorded file, or an
// edited body (SYNTHETIC). Every request is recorded in `requests`, with what answered it.
// SYNTHETIC daily history (`syntheticCharts`, for full runs that need months of bars): the recorded
// quotes are from 2025-02-14, and the recorded charts are short windows of other years, so a
// backfill before them finds nothing real. For a matching symbol, a 1d chart window no recording
// covers is answered with the bars of the NYSE sessions in it up to the day before `until`
// (default 2025-02-14, the recorded quotes' day, so they arrive as the next live day): the daily
// returns and OHLC shapes of the recorded MSFT year (2021-02 … 2022-01) re-dated onto those
// sessions, counted back from the last one, and scaled so that day's close is the symbol's
// recorded (or re-keyed) quote's previous close. The same day always gets the same bar, whatever
// the window. Labelled: header x-fixture-synthetic, `served` 'synthetic chart', `synthetic`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sessionsBetween } from '../../models/market-calendar.js';
import { fnv1a, readBody } from './doubles-shared.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The subset of recordings shipped with the tests (test/fixtures/yahoo/README.md). */
export const BUNDLED_YAHOO_FIXTURES = resolve(here, '../fixtures/yahoo');
/** The full recorded set, outside the project; may be absent. */
export const SHARED_YAHOO_FIXTURES = resolve(here, '../../../shared/data/yahoo-http-fixtures');

/** The full recorded set when ../shared is there, else undefined. */
export function sharedYahooFixtures(): string | undefined {
  return existsSync(SHARED_YAHOO_FIXTURES) ? SHARED_YAHOO_FIXTURES : undefined;
}

export type YahooFixtureEndpoint = 'quote' | 'chart' | 'search' | 'quoteSummary' | 'getcrumb' | 'consent' | 'other';

export type YahooFault =
  /** 429 "Too Many Requests", as Yahoo throttles; Retry-After in seconds or an HTTP date. */
  | { kind: 'tooManyRequests'; retryAfter?: number | string }
  /** Any status with a short text body (500 "Internal Server Error", 503…). */
  | { kind: 'status'; status: number; retryAfter?: number | string; body?: string }
  /** 401 {"finance":{"error":{"code":"Unauthorized","description":"Invalid Crumb"}}}. */
  | { kind: 'invalidCrumb' }
  /** 401 … "Invalid Cookie". */
  | { kind: 'invalidCookie' }
  /**
   * getcrumb: 200 with an empty body, as Yahoo answers when it will not hand out a crumb
   * (yahoo-finance2: "Could not find crumb"; its "Failed to get crumb" is a non-200, e.g. a
   * `tooManyRequests` rule on endpoint 'getcrumb').
   */
  | { kind: 'emptyCrumb' }
  /** Wait, then the normal answer (a slow Yahoo). */
  | { kind: 'delay'; ms: number }
  /** 200 with the normal JSON body cut in half (a complete, well-framed response). */
  | { kind: 'malformedJson' }
  /** Drop the connection: before any byte of the response, or after the headers and half the body. */
  | { kind: 'cut'; when?: 'beforeHeaders' | 'midBody' }
  /** quote: leave these symbols out of `result` (Yahoo's answer for a symbol it does not know). */
  | { kind: 'dropSymbols'; symbols: string[] }
  /** quote: only the first `keep` results (a partial batch). */
  | { kind: 'partialBatch'; keep: number }
  /** Serve this recorded file instead (e.g. search-badResult.fake.json). */
  | { kind: 'serve'; file: string }
  /** SYNTHETIC: the normal JSON body passed through `edit` (e.g. one record made invalid). */
  | { kind: 'editJson'; edit: (body: unknown) => unknown };

export interface YahooFaultRule {
  fault: YahooFault;
  /** Which requests (default: any API request: quote, chart, search, quoteSummary). */
  endpoint?: YahooFixtureEndpoint | YahooFixtureEndpoint[];
  /** Only requests naming this symbol (in `symbols`, the path, or `q`). */
  symbol?: string;
  /** How many matching requests it answers (default 1; Infinity: until cleared). */
  times?: number;
}

export interface YahooFixtureRequest {
  /** Date.now() when it arrived. */
  at: number;
  method: string;
  /** The Yahoo host it was meant for (x-forwarded-host), else this server's. */
  host: string;
  path: string;
  query: Record<string, string>;
  endpoint: YahooFixtureEndpoint;
  /** quote: the symbols asked; chart, quoteSummary: the path symbol; search: q. */
  symbols: string[];
  cookie: string;
  /** The request body (the consent form POST). */
  body?: string;
  /** Set when answered; 'cut' when the connection was dropped. */
  status?: number | 'cut';
  /** What answered: a recorded file name, 'assembled', 'filtered <file>' (fields=), 'trimmed <file>', 'generated', 'fault <kind>'. */
  served?: string;
  /** SYNTHETIC symbols answered with re-keyed recorded results. */
  synthetic?: string[];
}

export interface YahooFixtureServerOptions {
  /** Folders of recordings, later ones adding to earlier ones; default [BUNDLED_YAHOO_FIXTURES]. */
  dirs?: string[];
  /** SYNTHETIC quotes: symbols for which `test` is true get a recorded result re-keyed to them. */
  synthetic?: { test: (symbol: string) => boolean; templates?: string[] };
  /** Check the session cookie and crumb on quote and quoteSummary (default true). */
  checkSession?: boolean;
  /** Port on 127.0.0.1 (default 0: any free one). */
  port?: number;
  /** SYNTHETIC daily history for symbols where `test` is true (see the header); `until`: YYYY-MM-DD, exclusive. */
  syntheticCharts?: { test: (symbol: string) => boolean; until?: string };
}

/**
 * The fields real Yahoo puts in every `fields=` quote answer, asked or not: the fields common to
 * the recorded `fields=` answers (quote-MSFT-fields-beta, bundled; quote-TSLA-fields-symbol and
 * quote-TSLA-fields-symbol-shortName in ../shared), less those they asked for; the server's tests
 * check this against every such recording loaded. They include every field yahoo-finance2's Quote
 * schema requires. A record keeps those of them its recording has.
 */
export const QUOTE_ESSENTIAL_FIELDS: ReadonlySet<string> = new Set([
  'language',
  'region',
  'quoteType',
  'typeDisp',
  'quoteSourceName',
  'triggerable',
  'customPriceAlertConfidence',
  'marketState',
  'regularMarketPrice',
  'regularMarketTime',
  'tradeable',
  'cryptoTradeable',
  'exchange',
  'exchangeTimezoneName',
  'exchangeTimezoneShortName',
  'gmtOffSetMilliseconds',
  'market',
  'esgPopulated',
  'priceHint',
  'fullExchangeName',
  'sourceInterval',
  'exchangeDataDelayedBy',
  'hasPrePostMarketData',
  'firstTradeDateMilliseconds',
  'symbol',
]);

/** The day of the recorded quotes (regularMarketTime 2025-02-14 21:00 UTC): SYNTHETIC history ends the session before. */
export const SYNTHETIC_HISTORY_UNTIL = '2025-02-14';
/** The recorded year of daily bars SYNTHETIC history borrows its returns and shapes from. */
const CHART_TEMPLATE = 'historical-via-chart-MSFT-dividends-2021-02-01-to-2022-01-31.csv.json';

export interface YahooFixtureServer {
  /** e.g. http://127.0.0.1:38123: the yahoo client's `baseUrl`. */
  url: string;
  /** Every request, in arrival order. */
  requests: YahooFixtureRequest[];
  /** The crumb the recorded getcrumb answers. */
  crumb: string;
  /** Symbols with a recorded quote result. */
  quoteSymbols(): string[];
  /** Recording file names loaded. */
  files(): string[];
  inject(rule: YahooFaultRule): void;
  clearFaults(): void;
  /** Requests of one endpoint (shorthand for filtering `requests`). */
  requestsTo(endpoint: YahooFixtureEndpoint): YahooFixtureRequest[];
  close(): Promise<void>;
}

interface Recording {
  file: string;
  method: string;
  url: URL;
  endpoint: YahooFixtureEndpoint;
  key: string;
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: string;
  fake: boolean;
  legacy: boolean;
}

interface Answer {
  status: number;
  statusText?: string;
  headers: Array<[string, string]>;
  body: string;
  served: string;
  synthetic?: string[];
}

const API: YahooFixtureEndpoint[] = ['quote', 'chart', 'search', 'quoteSummary'];
/** Recorded session cookies Yahoo's API accepts (set by copyConsent). */
const SESSION_COOKIES = /(?:^|;\s*)(A1|A3)=/;
/** Headers not replayed: the framing of the recorded transfer, not of ours. */
const DROPPED_HEADERS = new Set([
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
]);

export async function startYahooFixtureServer(opts: YahooFixtureServerOptions = {}): Promise<YahooFixtureServer> {
  const recordings = loadRecordings(opts.dirs ?? [BUNDLED_YAHOO_FIXTURES]);
  const byKey = new Map<string, Recording[]>();
  for (const r of recordings) {
    const list = byKey.get(r.key) ?? [];
    list.push(r);
    byKey.set(r.key, list);
  }
  // Real recordings before .fake ones, current format before legacy.
  for (const list of byKey.values()) list.sort((a, b) => rank(a) - rank(b));
  const quoteIndex = indexQuoteResults(recordings);
  const crumbRecording = recordings.find((r) => r.endpoint === 'getcrumb' && r.status === 200);
  const crumb = crumbRecording?.body ?? '';
  const quoteHeaders = recordings.find((r) => r.endpoint === 'quote' && r.status === 200)?.headers ?? [];
  const templates = opts.synthetic?.templates ?? defaultTemplates(quoteIndex);
  const checkSession = opts.checkSession ?? true;

  const requests: YahooFixtureRequest[] = [];
  let faults: Array<YahooFaultRule & { left: number }> = [];
  const sockets = new Set<Socket>();

  const takeFault = (entry: YahooFixtureRequest): YahooFault | undefined => {
    for (const rule of faults) {
      if (rule.left <= 0) continue;
      const endpoints = rule.endpoint === undefined ? API : [rule.endpoint].flat();
      if (!endpoints.includes(entry.endpoint)) continue;
      if (rule.symbol !== undefined && !entry.symbols.includes(rule.symbol)) continue;
      rule.left--;
      return rule.fault;
    }
    return undefined;
  };

  const route = (entry: YahooFixtureRequest, url: URL): Answer => {
    if (checkSession && (entry.endpoint === 'quote' || entry.endpoint === 'quoteSummary')) {
      if (!SESSION_COOKIES.test(entry.cookie)) return unauthorized('Invalid Cookie');
      if (url.searchParams.get('crumb') !== crumb) return unauthorized('Invalid Crumb');
    }
    const exact = byKey.get(keyOf(entry.method, entry.endpoint, url));
    if (exact?.[0]) {
      // Of several recordings with this key (e.g. chart with different `events`), the same query wins.
      const pick = exact.find((r) => sameQuery(r.url, url)) ?? exact[0];
      return replay(pick);
    }
    const fields = quoteFieldsOf(url);
    if (entry.endpoint === 'quote' && fields) {
      const whole = new URL(url);
      whole.searchParams.delete('fields');
      const recorded = byKey.get(keyOf(entry.method, entry.endpoint, whole))?.[0];
      if (recorded) return filteredQuotes(recorded, fields);
    }
    switch (entry.endpoint) {
      case 'quote':
        return assembleQuotes(entry, fields);
      case 'chart':
        return trimmedChart(entry.symbols[0] ?? '', url) ?? syntheticChart(entry, url) ?? miss(entry, chartNotFound());
      case 'quoteSummary':
        return miss(entry, quoteSummaryNotFound(url.searchParams.get('modules') ?? ''));
      case 'search':
        return miss(entry, emptySearch(), 200);
      default:
        return miss(entry, {
          finance: { result: null, error: { code: 'Not Found', description: 'HTTP 404 Not Found' } },
        });
    }
  };

  const assembleQuotes = (entry: YahooFixtureRequest, fields: ReadonlySet<string> | undefined): Answer => {
    const result: unknown[] = [];
    const synthetic: string[] = [];
    const shape = (record: Record<string, unknown>) => (fields ? onlyFields(record, fields) : record);
    for (const symbol of entry.symbols) {
      const recorded = quoteIndex.get(symbol)?.record;
      if (recorded) {
        result.push(shape(recorded));
      } else if (opts.synthetic?.test(symbol) && templates.length > 0) {
        const template = quoteIndex.get(templates[fnv1a(symbol) % templates.length]!)!.record;
        result.push(shape({ ...template, symbol }));
        synthetic.push(symbol);
      }
    }
    const headers = quoteHeaders.filter(([k]) => k !== 'date' && k !== 'age');
    if (synthetic.length > 0) {
      headers.push(['x-fixture-synthetic', `${synthetic.length} SYNTHETIC records: recorded quotes re-keyed`]);
    }
    return {
      status: 200,
      headers,
      body: JSON.stringify({ quoteResponse: { result, error: null } }),
      served: 'assembled',
      ...(synthetic.length > 0 ? { synthetic } : {}),
    };
  };

  const trimmedChart = (symbol: string, url: URL): Answer | undefined => {
    const interval = url.searchParams.get('interval') ?? '1d';
    const p1 = Number(url.searchParams.get('period1'));
    const p2 = Number(url.searchParams.get('period2'));
    if (!Number.isFinite(p1) || !Number.isFinite(p2)) return undefined;
    const covering = recordings
      .filter((r) => r.endpoint === 'chart' && r.status === 200 && !r.fake && pathSymbol(r.url) === symbol)
      .filter((r) => (r.url.searchParams.get('interval') ?? '1d') === interval)
      .filter((r) => Number(r.url.searchParams.get('period1')) <= p1 && Number(r.url.searchParams.get('period2')) >= p2)
      .sort((a, b) => span(a.url) - span(b.url));
    const source = covering[0];
    if (!source) return undefined;
    const body = JSON.parse(source.body) as ChartBody;
    const chart = body.chart.result?.[0];
    if (chart?.timestamp) trimChart(chart, p1, p2);
    return {
      status: 200,
      headers: [...source.headers, ['x-fixture', `trimmed ${source.file}`]],
      body: JSON.stringify(body),
      served: `trimmed ${source.file}`,
    };
  };

  const chartTemplate = loadChartTemplate(recordings);
  /** The quote record a symbol is answered with (recorded, or re-keyed when SYNTHETIC). */
  const quoteRecord = (symbol: string): Record<string, unknown> | undefined =>
    quoteIndex.get(symbol)?.record ??
    (opts.synthetic?.test(symbol) && templates.length > 0
      ? quoteIndex.get(templates[fnv1a(symbol) % templates.length]!)!.record
      : undefined);

  const syntheticChart = (entry: YahooFixtureRequest, url: URL): Answer | undefined => {
    const symbol = entry.symbols[0] ?? '';
    if (!opts.syntheticCharts?.test(symbol) || !chartTemplate) return undefined;
    if ((url.searchParams.get('interval') ?? '1d') !== '1d') return undefined;
    const p1 = Number(url.searchParams.get('period1')) * 1000;
    const p2 = Number(url.searchParams.get('period2')) * 1000;
    if (!Number.isFinite(p1) || !Number.isFinite(p2)) return undefined;
    const until = Date.parse(`${opts.syntheticCharts.until ?? SYNTHETIC_HISTORY_UNTIL}T00:00:00Z`);
    const previousClose = quoteRecord(symbol)?.regularMarketPreviousClose;
    const anchor = typeof previousClose === 'number' ? previousClose : 20 + (fnv1a(symbol) % 480);
    const bars = syntheticDailyBars(chartTemplate, anchor, Math.min(p1, until), until - 86_400_000).filter(
      (b) => b.ts >= p1 && b.ts < p2,
    );
    const q = bars.map((b) => b.bar);
    const result = {
      meta: {
        ...chartTemplate.meta,
        symbol,
        longName: `${symbol} (SYNTHETIC history)`,
        shortName: `${symbol} (SYNTHETIC history)`,
        regularMarketPrice: anchor,
        chartPreviousClose: q[0]?.close ?? anchor,
      },
      ...(bars.length > 0 ? { timestamp: bars.map((b) => b.ts / 1000) } : {}),
      indicators: {
        quote: [
          bars.length > 0
            ? {
                open: q.map((b) => b.open),
                high: q.map((b) => b.high),
                low: q.map((b) => b.low),
                close: q.map((b) => b.close),
                volume: q.map((b) => b.volume),
              }
            : {},
        ],
        ...(bars.length > 0 ? { adjclose: [{ adjclose: q.map((b) => b.close) }] } : {}),
      },
    };
    return {
      status: 200,
      headers: [
        JSON_TYPE,
        ['x-fixture-synthetic', `SYNTHETIC daily history: ${CHART_TEMPLATE} returns re-dated, scaled to the quote`],
      ],
      body: JSON.stringify({ chart: { result: [result], error: null } }),
      served: 'synthetic chart',
      synthetic: [symbol],
    };
  };

  /** A fault that answers instead of the route ('cut': nothing to send), or undefined. */
  const applyFault = async (
    fault: YahooFault | undefined,
    res: ServerResponse,
  ): Promise<Answer | 'cut' | undefined> => {
    if (!fault) return undefined;
    const tag = `fault ${fault.kind}`;
    switch (fault.kind) {
      case 'tooManyRequests':
        return textAnswer(429, 'Too Many Requests\r\n', tag, fault.retryAfter);
      case 'status':
        return textAnswer(fault.status, fault.body ?? `${httpText(fault.status)}\r\n`, tag, fault.retryAfter);
      case 'invalidCrumb':
        return { ...unauthorized('Invalid Crumb'), served: tag };
      case 'invalidCookie':
        return { ...unauthorized('Invalid Cookie'), served: tag };
      case 'emptyCrumb':
        return textAnswer(200, '', tag);
      case 'delay':
        await sleep(fault.ms);
        return res.destroyed ? 'cut' : undefined;
      case 'cut':
        if ((fault.when ?? 'beforeHeaders') === 'beforeHeaders') {
          res.socket?.destroy();
          return 'cut';
        }
        return undefined; // mid-body: below, once the normal answer is known
      case 'serve': {
        const r = recordings.find((x) => x.file === fault.file || x.file.endsWith(`/${fault.file}`));
        if (!r) throw new Error(`yahoo fixture server: no recording named ${fault.file}`);
        return replay(r);
      }
      default:
        return undefined; // transforms of the normal answer: below
    }
  };

  const transform = (fault: YahooFault | undefined, answer: Answer): Answer => {
    if (!fault) return answer;
    const tag = `${answer.served} + fault ${fault.kind}`;
    switch (fault.kind) {
      case 'malformedJson':
        return { ...answer, status: 200, body: answer.body.slice(0, Math.floor(answer.body.length / 2)), served: tag };
      case 'dropSymbols':
      case 'partialBatch': {
        const body = JSON.parse(answer.body) as { quoteResponse?: { result?: Array<{ symbol?: string }> } };
        const result = body.quoteResponse?.result ?? [];
        const kept =
          fault.kind === 'dropSymbols'
            ? result.filter((r) => !fault.symbols.includes(r.symbol ?? ''))
            : result.slice(0, fault.keep);
        if (body.quoteResponse) body.quoteResponse.result = kept;
        return { ...answer, body: JSON.stringify(body), served: tag };
      }
      case 'editJson':
        return {
          ...answer,
          headers: [...answer.headers, ['x-fixture-synthetic', 'SYNTHETIC: recorded body edited by the test']],
          body: JSON.stringify(fault.edit(JSON.parse(answer.body))),
          served: `${tag} (SYNTHETIC)`,
        };
      default:
        return answer;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const endpoint = endpointOf(url.pathname);
    const entry: YahooFixtureRequest = {
      at: Date.now(),
      method,
      host: header(req, 'x-forwarded-host') ?? header(req, 'host') ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      endpoint,
      symbols: symbolsOf(endpoint, url),
      cookie: header(req, 'cookie') ?? '',
      ...(body !== '' ? { body } : {}),
    };
    requests.push(entry);

    const fault = takeFault(entry);
    const early = await applyFault(fault, res);
    if (early === 'cut') {
      entry.status = 'cut';
      entry.served = `fault ${fault?.kind}`;
      return;
    }
    const answer = early ?? transform(fault, route(entry, url));
    entry.status = answer.status;
    entry.served = answer.served;
    if (answer.synthetic) entry.synthetic = answer.synthetic;
    if (fault?.kind === 'cut') {
      entry.status = 'cut';
      entry.served = `${answer.served} + fault cut midBody`;
      send(res, answer, true);
      return;
    }
    send(res, answer, false);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, textAnswer(500, `yahoo fixture server: ${String(e)}`, 'error'), false);
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((done) => server.listen(opts.port ?? 0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    crumb,
    quoteSymbols: () => [...quoteIndex.keys()],
    files: () => recordings.map((r) => r.file),
    inject(rule) {
      faults.push({ ...rule, left: rule.times ?? 1 });
    },
    clearFaults() {
      faults = [];
    },
    requestsTo: (endpoint) => requests.filter((r) => r.endpoint === endpoint),
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}

// --- recordings -------------------------------------------------------------------------------

interface FixtureFile {
  request: { url: string; method?: string };
  response: {
    status: number;
    statusText?: string;
    headers?: Record<string, string | string[]>;
    bodyJson?: unknown;
    bodyText?: string;
  };
}

function loadRecordings(dirs: string[]): Recording[] {
  const out: Recording[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    for (const path of jsonFiles(dir)) {
      const file = relative(dir, path);
      if (seen.has(file)) continue; // the same recording in two folders: the first one
      seen.add(file);
      const data = JSON.parse(readFileSync(path, 'utf8')) as FixtureFile;
      if (!data.request?.url || !data.response) continue;
      const url = new URL(data.request.url);
      const method = data.request.method ?? 'GET';
      const endpoint = endpointOf(url.pathname);
      const { response } = data;
      out.push({
        file,
        method,
        url,
        endpoint,
        key: keyOf(method, endpoint, url),
        status: response.status,
        statusText: response.statusText ?? httpText(response.status),
        headers: replayedHeaders(response.headers ?? {}),
        // What fetch-mock-cache replays: JSON.stringify(bodyJson) || bodyText.
        body: response.bodyJson !== undefined ? JSON.stringify(response.bodyJson) : (response.bodyText ?? ''),
        fake: file.includes('.fake.'),
        legacy: file.startsWith('legacy-v2-format'),
      });
    }
  }
  return out;
}

function jsonFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...jsonFiles(path));
    else if (entry.name.endsWith('.json')) out.push(path);
  }
  return out.sort();
}

function replayedHeaders(headers: Record<string, string | string[]>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (DROPPED_HEADERS.has(key)) continue;
    for (const v of [value].flat()) out.push([key, v]);
  }
  return out;
}

function rank(r: Recording): number {
  return (r.fake ? 2 : 0) + (r.legacy ? 1 : 0);
}

interface QuoteEntry {
  record: Record<string, unknown>;
  file: string;
  score: number;
}

/** symbol → its best recorded quote result: full fields over `fields=` ones, single over multi, current over legacy. */
function indexQuoteResults(recordings: Recording[]): Map<string, QuoteEntry> {
  const index = new Map<string, QuoteEntry>();
  for (const r of recordings) {
    if (r.endpoint !== 'quote' || r.status !== 200 || r.fake) continue;
    const body = JSON.parse(r.body) as { quoteResponse?: { result?: Array<Record<string, unknown>> } };
    const results = body.quoteResponse?.result ?? [];
    const score = (r.url.searchParams.has('fields') ? 4 : 0) + (r.legacy ? 2 : 0) + (results.length > 1 ? 1 : 0);
    for (const record of results) {
      const symbol = record.symbol;
      if (typeof symbol !== 'string') continue;
      const prior = index.get(symbol);
      if (!prior || score < prior.score) index.set(symbol, { record, file: r.file, score });
    }
  }
  return index;
}

/** Recorded equities with a price and a time: what SYNTHETIC symbols are re-keyed from. */
function defaultTemplates(index: Map<string, QuoteEntry>): string[] {
  return [...index.entries()]
    .filter(
      ([, q]) =>
        q.score < 4 &&
        q.record.quoteType === 'EQUITY' &&
        typeof q.record.regularMarketPrice === 'number' &&
        typeof q.record.regularMarketTime === 'number',
    )
    .map(([symbol]) => symbol)
    .sort();
}

interface ChartTemplate {
  meta: Record<string, unknown>;
  /** Per recorded bar: close over the previous close (1 for the first), and open/high/low over close. */
  ret: number[];
  shape: Array<{ open: number; high: number; low: number; volume: number }>;
}

function loadChartTemplate(recordings: Recording[]): ChartTemplate | undefined {
  const r = recordings.find((x) => x.file === CHART_TEMPLATE);
  if (!r) return undefined;
  const chart = (JSON.parse(r.body) as ChartBody).chart.result?.[0];
  const q = chart?.indicators.quote[0] as Record<string, number[]> | undefined;
  if (!chart || !q?.close) return undefined;
  const close = q.close;
  return {
    meta: (chart as unknown as { meta: Record<string, unknown> }).meta,
    ret: close.map((c, i) => (i === 0 ? 1 : c / close[i - 1]!)),
    shape: close.map((c, i) => ({
      open: q.open![i]! / c,
      high: q.high![i]! / c,
      low: q.low![i]! / c,
      volume: q.volume![i]!,
    })),
  };
}

/**
 * SYNTHETIC bars on the NYSE sessions from the day of `from` to `lastDay` (epoch ms): the last
 * session closes at `anchor`, each earlier close undoes one recorded return, counted back
 * cyclically through the template, so a day's bar does not depend on the window asked.
 */
function syntheticDailyBars(
  t: ChartTemplate,
  anchor: number,
  from: number,
  lastDay: number,
): Array<{ ts: number; bar: { open: number; high: number; low: number; close: number; volume: number } }> {
  if (from > lastDay) return [];
  const sessions = sessionsBetween(from, lastDay);
  const n = t.ret.length;
  const out: ReturnType<typeof syntheticDailyBars> = [];
  let close = anchor;
  for (let k = 0; k < sessions.length; k++) {
    const j = n - 1 - (k % n);
    const shape = t.shape[j]!;
    const round = (x: number) => Math.round(x * 10_000) / 10_000;
    const c = round(close);
    out.push({
      ts: sessions[sessions.length - 1 - k]!.open,
      bar: {
        open: round(close * shape.open),
        high: Math.max(c, round(close * shape.high)),
        low: Math.min(c, round(close * shape.low)),
        close: c,
        volume: shape.volume,
      },
    });
    close /= t.ret[j]!;
  }
  return out.reverse();
}

// --- routing ----------------------------------------------------------------------------------

function endpointOf(path: string): YahooFixtureEndpoint {
  if (path === '/v7/finance/quote') return 'quote';
  if (path.startsWith('/v8/finance/chart/')) return 'chart';
  if (path === '/v1/finance/search') return 'search';
  if (path.startsWith('/v10/finance/quoteSummary/')) return 'quoteSummary';
  if (path === '/v1/test/getcrumb') return 'getcrumb';
  if (path.startsWith('/quote/') || path === '/consent' || path === '/copyConsent' || path === '/v2/collectConsent') {
    return 'consent';
  }
  return 'other';
}

function pathSymbol(url: URL): string {
  return decodeURIComponent(url.pathname.split('/').pop() ?? '');
}

function quoteSymbolsOf(url: URL): string[] {
  return (url.searchParams.get('symbols') ?? '').split(',').filter((s) => s !== '');
}

function symbolsOf(endpoint: YahooFixtureEndpoint, url: URL): string[] {
  switch (endpoint) {
    case 'quote':
      return quoteSymbolsOf(url);
    case 'chart':
    case 'quoteSummary':
      return [pathSymbol(url)];
    case 'search':
      return [url.searchParams.get('q') ?? ''];
    default:
      return [];
  }
}

/** The part of a request that picks its recording. */
function keyOf(method: string, endpoint: YahooFixtureEndpoint, url: URL): string {
  const q = url.searchParams;
  switch (endpoint) {
    case 'quote':
      return `quote ${quoteSymbolsOf(url).join(',')}|${q.get('fields') ?? ''}`;
    case 'chart':
      return `chart ${pathSymbol(url)}|${q.get('interval') ?? ''}|${q.get('period1') ?? ''}|${q.get('period2') ?? ''}`;
    case 'search':
      return `search ${q.get('q') ?? ''}`;
    case 'quoteSummary': {
      const modules = (q.get('modules') ?? '').split(',').sort().join(',');
      return `quoteSummary ${pathSymbol(url)}|${modules}`;
    }
    case 'getcrumb':
      return 'getcrumb';
    case 'consent':
      // The recorded flow: its paths are distinct; only /quote/AAPL comes twice (before and after consent).
      return `${method} ${url.pathname}${q.has('guccounter') ? '?guccounter' : ''}`;
    default: {
      const rest = new URLSearchParams(q);
      rest.delete('crumb');
      return `${method} ${url.pathname}?${rest}`;
    }
  }
}

function sameQuery(a: URL, b: URL): boolean {
  const strip = (u: URL) => {
    const p = new URLSearchParams(u.searchParams);
    p.delete('crumb');
    p.sort();
    return p.toString();
  };
  return strip(a) === strip(b);
}

function span(url: URL): number {
  return Number(url.searchParams.get('period2')) - Number(url.searchParams.get('period1'));
}

interface ChartBody {
  chart: {
    result: Array<{
      timestamp?: number[];
      indicators: { quote: Array<Record<string, unknown[]>>; adjclose?: Array<{ adjclose: unknown[] }> };
      events?: Record<string, Record<string, { date: number }>>;
    }> | null;
  };
}

function trimChart(chart: NonNullable<ChartBody['chart']['result']>[number], p1: number, p2: number): void {
  const keep = (chart.timestamp ?? []).map((t) => t >= p1 && t < p2);
  const pick = <T>(xs: T[]) => xs.filter((_, i) => keep[i]);
  chart.timestamp = pick(chart.timestamp ?? []);
  for (const q of chart.indicators.quote) for (const k of Object.keys(q)) q[k] = pick(q[k] ?? []);
  for (const a of chart.indicators.adjclose ?? []) a.adjclose = pick(a.adjclose);
  for (const kind of Object.keys(chart.events ?? {})) {
    const events = chart.events![kind]!;
    for (const [k, e] of Object.entries(events)) if (e.date < p1 || e.date >= p2) delete events[k];
  }
}

// --- answers ----------------------------------------------------------------------------------

function replay(r: Recording): Answer {
  return { status: r.status, statusText: r.statusText, headers: r.headers, body: r.body, served: r.file };
}

/** `fields=` of a quote request, as a set; undefined when absent or empty (Yahoo then sends every field). */
function quoteFieldsOf(url: URL): ReadonlySet<string> | undefined {
  const fields = (url.searchParams.get('fields') ?? '').split(',').filter((f) => f !== '');
  return fields.length > 0 ? new Set(fields) : undefined;
}

/** A recorded quote result as Yahoo answers it when asked for `fields`: those, plus its essentials. */
function onlyFields(record: Record<string, unknown>, fields: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (fields.has(k) || QUOTE_ESSENTIAL_FIELDS.has(k)) out[k] = v;
  return out;
}

/** A quote recording made without `fields`, answered as Yahoo would have answered with them. */
function filteredQuotes(r: Recording, fields: ReadonlySet<string>): Answer {
  const served = `filtered ${r.file}`;
  const body = r.status === 200 ? (JSON.parse(r.body) as { quoteResponse?: { result?: unknown } }) : undefined;
  const result = body?.quoteResponse?.result;
  if (!body?.quoteResponse || !Array.isArray(result)) return replay(r);
  body.quoteResponse.result = result.map((q: Record<string, unknown>) => onlyFields(q, fields));
  return { ...replay(r), headers: [...r.headers, ['x-fixture', served]], body: JSON.stringify(body), served };
}

const JSON_TYPE: [string, string] = ['content-type', 'application/json;charset=utf-8'];

function unauthorized(description: 'Invalid Crumb' | 'Invalid Cookie'): Answer {
  return {
    status: 401,
    headers: [JSON_TYPE, ['x-fixture', 'generated']],
    body: JSON.stringify({ finance: { result: null, error: { code: 'Unauthorized', description } } }),
    served: 'generated',
  };
}

function chartNotFound() {
  return {
    chart: { result: null, error: { code: 'Not Found', description: 'No data found, symbol may be delisted' } },
  };
}

function quoteSummaryNotFound(modules: string) {
  return {
    quoteSummary: {
      result: null,
      error: { code: 'Not Found', description: `No fundamentals data found for any of the summaryTypes=${modules}` },
    },
  };
}

function emptySearch() {
  return { explains: [], count: 0, quotes: [], news: [], nav: [], lists: [], researchReports: [], totalTime: 0 };
}

function miss(entry: YahooFixtureRequest, body: unknown, status = 404): Answer {
  return {
    status,
    headers: [JSON_TYPE, ['x-fixture', 'generated'], ['x-fixture-miss', `${entry.method} ${entry.path}`]],
    body: JSON.stringify(body),
    served: 'generated',
  };
}

function textAnswer(status: number, body: string, served: string, retryAfter?: number | string): Answer {
  const headers: Array<[string, string]> = [['content-type', 'text/plain;charset=utf-8']];
  if (retryAfter !== undefined) headers.push(['retry-after', String(retryAfter)]);
  return { status, headers, body, served };
}

function send(res: ServerResponse, answer: Answer, cutMidBody: boolean): void {
  const grouped: Record<string, string | string[]> = {};
  for (const [k, v] of answer.headers) {
    const prior = grouped[k];
    grouped[k] = prior === undefined ? v : [prior, v].flat();
  }
  const bytes = Buffer.from(answer.body, 'utf8');
  grouped['content-length'] = String(bytes.length);
  res.writeHead(answer.status, answer.statusText ?? httpText(answer.status), grouped);
  if (cutMidBody) {
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
    return;
  }
  res.end(bytes);
}

function httpText(status: number): string {
  const texts: Record<number, string> = {
    200: 'OK',
    301: 'Moved Permanently',
    302: 'Found',
    307: 'Temporary Redirect',
    401: 'Unauthorized',
    404: 'Not Found',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return texts[status] ?? 'Status';
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
