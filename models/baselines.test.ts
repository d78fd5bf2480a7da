import { describe, expect, it } from 'vitest';
import type { Features } from '../schemas/index.js';
import {
  constantDriftModel,
  DEFAULT_DAILY_SIGMA,
  driftModel,
  medianLogReturns,
  persistenceModel,
  Z_90,
} from './baselines.js';
import { FEATURE_NAMES, FEATURE_SPEC, featureIndex } from './features.js';

/** A feature row holds float32 values (schemas/features.avsc): 0.015 in it is f32(0.015). */
const f32 = Math.fround;

function features(symbol: string, ts: number, set: Partial<Record<'vol20' | 'ret20', number>>): Features {
  const values = FEATURE_NAMES.map(() => Number.NaN);
  for (const [name, v] of Object.entries(set)) values[featureIndex(name as 'vol20' | 'ret20')] = v;
  return { symbol, ts, close: 100, spec: FEATURE_SPEC.id, values: Float32Array.from(values), history: 50 };
}

describe('baselines', () => {
  it('describe themselves and default to horizons 1, 5, 21', () => {
    for (const [m, name] of [
      [persistenceModel(), 'persistence'],
      [driftModel(), 'drift'],
    ] as const) {
      expect(m).toMatchObject({ name, version: '1', spec: FEATURE_SPEC.id, horizons: [1, 5, 21] });
    }
    expect(persistenceModel({ horizons: [2] }).horizons).toEqual([2]);
    expect(() => persistenceModel({ horizons: [0] })).toThrow(RangeError);
    expect(() => driftModel({ horizons: [1.5] })).toThrow(RangeError);
    expect(() => driftModel({ horizons: [] })).toThrow(RangeError);
  });

  it('persistence predicts 0 with a ±Z_90·vol20·√h interval, one output per (input, horizon)', async () => {
    const out = await persistenceModel().predictBatch([
      features('AAPL', 1, { vol20: 0.015, ret20: 0.1 }),
      features('MSFT', 2, { vol20: 0.01 }),
    ]);
    expect(out.map((o) => [o.symbol, o.horizon])).toEqual([
      ['AAPL', 1],
      ['AAPL', 5],
      ['AAPL', 21],
      ['MSFT', 1],
      ['MSFT', 5],
      ['MSFT', 21],
    ]);
    const a5 = out[1]!;
    expect(a5).toMatchObject({ symbol: 'AAPL', ts: 1, horizon: 5, predictedReturn: 0 });
    expect(a5.upperReturn).toBeCloseTo(Z_90 * f32(0.015) * Math.sqrt(5), 15);
    expect(a5.lowerReturn).toBeCloseTo(-Z_90 * f32(0.015) * Math.sqrt(5), 15);
    expect(out[3]!.upperReturn).toBeCloseTo(1.2816 * 0.01, 5);
  });

  it('falls back to the default daily σ while vol20 warms up (or is 0)', async () => {
    const m = persistenceModel({ horizons: [1] });
    const [warm] = await m.predictBatch([features('AAPL', 1, {})]);
    const [flat] = await m.predictBatch([features('AAPL', 1, { vol20: 0 })]);
    expect(warm!.upperReturn).toBeCloseTo(Z_90 * DEFAULT_DAILY_SIGMA, 15);
    expect(flat!.upperReturn).toBeCloseTo(Z_90 * DEFAULT_DAILY_SIGMA, 15);
    const [custom] = await persistenceModel({ horizons: [4], defaultSigma: 0.01 }).predictBatch([features('X', 1, {})]);
    expect(custom!.lowerReturn).toBeCloseTo(-Z_90 * 0.01 * 2, 15);
  });

  it('drift carries the 20-bar mean daily log return forward, 0 while ret20 warms up', async () => {
    const out = await driftModel().predictBatch([features('AAPL', 1, { ret20: 0.04, vol20: 0.02 })]);
    expect(out.map((o) => o.predictedReturn)).toEqual([f32(0.04) / 20, (5 * f32(0.04)) / 20, (21 * f32(0.04)) / 20]);
    const d21 = out[2]!;
    expect(d21.lowerReturn).toBeLessThan(d21.predictedReturn);
    expect(d21.upperReturn - d21.predictedReturn).toBeCloseTo(Z_90 * f32(0.02) * Math.sqrt(21), 15);
    expect(d21.predictedReturn - d21.lowerReturn).toBeCloseTo(Z_90 * f32(0.02) * Math.sqrt(21), 15);
    const [warm] = await driftModel({ horizons: [5] }).predictBatch([features('AAPL', 1, {})]);
    expect(warm!.predictedReturn).toBe(0);
  });

  it('returns nothing for no inputs', async () => {
    expect(await driftModel().predictBatch([])).toEqual([]);
  });

  it('constantDrift forecasts a training median for every input, with the random-walk interval', async () => {
    // The training window: h-day log returns per example ([h1, h5] in `targets`), NaN where unknown.
    const training = [
      { ts: 1, targets: [0.01, 0.03] },
      { ts: 2, targets: [-0.02, 0.01] },
      { ts: 3, targets: [0.004, Number.NaN] },
      { ts: 4, targets: [0.002, 0.02] },
      { ts: 5, targets: [0.5, Number.NaN] },
    ];
    // h1: median of 0.01, −0.02, 0.004, 0.002, 0.5 = 0.004; h5: of 0.03, 0.01, 0.02 = 0.02.
    const medians = medianLogReturns(training, [1, 5]);
    expect(medians).toEqual(
      new Map([
        [1, 0.004],
        [5, 0.02],
      ]),
    );
    // An even count takes the mean of the middle two; `include` picks the training rows per horizon.
    expect(medianLogReturns(training, [1, 5], (e, h) => e.ts <= (h === 1 ? 4 : 2)).get(1)).toBeCloseTo(0.003, 15);
    expect(medianLogReturns(training, [1, 5], (e, h) => e.ts <= (h === 1 ? 4 : 2)).get(5)).toBeCloseTo(0.02, 15);
    // A horizon with no known return has no median.
    expect(medianLogReturns(training, [1, 5], (_e, h) => h === 1).has(5)).toBe(false);

    const m = constantDriftModel(medians);
    expect(m).toMatchObject({ name: 'constantDrift', version: '1', horizons: [1, 5] });
    const out = await m.predictBatch([
      features('AAPL', 1, { ret20: 0.3, vol20: 0.01 }),
      features('KO', 1, { ret20: -0.3, vol20: 0.01 }),
    ]);
    expect(out.map((o) => [o.symbol, o.horizon, o.predictedReturn])).toEqual([
      ['AAPL', 1, 0.004],
      ['AAPL', 5, 0.02],
      ['KO', 1, 0.004],
      ['KO', 5, 0.02],
    ]);
    expect(out[1]!.upperReturn - 0.02).toBeCloseTo(Z_90 * f32(0.01) * Math.sqrt(5), 15);
    expect(() => constantDriftModel(new Map([[1, Number.NaN]]))).toThrow(/median 1-day return is NaN/);
    expect(() => constantDriftModel(new Map())).toThrow(RangeError);
  });
});
