import { describe, expect, it } from 'vitest';
import type { Features } from '../schemas/index.js';
import { persistenceModel } from './baselines.js';
import { constantModel } from './constant-model.js';
import { createEarningsCalendar } from './earnings-calendar.js';
import { FEATURE_SPEC } from './features.js';
import {
  announcementSession,
  fitIntervalScale,
  fitMedianShrink,
  shrunk,
  withEarningsInWindow,
  withIntervalScale,
} from './interval-scale.js';
import type { Model } from './model.js';

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
      values: new Float32Array(0),
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

    const model = constantModel({
      name: 'net',
      version: '7',
      horizons: [1],
      lower: 0.0,
      median: 0.02,
      upper: 0.03,
      rank: 0.02,
    });
    const adjusted = withIntervalScale(model, 2, { shrink: 0.5 });
    expect(adjusted.version).toBe('7-x2.000-s0.50');
    const [o] = await adjusted.predictBatch([
      { symbol: 'A', ts: 0, close: 1, spec: 'basic@test', values: new Float32Array(0), history: 1 },
    ]);
    expect(o).toMatchObject({
      predictedReturn: 0.01,
      lowerReturn: expect.closeTo(-0.03, 12),
      upperReturn: expect.closeTo(0.03, 12),
      rankReturn: 0.02, // the net's own median, not shrunk: it ranks as the net does
    });
  });
});

describe('earnings announcements later in the window', () => {
  const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
  // Thursday 2017-01-12: session 1 is Friday the 13th, Monday the 16th is a holiday (MLK day),
  // session 2 is Tuesday the 17th, session 3 Wednesday the 18th.
  const thursday = day('2017-01-12');

  it('places an announcement at the session whose return it moves, as the router does', () => {
    expect(announcementSession(thursday, thursday, 21)).toBe(1); // after the input day's close
    expect(announcementSession(thursday, day('2017-01-13'), 21)).toBe(1);
    expect(announcementSession(thursday, day('2017-01-14'), 21)).toBe(2); // Saturday: before Tuesday's open
    expect(announcementSession(thursday, day('2017-01-16'), 21)).toBe(2); // the holiday
    expect(announcementSession(thursday, day('2017-01-17'), 21)).toBe(2);
    expect(announcementSession(thursday, day('2017-01-18'), 21)).toBe(3);
    expect(announcementSession(thursday, day('2017-01-18'), 2)).toBeNull(); // past the window
    expect(announcementSession(thursday, day('2017-01-11'), 21)).toBeNull(); // before it
  });

  it('widens every horizon whose window holds the announcement, by √((h − 1 + k²)/h), and no other', async () => {
    const k = 1.6;
    const calendar = createEarningsCalendar([
      // KO: at session 3 (h5 and h21 windows hold it); PEP: at session 10 (only h21's); XOM: none near.
      { symbol: 'KO', date: day('2017-01-18'), epsEstimate: null, epsActual: null, surprisePct: null },
      { symbol: 'PEP', date: day('2017-01-27'), epsEstimate: null, epsActual: null, surprisePct: null },
      { symbol: 'XOM', date: day('2017-04-28'), epsEstimate: null, epsActual: null, surprisePct: null },
    ]);
    const base = constantModel({ name: 'net', horizons: [1, 5, 21], lower: -0.02, median: 0.01, upper: 0.03 });
    const inputs = ['KO', 'PEP', 'XOM'].map((symbol) => ({
      symbol,
      ts: thursday,
      close: 1,
      spec: 'basic@test',
      values: new Float32Array(0),
      history: 1,
    }));
    const w = (h: number) => Math.sqrt((h - 1 + k * k) / h);
    const expected = [
      [1, 1, 1].map((x, i) => x * [1, w(5), w(21)][i]!), // KO
      [1, 1, w(21)], // PEP
      [1, 1, 1], // XOM
    ];
    const quantiles = {
      ...base,
      // (lower, median, upper, rank) per horizon: the rank is the net's own median.
      predictQuantiles: (fs: readonly Features[]) =>
        Float64Array.from(
          fs.flatMap(() => [-0.02, 0.01, 0.03, 0.01, -0.02, 0.01, 0.03, 0.01, -0.02, 0.01, 0.03, 0.01]),
        ),
    };
    for (const model of [base, quantiles]) {
      const widened = withEarningsInWindow(model, k, calendar);
      expect(widened.version).toBe('1-ew1.600');
      const out = await widened.predictBatch(inputs);
      expect(out.map((o) => [o.symbol, o.horizon])).toEqual(
        inputs.flatMap((f) => [1, 5, 21].map((h) => [f.symbol, h])),
      );
      out.forEach((o, i) => {
        const f = expected[Math.floor(i / 3)]![i % 3]!;
        expect(o.predictedReturn).toBe(0.01); // the median is not moved
        expect(o.lowerReturn, `${o.symbol} h${o.horizon}`).toBeCloseTo(0.01 - f * 0.03, 12);
        expect(o.upperReturn, `${o.symbol} h${o.horizon}`).toBeCloseTo(0.01 + f * 0.02, 12);
      });
    }
    // What the width is attributed to widens with it (and still adds up); the median's attributions stay.
    const explained: Model = {
      ...base,
      attributeWidth: (fs) =>
        fs.flatMap((x) =>
          [1, 5, 21].map((horizon) => ({
            symbol: x.symbol,
            ts: x.ts,
            horizon,
            predictedWidth: 0.05,
            baselineWidth: 0.04,
            contributions: Float32Array.of(0.004, 0.006),
            method: 'exact',
          })),
        ),
    };
    const widths = await withEarningsInWindow(explained, k, calendar).attributeWidth!(inputs);
    widths.forEach((w, i) => {
      const f = expected[Math.floor(i / 3)]![i % 3]!;
      expect(w.predictedWidth, `${w.symbol} h${w.horizon}`).toBeCloseTo(f * 0.05, 12);
      expect(w.baselineWidth).toBeCloseTo(f * 0.04, 12);
      expect(w.contributions[0]! + w.contributions[1]!).toBeCloseTo(w.predictedWidth - w.baselineWidth, 7);
    });
  });
});
