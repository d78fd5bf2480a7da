import { describe, expect, it } from 'vitest';
import { persistenceModel } from './baselines.js';
import { FEATURE_SPEC } from './features.js';
import { fitIntervalScale, fitMedianShrink, shrunk, withIntervalScale } from './interval-scale.js';

describe('interval scale for earnings days', () => {
  it('finds the factor that makes the interval cover at least 80%', () => {
    // Deviations of 0.5, 1.0, … 5.0 half-intervals; the 0.8 quantile (9th of 10) is 4.5.
    const samples = Array.from({ length: 10 }, (_, i) => ({
      actual: (i + 1) * 0.005 * (i % 2 ? 1 : -1),
      predicted: 0,
      lower: -0.01,
      upper: 0.01,
    }));
    const k = fitIntervalScale(samples);
    expect(k).toBeCloseTo(4.5, 12);
    const inside = samples.filter((s) => Math.abs(s.actual) <= k * 0.01).length;
    expect(inside / samples.length).toBe(0.9);
    expect(fitIntervalScale([])).toBe(1);
  });

  it('widens a model around its median and says so in its version', async () => {
    const wide = withIntervalScale(persistenceModel({ horizons: [1] }), 2.5);
    expect(wide.name).toBe('persistence+earnings');
    expect(wide.version).toBe('1-x2.500');
    const f = {
      symbol: 'AAPL',
      ts: Date.UTC(2018, 1, 1),
      close: 167.78,
      spec: FEATURE_SPEC.id,
      values: [],
      history: 0,
    };
    const [base] = await persistenceModel({ horizons: [1] }).predictBatch([f]);
    const [o] = await wide.predictBatch([f]);
    expect(o!.predictedReturn).toBe(base!.predictedReturn);
    expect(o!.upperReturn).toBeCloseTo(2.5 * base!.upperReturn, 12);
    expect(o!.lowerReturn).toBeCloseTo(2.5 * base!.lowerReturn, 12);
  });

  it('shrinks the median towards no change by the factor that minimises MAE', async () => {
    // The model calls the direction right but twice too strongly: half its median is best.
    const samples = [0.01, -0.02, 0.03, -0.005].map((a) => ({
      actual: a,
      predicted: 2 * a,
      lower: 2 * a - 0.01,
      upper: 2 * a + 0.01,
    }));
    expect(fitMedianShrink(samples)).toBe(0.5);
    // A model with no skill on these days: persistence (0) is best.
    expect(
      fitMedianShrink([
        { actual: 0.01, predicted: -0.01 },
        { actual: -0.02, predicted: 0.02 },
      ]),
    ).toBe(0);
    expect(fitMedianShrink([])).toBe(1);
    expect(shrunk(samples, 0.5)[1]).toEqual({
      actual: -0.02,
      predicted: -0.02,
      lower: expect.closeTo(-0.03, 12),
      upper: expect.closeTo(-0.01, 12),
    });

    const base = { name: 'net', version: '7', spec: 'basic@test', horizons: [1] };
    const model = {
      ...base,
      predictBatch: () => [
        { symbol: 'A', ts: 0, horizon: 1, lowerReturn: 0.0, predictedReturn: 0.02, upperReturn: 0.03 },
      ],
    };
    const adjusted = withIntervalScale(model, 2, { shrink: 0.5 });
    expect(adjusted.version).toBe('7-x2.000-s0.50');
    const [o] = await adjusted.predictBatch([]);
    expect(o).toMatchObject({
      predictedReturn: 0.01,
      lowerReturn: expect.closeTo(-0.03, 12),
      upperReturn: expect.closeTo(0.03, 12),
    });
  });
});
