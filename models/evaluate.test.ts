import { describe, expect, it } from 'vitest';
import { constantDriftModel, persistenceModel } from './baselines.js';
import { constantModel } from './constant-model.js';
import type { Dataset, Example } from './dataset.js';
import { createEarningsCalendar } from './earnings-calendar.js';
import { beforeTestWindow, earningsCoverage, evaluateModel, scoreModel, versusBaselines } from './evaluate.js';
import { FEATURE_NAMES } from './features.js';
import { dailyRankIcs, icStats } from './metrics.js';

const DAY = 86_400_000;
const SYMBOLS = ['A', 'B', 'C', 'D', 'E'];
const logOf = (pct: number) => Math.log1p(pct / 100);

/** A dataset of SYMBOLS on days 0, 1, …: `pct[d][s]` is symbol s's next-day return in % on day d. */
function dataset(pct: number[][]): Dataset {
  const examples: Example[] = pct.flatMap((day, d) =>
    SYMBOLS.map((symbol, s) => ({
      symbol,
      ts: d * DAY,
      close: 100,
      features: new Float32Array(FEATURE_NAMES.length).fill(Number.NaN),
      // h = 2: this day's and the next day's returns (NaN on the last day).
      targets: [logOf(day[s]!), d + 1 < pct.length ? logOf(day[s]!) + logOf(pct[d + 1]![s]!) : Number.NaN],
      earnings: false,
    })),
  );
  return { horizons: [1, 2], days: pct.map((_, d) => d * DAY), examples };
}

// Two days; the market rose: every baseline's MAE can be worked out by hand (in % of price).
const DATA = dataset([
  [2, 0, 2, 0, 1],
  [1, 1, 1, 2, -1],
]);
const ALL = { horizon: 1, from: 0, to: 2 * DAY };

describe('evaluation against the baselines', () => {
  it('finds the best baseline by MAE and reports the model against it', async () => {
    // Persistence: mean |actual| = 11 / 10 = 1.1. constantDrift (+1%): mean |1 − actual| = 7 / 10.
    // The model (+0.5%): mean |0.5 − actual| = 9 / 10.
    const baselines = [
      await evaluateModel(persistenceModel({ horizons: [1, 2] }), DATA, ALL),
      await evaluateModel(constantDriftModel(new Map([[1, logOf(1)]])), DATA, ALL),
    ];
    const model = constantModel({ name: 'half', horizons: [1], lower: -0.1, median: logOf(0.5), upper: 0.1 });
    const r = versusBaselines(await evaluateModel(model, DATA, ALL), baselines);
    expect(r.all.mae).toBeCloseTo(0.9, 12);
    expect(r.versus!.all).toEqual({
      baselines: {
        persistence: { mae: expect.closeTo(1.1, 12), maeRatio: 1, hitRate: Number.NaN },
        // It forecasts up: right on the 7 of 8 rows that moved.
        constantDrift: { mae: expect.closeTo(0.7, 12), maeRatio: expect.closeTo(0.7 / 1.1, 12), hitRate: 7 / 8 },
      },
      alwaysUpHitRate: 7 / 8,
      best: 'constantDrift',
      skillVsBest: expect.closeTo(0.9 / 0.7, 12),
    });
    // No earnings days here: normal days are all days, and the empty segment has no best to beat.
    expect(r.versus!.normal).toEqual(r.versus!.all);
    expect(r.versus!.earnings.skillVsBest).toBeNaN();
    // A baseline set against the baselines: the best one scores exactly 1.
    expect(versusBaselines(baselines[1]!, baselines).versus!.all.skillVsBest).toBe(1);
    expect(() => versusBaselines(r, [r])).toThrow(/none of persistence, drift, constantDrift/);
  });

  it('trains constantDrift only on returns realised before the test window', () => {
    const days = Array.from({ length: 10 }, (_, d) => d * DAY);
    const data: Dataset = { horizons: [1, 5], days, examples: [] };
    const inTraining = beforeTestWindow(data, days[6]!);
    // h = 1: day 4's return ends on day 5, before the test's first day (6); day 5's ends on day 6.
    expect([4, 5].map((d) => inTraining({ ts: days[d]! }, 1))).toEqual([true, false]);
    // h = 5: day 0's return ends on day 5; day 1's on day 6.
    expect([0, 1].map((d) => inTraining({ ts: days[d]! }, 5))).toEqual([true, false]);
    // A test window starting on the data's first day leaves no training window.
    expect(beforeTestWindow(data, 0)({ ts: 0 }, 1)).toBe(false);
  });

  it('measures earnings coverage: the share of scored symbols with an announcement in the period', () => {
    const event = (symbol: string, day: number) => ({
      symbol,
      date: day * DAY,
      epsEstimate: null,
      epsActual: null,
      surprisePct: null,
    });
    // A: in the period (days 0–1); B: the day after it; C: before it; D and E: none.
    const calendar = createEarningsCalendar([event('A', 1), event('B', 2), event('C', -30), event('X', 1)]);
    expect(earningsCoverage(DATA, calendar, ALL)).toBeCloseTo(1 / 5, 12);
    expect(earningsCoverage(DATA, calendar, { horizon: 1, from: 5 * DAY, to: 6 * DAY })).toBeNaN();
  });

  it('reports the rank IC over non-overlapping dates (every h-th) and per year', async () => {
    const data = dataset([
      [2, 0, 2, 0, 1],
      [1, 1, 1, 2, -1],
      [3, -1, 0, 1, 2],
      [0, 1, 2, 3, 4],
      [1, 2, 0, -2, 1],
    ]);
    // A model that forecasts what happened tomorrow: its h = 2 ranking is informative, not perfect.
    const nextDay = data.examples.map((e) => e.targets[0]!);
    const oracle = {
      ...persistenceModel({ horizons: [2] }),
      name: 'oracle',
      predictBatch: (inputs: readonly { symbol: string; ts: number }[]) =>
        inputs.map((f) => {
          const i = data.examples.findIndex((e) => e.symbol === f.symbol && e.ts === f.ts);
          const predictedReturn = nextDay[i + SYMBOLS.length] ?? 0;
          return { symbol: f.symbol, ts: f.ts, horizon: 2, predictedReturn, lowerReturn: -1, upperReturn: 1 };
        }),
    };
    const opts = { horizon: 2, from: 0, to: 10 * DAY };
    const r = await evaluateModel(oracle, data, opts);
    const daily = dailyRankIcs(await scoreModel(oracle, data, opts));
    expect(daily).toHaveLength(4); // the last day's 2-day return is unknown
    expect(r.ic.all.nonOverlapping).toEqual({ ...icStats(daily, 2), every: 2 });
    expect(r.ic.all.nonOverlapping.dates).toBe(2); // days 0 and 2
    expect(Number.isFinite(r.ic.all.nonOverlapping.t)).toBe(true);
    expect(r.ic.all.byYear).toEqual([{ year: 1970, ...icStats(daily) }]);
    expect(r.all.rankIcT).toBe(icStats(daily).t);
  });
});
