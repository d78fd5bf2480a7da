import { describe, expect, it } from 'vitest';
import { holdoutSplit, walkForwardSplits } from './walk-forward.js';

const DAY = 86_400_000;
// 300 consecutive "trading days" (weekends do not matter to the splitter: it counts days present).
const days = Array.from({ length: 300 }, (_, i) => Date.UTC(2016, 0, 1) + i * DAY);

/** A training example on day i uses prices up to day i + h: all of them must precede the test. */
function assertNoLeak(split: ReturnType<typeof holdoutSplit>, h: number) {
  for (let i = split.trainFrom; i < split.trainTo; i++) expect(i + h).toBeLessThan(split.testFrom);
  expect(split.trainTo).toBeLessThanOrEqual(split.testFrom - h);
}

describe('walk-forward splits', () => {
  it('leave a gap of the horizon between training targets and the test window', () => {
    for (const h of [1, 5, 21]) {
      const split = holdoutSplit(days, { trainEnd: days[200]!, testFrom: days[200]!, testTo: days[260]!, horizon: h });
      expect(split).toEqual({ trainFrom: 0, trainTo: 200 - h, testFrom: 200, testTo: 260 });
      assertNoLeak(split, h);
    }
  });

  it('cannot leak even when asked to train right up to the test', () => {
    // trainEnd after testFrom: the split still stops training h days before the test.
    const split = holdoutSplit(days, { trainEnd: days[250]!, testFrom: days[200]!, testTo: days[260]!, horizon: 21 });
    assertNoLeak(split, 21);
  });

  it('roll forward, each fold trained only on its past', () => {
    const splits = walkForwardSplits(days, { firstTest: days[100]!, testDays: 50, horizon: 5, trainDays: 60 });
    expect(splits.map((s) => [s.trainFrom, s.trainTo, s.testFrom, s.testTo])).toEqual([
      [35, 95, 100, 150],
      [85, 145, 150, 200],
      [135, 195, 200, 250],
      [185, 245, 250, 300],
    ]);
    for (const s of splits) assertNoLeak(s, 5);
  });
});
