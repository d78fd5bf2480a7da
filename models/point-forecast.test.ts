import { describe, expect, it } from 'vitest';
import type { Features } from '../schemas/index.js';
import { constantDriftModel, driftModel, medianLogReturns, persistenceModel } from './baselines.js';
import { constantModel } from './constant-model.js';
import type { Dataset, Example } from './dataset.js';
import { type Evaluation, evaluateModel, scoreModel, versusBaselines } from './evaluate.js';
import { FEATURE_NAMES } from './features.js';
import type { Model } from './model.js';
import { choosePoints, maeDifference, withConstantPoints } from './point-forecast.js';

const DAY = 86_400_000;
const SYMBOLS = ['A', 'B', 'C', 'D', 'E'];
const logOf = (pct: number) => Math.log1p(pct / 100);
// Next-day returns in % per day and symbol: three days to work out by hand, then 21 more (a rising
// market, +1% a day at the median); the 2-day return is today's plus tomorrow's.
const PCT = [
  [2, 0, 2, 0, 1],
  [1, 1, 1, 2, -1],
  [0, 1, 1, 1, 2],
  ...Array.from({ length: 21 }, (_, d) => SYMBOLS.map((_, s) => ((d * 7 + s * 3) % 5) - 1)),
];
const DAYS = PCT.length - 1; // the last day only completes the one before's 2-day return
const examples: Example[] = PCT.slice(0, DAYS).flatMap((day, d) =>
  SYMBOLS.map((symbol, s) => ({
    symbol,
    ts: d * DAY,
    close: 100,
    features: new Float32Array(FEATURE_NAMES.length).fill(Number.NaN),
    targets: [logOf(day[s]!), logOf(day[s]!) + logOf(PCT[d + 1]![s]!)],
    earnings: false,
  })),
);
const DATA: Dataset = { horizons: [1, 2], days: PCT.map((_, d) => d * DAY), examples };
const target = (f: Features, h: number) => examples.find((e) => e.symbol === f.symbol && e.ts === f.ts)!.targets[h]!;

/** A net that knows tomorrow (h1 = the actual return) and bets −5% over two days: skill at h1 only. */
const net: Model = {
  name: 'net',
  version: 'v1',
  spec: 'basic@test',
  horizons: [1, 2],
  predictBatch: (inputs) =>
    inputs.flatMap((f) => [
      { symbol: f.symbol, ts: f.ts, horizon: 1, lowerReturn: -0.01, predictedReturn: target(f, 0), upperReturn: 0.03 },
      { symbol: f.symbol, ts: f.ts, horizon: 2, lowerReturn: -0.08, predictedReturn: -0.05, upperReturn: -0.01 },
    ]),
};

/** The net's evaluation per horizon against the baselines, and the t of its MAE against the best one. */
async function perHorizon(
  model: Model,
): Promise<Array<{ evaluation: Evaluation; skill: { t: number; dates: number } }>> {
  const medians = medianLogReturns(examples, DATA.horizons);
  const baselines = [
    persistenceModel({ horizons: [1, 2] }),
    driftModel({ horizons: [1, 2] }),
    constantDriftModel(medians),
  ];
  const out: Array<{ evaluation: Evaluation; skill: { t: number; dates: number } }> = [];
  for (const horizon of DATA.horizons) {
    const on = { horizon, from: 0, to: DAYS * DAY };
    const base = await Promise.all(baselines.map((b) => evaluateModel(b, DATA, on)));
    const evaluation = versusBaselines(await evaluateModel(model, DATA, on), base);
    const best = baselines.find((b) => b.name === evaluation.versus!.normal.best)!;
    const skill = maeDifference(await scoreModel(model, DATA, on), await scoreModel(best, DATA, on), horizon);
    out.push({ evaluation, skill });
  }
  return out;
}

