// The fetch yahoo-finance2 is given: every HTTP request to Yahoo (API calls and the cookie/crumb
// flow) passes here, so here is where
//   - the shared rate limit is taken (a token, and any Retry-After pause);
//   - each request gets a timeout;
//   - with `baseUrl` (the Yahoo fixture server in tests), Yahoo's origins are rewritten to it,
//     the original host named in x-forwarded-host, redirects never followed, and a request for
//     any other host refused — nothing can leak to the internet;
//   - the whole body is read, so a connection cut mid-body fails here, as a YahooNetworkError;
//   - statuses the library would flatten become typed errors while the status and Retry-After
//     are known: 429 (and a pause of the limiter), 5xx, 401/403 session failures, 404 Not Found;
//   - each request is reported (`onRequest`) for the metrics.
import type { RateLimiter } from './rate-limit.js';
import { parseRetryAfter } from './rate-limit.js';
import {
  YahooHttpError,
  YahooNetworkError,
  YahooNotFoundError,
  type YahooRequestKind,
  YahooSessionError,
  YahooTimeoutError,
} from './yahoo-errors.js';

/** The hosts yahoo-finance2 talks to (API, cookie and consent flow). */
export const YAHOO_HOSTS: readonly string[] = [
  'query1.finance.yahoo.com',
  'query2.finance.yahoo.com',
  'finance.yahoo.com',
  'guce.yahoo.com',
  'consent.yahoo.com',
  'fc.yahoo.com',
  'login.yahoo.com',
];

export interface YahooRequestEvent {
  kind: YahooRequestKind;
  /** HTTP status, or what happened instead. */
  status: number | 'timeout' | 'network';
  durationMs: number;
}

export interface YahooFetchOptions {
  limiter: RateLimiter;
  timeoutMs: number;
  /** Origin standing in for Yahoo (tests: the fixture server); unset: the real Yahoo hosts. */
  baseUrl?: string;
  /** The fetch underneath (default globalThis.fetch). */
  fetch?: typeof fetch;
  onRequest?: (e: YahooRequestEvent) => void;
  /** Yahoo asked for a pause (429/503 Retry-After). */
  onPause?: (e: { kind: YahooRequestKind; retryAfterMs: number }) => void;
  now?: () => number;
}

export function createYahooFetch(opts: YahooFetchOptions): typeof fetch {
  const inner = opts.fetch ?? globalThis.fetch;
  const now = opts.now ?? Date.now;
  const base = opts.baseUrl === undefined ? undefined : new URL(opts.baseUrl);

  return async (input, init) => {
    const original = new URL(input instanceof Request ? input.url : String(input));
    const kind = requestKind(original);
    const headers = new Headers(init?.headers);
    let target = original;
    let redirect = init?.redirect;
    if (base) {
      if (!YAHOO_HOSTS.includes(original.host) && original.host !== base.host) {
        throw new Error(`yahoo fetch: refusing ${original.host}: with baseUrl set, only Yahoo's hosts are rewritten`);
      }
      target = new URL(`${original.pathname}${original.search}`, base);
      headers.set('x-forwarded-host', original.host);
      redirect = 'manual';
    }

    await opts.limiter.acquire();
    const started = performance.now();
    const report = (status: YahooRequestEvent['status']) =>
      opts.onRequest?.({ kind, status, durationMs: performance.now() - started });
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;

    let response: Response;
    let body: ArrayBuffer;
    try {
      response = await inner(target, { ...init, headers, signal, ...(redirect ? { redirect } : {}) });
      body = await response.arrayBuffer();
    } catch (e) {
      if (timeout.aborted) {
        report('timeout');
        throw new YahooTimeoutError(original.href, opts.timeoutMs);
      }
      if (init?.signal?.aborted) throw e;
      report('network');
      throw new YahooNetworkError(original.href, e);
    }
    report(response.status);
    const { status } = response;

    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
      if (retryAfterMs !== undefined) {
        opts.limiter.pause(retryAfterMs);
        opts.onPause?.({ kind, retryAfterMs });
      }
      throw new YahooHttpError(status, original.href, retryAfterMs);
    }
    if (status === 401 || status === 403) {
      const text = new TextDecoder().decode(body);
      const said = yahooErrorDescription(text);
      if (kind === 'session' || /invalid (crumb|cookie)/i.test(said ?? text)) {
        throw new YahooSessionError(`Yahoo refused the session (HTTP ${status}${said ? `: ${said}` : ''})`);
      }
      throw new YahooHttpError(status, original.href);
    }
    if (status === 404 && kind !== 'session') {
      const said = yahooErrorDescription(new TextDecoder().decode(body));
      throw new YahooNotFoundError(original.href, said ?? 'Not Found');
    }
    // A whole, already-read response for the library (3xx included: the session flow reads Location).
    const noBody = status === 101 || status === 204 || status === 205 || status === 304;
    return new Response(noBody ? null : body, { status, statusText: response.statusText, headers: response.headers });
  };
}

/** What a request to this URL is for. */
export function requestKind(url: URL): YahooRequestKind {
  const path = url.pathname;
  if (path.startsWith('/v7/finance/quote')) return 'quote';
  if (path.startsWith('/v8/finance/chart/')) return 'chart';
  if (path.startsWith('/v1/finance/search')) return 'search';
  if (path.startsWith('/v10/finance/quoteSummary/')) return 'quoteSummary';
  return 'session';
}

/** Yahoo's `{"<any>": {"error": {"description": …}}}` error body, when it is one. */
function yahooErrorDescription(text: string): string | undefined {
  try {
    const json = JSON.parse(text) as Record<string, { error?: { description?: unknown } } | undefined>;
    for (const value of Object.values(json)) {
      const d = value?.error?.description;
      if (typeof d === 'string') return d;
    }
  } catch {
    // not JSON: no description
  }
  return undefined;
}
