// The shared Yahoo request budget on fake timers: the token bucket, the Retry-After pause, and
// Retry-After's two spellings.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRateLimiter, parseRetryAfter } from './rate-limit.js';
import { YahooRateLimitedError } from './yahoo-errors.js';

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-01-05T14:30:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Start `n` acquisitions at once; the ms (fake clock) at which each was granted. */
function grantTimes(limiter: ReturnType<typeof createRateLimiter>, n: number): number[] {
  const start = Date.now();
  const times: number[] = [];
  for (let i = 0; i < n; i++) void limiter.acquire().then(() => times.push(Date.now() - start));
  return times;
}

describe('token bucket', () => {
  it('60 a minute, burst 1: one request a second', async () => {
    const times = grantTimes(createRateLimiter({ requestsPerMinute: 60, burst: 1 }), 4);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(times).toEqual([0, 1_000, 2_000, 3_000]);
  });

  it("120 a minute: a burst of 2 (one second's worth), then 2 a second", async () => {
    const times = grantTimes(createRateLimiter({ requestsPerMinute: 120 }), 6);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(times).toEqual([0, 0, 1_000, 1_000, 2_000, 2_000]);
  });

  it('0 (or Infinity): no limit', async () => {
    const times = grantTimes(createRateLimiter({ requestsPerMinute: 0 }), 50);
    await vi.advanceTimersByTimeAsync(0);
    expect(times).toHaveLength(50);
    expect(new Set(times)).toEqual(new Set([0]));
  });
});

describe('Retry-After pause', () => {
  it('holds every request until it ends, tokens or not', async () => {
    const limiter = createRateLimiter({ requestsPerMinute: 0 });
    limiter.pause(2_000);
    expect(limiter.pausedUntil).toBe(Date.now() + 2_000);
    const times = grantTimes(limiter, 3);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(times).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(times).toEqual([2_000, 2_000, 2_000]);
    expect(limiter.pausedUntil).toBe(0);
  });

  it('the longest pause asked wins', async () => {
    const limiter = createRateLimiter({ requestsPerMinute: 0 });
    limiter.pause(3_000);
    limiter.pause(1_000);
    const times = grantTimes(limiter, 1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(times).toEqual([3_000]);
  });

  it('a pause longer than a request may wait fails it now, with when Yahoo will listen again', async () => {
    const limiter = createRateLimiter({ requestsPerMinute: 0, maxPauseWaitMs: 10_000 });
    limiter.pause(3_600_000);
    const error = await limiter.acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(YahooRateLimitedError);
    expect((error as YahooRateLimitedError).resumeAt).toBe(Date.now() + 3_600_000);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates; ignores what it cannot read', () => {
    const now = Date.parse('2026-01-05T14:30:00Z');
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('Mon, 05 Jan 2026 14:30:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 05 Jan 2026 14:00:00 GMT', now)).toBe(0); // already past
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