describe('maeDifference', () => {
  it("is the net's mean absolute error minus the baseline's per day, with its t over days", async () => {
    const on = { horizon: 1, from: 0, to: 2 * DAY };
    const persistence = persistenceModel({ horizons: [1, 2] });
    // Day 0: the net is exact (MAE 0) and persistence is off by (2+0+2+0+1)/5 = 1%; day 1 by 6/5 = 1.2%.
    const d = maeDifference(await scoreModel(net, DATA, on), await scoreModel(persistence, DATA, on), 1);
    expect(d.dates).toBe(2);
    expect(d.ic).toBeCloseTo(-1.1, 10);
    expect(d.t).toBeCloseTo(-1.1 / ((Math.SQRT1_2 * 0.2) / Math.SQRT2), 8); // mean ÷ (σ ÷ √2), σ = 0.2 / √2
  });
});

describe('choosePoints', () => {
  it("keeps the net's median where it clearly beats the best baseline, else ships constantDrift's median", async () => {
    const medians = medianLogReturns(examples, DATA.horizons);
    const [h1, h2] = choosePoints(await perHorizon(net), medians);
    expect(h1).toMatchObject({ horizon: 1, point: 'net', value: null, skillVsBest: 0, rankIc: 1 });
    expect(h1!.skillT).toBeLessThan(-2); // exact on each of 23 days: clearly better than constantDrift
    expect(h1!.skillDates).toBe(23);
    // Two-day median return +2.0%: the market rose, so constantDrift beat persistence at h2.
    expect(h2).toMatchObject({ horizon: 2, point: 'constantDrift', bestBaseline: 'constantDrift' });
    expect(h2!.value).toBeCloseTo(medians.get(2)!, 8);
    expect(h2!.skillVsBest).toBeGreaterThan(1);
  });

  it('ships persistence (0) instead when it had the lower MAE of the two constants', async () => {
    // Validation where the net lost and persistence had a lower MAE than constantDrift.
    const flat = (await perHorizon(net)).map(({ evaluation: e }) => ({
      skill: { t: -5, dates: 100 },
      evaluation: {
        ...e,
        versus: {
          ...e.versus!,
          normal: {
            ...e.versus!.normal,
            skillVsBest: 1.01,
            baselines: {
              persistence: { mae: 1, maeRatio: 1, hitRate: 0.5 },
              constantDrift: { mae: 1.1, maeRatio: 1.1, hitRate: 0.5 },
            },
          },
        },
      },
    }));
    expect(choosePoints(flat, new Map()).map((p) => [p.point, p.value])).toEqual([
      ['persistence', 0],
      ['persistence', 0],
    ]);
  });

  it('ships a constant when the net was better on validation but not clearly: t above −2, or under 20 dates', async () => {
    const medians = medianLogReturns(examples, DATA.horizons);
    const [h1] = (await perHorizon(net)).slice(0, 1);
    const weak = choosePoints([{ ...h1!, skill: { t: -1.5, dates: 100 } }], medians);
    expect(weak[0]).toMatchObject({ point: 'constantDrift', skillVsBest: 0, skillT: -1.5 });
    const few = choosePoints([{ ...h1!, skill: { t: -4.4, dates: 6 } }], medians);
    expect(few[0]).toMatchObject({ point: 'constantDrift', skillT: -4.4, skillDates: 6 });
  });
});

