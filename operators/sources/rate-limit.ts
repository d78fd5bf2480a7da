// The request budget shared by every call to Yahoo: a token bucket (p-throttle; `burst` tokens,
// refilled at `requestsPerMinute`), and a pause gate for Yahoo's Retry-After: while a pause runs,
// no request starts, whoever asked. Users report 429s from roughly 100–200 requests a minute
// (yahoo-finance2, yfinance issues), hence the default of 120.
import pThrottle from 'p-throttle';
import { YahooRateLimitedError } from './yahoo-errors.js';

/** Time as the rate limiter sees it; tests give their own to check waits without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
};

export interface RateLimiterOptions {
  /** Requests a minute; 0 or Infinity: no limit (the Retry-After pause still applies). */
  requestsPerMinute: number;
  /** Requests that may start back to back before the rate applies; default one second's worth (at least 1). */
  burst?: number;
  /** Longest a request may wait for a Retry-After pause before it fails with YahooRateLimitedError; default 60 s. */
  maxPauseWaitMs?: number;
  clock?: Clock;
}

export interface RateLimiter {
  /** Resolves when a request may start: a token is free and no pause runs. */
  acquire(): Promise<void>;
  /** Yahoo said wait: no request starts before now + ms (the longest pause asked wins). */
  pause(ms: number): void;
  /** Epoch ms before which nothing starts (0: no pause). */
  readonly pausedUntil: number;
  /** Requests waiting for a token. */
  readonly waiting: number;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const clock = opts.clock ?? systemClock;
  const maxPauseWaitMs = opts.maxPauseWaitMs ?? 60_000;
  const rpm = opts.requestsPerMinute;
  const limited = rpm > 0 && Number.isFinite(rpm);
  const burst = Math.max(1, Math.floor(opts.burst ?? Math.ceil(rpm / 60)));
  // `burst` tokens every burst/rpm minutes: the bucket's size and its refill rate.
  const token = limited ? pThrottle({ limit: burst, interval: (burst * 60_000) / rpm })(() => undefined) : undefined;
  let pausedUntil = 0;

  const waitForPause = async () => {
    for (let left = pausedUntil - clock.now(); left > 0; left = pausedUntil - clock.now()) {
      if (left > maxPauseWaitMs) throw new YahooRateLimitedError(pausedUntil);
      await clock.sleep(left);
    }
  };

  return {
    async acquire() {
      await waitForPause();
      if (!token) return;
      await token();
      // A pause that began while this request waited for its token still holds it back.
      await waitForPause();
    },
    pause(ms) {
      if (ms > 0) pausedUntil = Math.max(pausedUntil, clock.now() + ms);
    },
    get pausedUntil() {
      return pausedUntil > clock.now() ? pausedUntil : 0;
    },
    get waiting() {
      return token?.queueSize ?? 0;
    },
  };
}

/** Retry-After as ms from `now`: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
