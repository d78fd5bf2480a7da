// What can go wrong talking to Yahoo, as typed errors, and how the client treats each:
//   transient (retried with backoff, counted by the endpoint's circuit breaker): 429, 5xx,
//     timeouts, dropped connections, a 2xx body that is not JSON;
//   session (the cookie/crumb is stale: the session is refreshed, the call retried once);
//   rate limited (Yahoo's Retry-After is longer than a caller may wait: fail now);
//   answers (not retried, not counted: Yahoo is up and said no): not found, invalid response.
// yahoo-fetch.ts raises the HTTP ones from the response itself, where the status and
// Retry-After are still known (yahoo-finance2 keeps neither).

/** The endpoints the client calls, each with its own circuit breaker. */
export type YahooEndpoint = 'quote' | 'chart' | 'search' | 'quoteSummary';
/** An HTTP request's purpose: an endpoint, or the cookie/crumb session flow. */
export type YahooRequestKind = YahooEndpoint | 'session';

/** Yahoo answered with an HTTP status the caller cannot use (429, 5xx, 401/403 without a session problem). */
export class YahooHttpError extends Error {
  override readonly name = 'YahooHttpError';
  constructor(
    readonly status: number,
    readonly url: string,
    /** 429/503 with Retry-After: how long Yahoo asked to wait, ms. */
    readonly retryAfterMs?: number,
  ) {
    super(
      `Yahoo answered HTTP ${status} for ${shortUrl(url)}${retryAfterMs !== undefined ? ` (Retry-After ${retryAfterMs} ms)` : ''}`,
    );
  }
}

/** The request did not finish in time. */
export class YahooTimeoutError extends Error {
  override readonly name = 'YahooTimeoutError';
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer from Yahoo within ${timeoutMs} ms for ${shortUrl(url)}`);
  }
}

/** The connection failed or was cut before the whole response arrived. */
export class YahooNetworkError extends Error {
  override readonly name = 'YahooNetworkError';
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`connection to Yahoo failed for ${shortUrl(url)}: ${describe(cause)}`, { cause });
  }
}

/** A successful status whose body is not the JSON it should be (truncated, an HTML page). */
export class YahooMalformedResponseError extends Error {
  override readonly name = 'YahooMalformedResponseError';
}

/** The cookie/crumb session is not accepted ("Invalid Crumb", "Invalid Cookie", getcrumb refused). */
export class YahooSessionError extends Error {
  override readonly name = 'YahooSessionError';
}

/** Yahoo asked for a pause (Retry-After) longer than a call may wait. */
export class YahooRateLimitedError extends Error {
  override readonly name = 'YahooRateLimitedError';
  constructor(readonly resumeAt: number) {
    super(`Yahoo asked to pause until ${new Date(resumeAt).toISOString()} (Retry-After)`);
  }
}

/** HTTP 404 with Yahoo's "Not Found" (unknown symbol, no fundamentals for an ETF…). */
export class YahooNotFoundError extends Error {
  override readonly name = 'YahooNotFoundError';
  constructor(
    readonly url: string,
    readonly description: string,
  ) {
    super(`Yahoo: ${description} (${shortUrl(url)})`);
  }
}

/** Yahoo's answer does not have the expected shape (yahoo-finance2's schema or our own checks). */
export class YahooInvalidResponseError extends Error {
  override readonly name = 'YahooInvalidResponseError';
}

/** The endpoint's circuit breaker is open: no request was sent. The source keeps its last values, marked stale. */
export class YahooCircuitOpenError extends Error {
  override readonly name = 'YahooCircuitOpenError';
  constructor(
    readonly endpoint: YahooEndpoint,
    /** When a probe may go (epoch ms), as far as the breaker's half-open delay says. */
    readonly probeAt: number | undefined,
  ) {
    super(
      `Yahoo ${endpoint}: circuit open after repeated failures; no request sent` +
        (probeAt !== undefined ? ` (next probe after ${new Date(probeAt).toISOString()})` : ''),
    );
  }
}

/** Worth another try after a backoff. */
export function isTransient(e: unknown): boolean {
  if (e instanceof YahooHttpError) return e.status === 429 || e.status >= 500;
  return e instanceof YahooTimeoutError || e instanceof YahooNetworkError || e instanceof YahooMalformedResponseError;
}

/** Counted by the circuit breaker: Yahoo (or the way to it) is failing, not just saying no. */
export function countsAsFailure(e: unknown): boolean {
  return isTransient(e) || e instanceof YahooSessionError || e instanceof YahooRateLimitedError;
}

/**
 * Our error for whatever a yahoo-finance2 call threw. Errors from yahoo-fetch.ts pass through
 * (the library rethrows them unchanged); the library's own are recognised by their messages.
 */
export function classify(e: unknown): Error {
  if (
    e instanceof YahooHttpError ||
    e instanceof YahooTimeoutError ||
    e instanceof YahooNetworkError ||
    e instanceof YahooMalformedResponseError ||
    e instanceof YahooSessionError ||
    e instanceof YahooRateLimitedError ||
    e instanceof YahooNotFoundError ||
    e instanceof YahooInvalidResponseError
  ) {
    return e;
  }
  const error = e instanceof Error ? e : new Error(String(e));
  const message = error.message;
  if (message.startsWith('Response.ok where we expect JSON')) {
    return new YahooMalformedResponseError(`Yahoo sent a body that is not JSON: ${clip(message, 200)}`, { cause: e });
  }
  if (error.name === 'FailedYahooValidationError') {
    return new YahooInvalidResponseError(`Yahoo's answer failed yahoo-finance2's schema validation`, { cause: e });
  }
  // getCrumb's failures: no set-cookie, a refused or empty getcrumb, an unexpected consent page.
  if (/crumb|cookie|consent/i.test(message)) return new YahooSessionError(clip(message, 300), { cause: e });
  if (/^(Unexpected result|No timestamp)/.test(message))
    return new YahooInvalidResponseError(clip(message, 300), { cause: e });
  return error;
}

function shortUrl(url: string): string {
  try {
    const u = new URL(url);
    u.searchParams.delete('crumb');
    return clip(`${u.host}${u.pathname}${u.search}`, 160);
  } catch {
    return clip(url, 160);
  }
}

function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : '';
  return `${cause.message}${inner}`;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n)}…`;
}