describe('withConstantPoints', () => {
  const model = constantModel({ name: 'net', horizons: [1, 5], lower: -0.02, median: 0.004, upper: 0.03, rank: 0.004 });
  const input: Features = {
    symbol: 'AAPL',
    ts: 0,
    close: 100,
    spec: 'basic@test',
    values: new Float32Array(0),
    history: 300,
  };
  const points = [
    {
      horizon: 1,
      point: 'net',
      value: null,
      skillVsBest: 0.99,
      bestBaseline: 'persistence',
      skillT: -2.5,
      skillDates: 250,
      rankIc: 0.02,
      rankIcT: 2.1,
    },
    {
      horizon: 5,
      point: 'constantDrift',
      value: 0.003,
      skillVsBest: 1.009,
      bestBaseline: 'constantDrift',
      skillT: -0.4,
      skillDates: 50,
      rankIc: 0.01,
      rankIcT: 0.8,
    },
  ] as const;

  it("ships the constant at h5 with the net's interval widths around it, and the net at h1", async () => {
    const shipped = withConstantPoints(model, points);
    const [h1, h5] = await shipped.predictBatch([input]);
    expect(h1).toMatchObject({ horizon: 1, lowerReturn: -0.02, predictedReturn: 0.004, upperReturn: 0.03 });
    expect(h5!.predictedReturn).toBe(0.003);
    expect(h5!.predictedReturn - h5!.lowerReturn).toBeCloseTo(0.024, 12);
    expect(h5!.upperReturn - h5!.predictedReturn).toBeCloseTo(0.026, 12);
    expect(h5!.rankReturn).toBe(0.004); // the net's own median: it still ranks where the point is a constant
    expect(shipped).toMatchObject({ name: 'net+constantPoint', version: '1-c5' });
  });

  it('gives the same numbers from typed quantiles (what withIntervalScale and the nets use)', async () => {
    const typed: Model = {
      ...model,
      // (lower, median, upper, rank) per horizon; the rank is the net's own median.
      predictQuantiles: (inputs) =>
        Float32Array.from(inputs.flatMap(() => [-0.02, 0.004, 0.03, 0.004, -0.05, 0.01, 0.07, 0.01])),
    };
    const shipped = withConstantPoints(typed, points);
    expect([...shipped.predictQuantiles!([input])].map((x) => Number(x.toFixed(6)))).toEqual([
      -0.02, 0.004, 0.03, 0.004, -0.057, 0.003, 0.063, 0.01,
    ]);
    const [, h5] = await shipped.predictBatch([input]);
    expect(h5!.predictedReturn).toBe(0.003);
    // The constant is the point; the net's own median still ranks.
    expect(h5!.rankReturn).toBeCloseTo(0.01, 9);
  });

  it('is the model itself when every point is the net', () => {
    expect(withConstantPoints(model, [points[0]])).toBe(model);
  });

  it('says no input moved a constant point', async () => {
    const attributed: Model = {
      ...model,
      attribute: (inputs) =>
        inputs.flatMap((f) =>
          [1, 5].map((horizon) => ({
            symbol: f.symbol,
            ts: f.ts,
            horizon,
            predictedReturn: 0.004,
            baselineReturn: 0.001,
            contributions: Float32Array.of(0.003),
            method: 'exact',
          })),
        ),
    };
    const [h1, h5] = await withConstantPoints(attributed, points).attribute!([input]);
    expect(h1).toMatchObject({ predictedReturn: 0.004, method: 'exact' });
    expect(h5).toMatchObject({ predictedReturn: 0.003, baselineReturn: 0.003, method: 'constant' });
    expect([...h5!.contributions]).toEqual([0]);
  });

  it('says which constant it is, and what moved the interval instead, when the model can say', async () => {
    const width = (horizon: number) => ({
      symbol: input.symbol,
      ts: input.ts,
      horizon,
      predictedWidth: 0.05,
      baselineWidth: 0.04,
      contributions: Float32Array.of(0.01),
      method: 'exact',
    });
    const attributed: Model = {
      ...model,
      attribute: (inputs) =>
        inputs.flatMap((f) =>
          [1, 5].map((horizon) => ({
            symbol: f.symbol,
            ts: f.ts,
            horizon,
            predictedReturn: 0.004,
            baselineReturn: 0.001,
            contributions: Float32Array.of(0.003),
            method: 'exact',
          })),
        ),
      attributeWidth: () => [width(1), width(5)],
    };
    const [h1, h5] = await withConstantPoints(attributed, points).attribute!([input]);
    expect(h1!.width).toBeUndefined(); // the net's own median: its drivers say what moved it
    expect(h5).toMatchObject({ method: 'constant', point: 'constantDrift', width: width(5) });
  });
});
