import { describe, expect, it } from 'vitest';
import {
  type CalibrationRow,
  closeDay,
  createConformalState,
  etaFor,
  issuedScale,
  observe,
  replayCalibration,
  widen,
} from './conformal.js';
import { seededRandom } from './random.js';
import { addTradingDays } from './trading-calendar.js';

const DAY = 86_400_000;

/** Standard normal draws (Box–Muller) from a seeded generator. */
function normals(seed: number): () => number {
  const u = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

describe('adaptive conformal calibration', () => {
  it('steps once per target session: log s += η(misses − 0.2n)/n̄ (n̄ forecasts per session)', () => {
    const s = createConformalState();
    // Session 1: 10 forecasts, 5 missed.
    for (let i = 0; i < 10; i++) observe(s, DAY, i >= 5, 0.5);
    expect(s.logScale).toBe(0); // the session is still being counted
    // The first forecast of session 2 closes session 1: 0.5 × (0.5 − 0.2) = 0.15.
    expect(observe(s, 2 * DAY, true, 0.5)).toBe(true);
    expect(s.logScale).toBeCloseTo(0.15, 12);
    // Session 2: 10 forecasts, all inside: 0.5 × (0 − 2)/10 = −0.1.
    for (let i = 0; i < 9; i++) observe(s, 2 * DAY, true, 0.5);
    closeDay(s, 0.5);
    expect(s.logScale).toBeCloseTo(0.05, 12);
    expect(s.steps).toBe(2);
    expect(etaFor(4, 0.5)).toBe(0.25);
  });

  it('issues each group its own scale times the lead group’s (1:normal)', () => {
    const own = { ...createConformalState(), logScale: Math.log(1.5) };
    const lead = { ...createConformalState(), logScale: Math.log(2) };
    expect(issuedScale('5:normal', own, lead)).toBeCloseTo(3, 12);
    expect(issuedScale('1:normal', lead, lead)).toBeCloseTo(2, 12);
    expect(issuedScale('5:earnings', undefined, undefined)).toBe(1);
    expect(widen(-0.01, 0.001, 0.02, 2)).toEqual([0.001 - 2 * 0.011, 0.001 + 2 * 0.019]);
  });

  it('brings an interval that covers 60% back to 80%, and follows a volatility regime change', () => {
    // 200 symbols, 500 sessions; true σ 1%, then 3% from session 250 (a crash regime). The
    // model's interval is ±0.84σ₀ (covers 60% before the change, 20% after).
    const z = normals(7);
    const rows: CalibrationRow[] = [];
    let ts = Date.UTC(2019, 0, 2);
    for (let t = 0; t < 500; t++) {
      const sigma = t < 250 ? 0.01 : 0.03;
      for (let i = 0; i < 200; i++) {
        rows.push({
          ts,
          horizon: 1,
          regime: 'normal',
          actual: sigma * z(),
          predicted: 0,
          lower: -0.0084,
          upper: 0.0084,
        });
      }
      ts = addTradingDays(ts, 1);
    }
    const out = replayCalibration(rows);
    const coverage = (from: number, to: number) => {
      const part = out.slice(from * 200, to * 200);
      return part.filter((o) => o.inside).length / part.length;
    };
    const raw = rows.filter((r) => r.actual >= r.lower && r.actual <= r.upper).length / rows.length;
    expect(raw).toBeLessThan(0.45);
    // After a few weeks to learn, and over each regime as a whole, within 78–82%.
    expect(coverage(20, 250)).toBeGreaterThan(0.78);
    expect(coverage(20, 250)).toBeLessThan(0.82);
    expect(coverage(270, 500)).toBeGreaterThan(0.78);
    expect(coverage(270, 500)).toBeLessThan(0.82);
    expect(coverage(0, 500)).toBeGreaterThan(0.77);
  });
});
