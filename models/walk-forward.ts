// Walk-forward splits over trading days with a gap of the horizon between training and test:
// a training example's target (h days ahead) must be known before the first test day, so no
// future leaks into training.

export interface Split {
  /** Training examples are those with day index in [trainFrom, trainTo). */
  trainFrom: number;
  trainTo: number;
  /** Test examples: day index in [testFrom, testTo). */
  testFrom: number;
  testTo: number;
}

/**
 * One split: train on days before `trainEnd` (exclusive) whose h-day target ends before the
 * test starts, test on [testFrom, testTo). Day values are epoch ms matched against `days`.
 */
export function holdoutSplit(
  days: readonly number[],
  opts: { trainEnd: number; testFrom: number; testTo: number; horizon: number },
): Split {
  const testFrom = lowerBound(days, opts.testFrom);
  const testTo = lowerBound(days, opts.testTo);
  // Target of day i is known at day i + h: require i + h < testFrom.
  const trainTo = Math.max(0, Math.min(lowerBound(days, opts.trainEnd), testFrom - opts.horizon));
  return { trainFrom: 0, trainTo, testFrom, testTo };
}

/**
 * Rolling walk-forward folds: test windows of `testDays` one after the other from `firstTest`,
 * each trained on everything before it (or the last `trainDays`) less a gap of `horizon` days.
 */
export function walkForwardSplits(
  days: readonly number[],
  opts: { firstTest: number; testDays: number; horizon: number; trainDays?: number; until?: number },
): Split[] {
  const splits: Split[] = [];
  const end = opts.until === undefined ? days.length : lowerBound(days, opts.until);
  for (let testFrom = lowerBound(days, opts.firstTest); testFrom < end; testFrom += opts.testDays) {
    const trainTo = testFrom - opts.horizon;
    if (trainTo <= 0) continue;
    const trainFrom = opts.trainDays === undefined ? 0 : Math.max(0, trainTo - opts.trainDays);
    splits.push({ trainFrom, trainTo, testFrom, testTo: Math.min(end, testFrom + opts.testDays) });
  }
  return splits;
}

/** Index of the first day >= t. */
export function lowerBound(days: readonly number[], t: number): number {
  let lo = 0;
  let hi = days.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (days[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
