// Bucketing rules shared by every TimeSeriesStore's ohlc(), so that stores agree to the millisecond.

const UNITS: readonly (readonly [suffix: string, ms: number])[] = [
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** Throws unless `bucketMs` is a whole number of milliseconds > 0. */
export function assertBucketMs(bucketMs: number): void {
  if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) {
    throw new RangeError(`bucketMs must be a positive integer number of milliseconds, got ${bucketMs}`);
  }
}

/**
 * Start of the bucket holding `ts`: floor(ts / bucketMs) * bucketMs, counted from the Unix epoch.
 * Buckets are epoch-aligned, so 7-day buckets start on Thursdays (1970-01-01 was one).
 */
export function bucketStart(ts: number, bucketMs: number): number {
  return Math.floor(ts / bucketMs) * bucketMs;
}

/** The `interval` label of an aggregated bar, in the style of stored bars: 7 days → '1w', 1 hour → '1h'. */
export function bucketInterval(bucketMs: number): string {
  for (const [suffix, ms] of UNITS) {
    if (bucketMs % ms === 0) return `${bucketMs / ms}${suffix}`;
  }
  return `${bucketMs}ms`;
}
