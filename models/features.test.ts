// The streaming fold (updateFeatures) against an independent batch reference: textbook formulas
// over whole arrays, written here without sharing any code with models/features.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { Bar } from '../schemas/index.js';
import { createEarningsCalendar } from './earnings-calendar.js';
import {
  computeFeatureSeries,
  createFeatureState,
  FEATURE_NAMES,
  FEATURE_SPEC,
  FEATURE_WARMUP,
  type FeatureName,
  type FeatureState,
  featureIndex,
  featureRecord,
  MAX_WARMUP,
  updateFeatures,
} from './features.js';

const DIR = new URL('../data/sp500-daily/', import.meta.url).pathname;
const DAY = 86_400_000;

/**
 * The trading days, as the data knows them: every day some bundled ticker traded (not the
 * calendar module the fold uses). A bar whose previous bar is older than the trading day before
 * it follows a gap: a day whose row was rejected.
 */
const TRADED = (() => {
  const days = new Set<number>();
  for (const f of readdirSync(DIR).filter((x) => x.endsWith('.csv'))) {
    for (const line of readFileSync(join(DIR, f), 'utf8').split('\n').slice(1)) {
      if (/^\d{4}-\d{2}-\d{2},/.test(line)) days.add(Date.parse(`${line.slice(0, 10)}T00:00:00Z`));
    }
  }
  return [...days].sort((a, b) => a - b);
})();
const TRADED_INDEX = new Map(TRADED.map((d, i) => [d, i]));
/** Per bar: true when a trading day between it and the previous bar has no bar. */
function gapsOf(bars: Bar[]): boolean[] {
  return bars.map((b, t) => {
    if (t === 0) return false;
    const i = TRADED_INDEX.get(b.ts);
    const j = TRADED_INDEX.get(bars[t - 1]!.ts);
    return i !== undefined && j !== undefined && i - j > 1;
  });
}

function loadBars(file: string): Bar[] {
  const rows = parse(readFileSync(join(DIR, file), 'utf8'), { columns: true, skip_empty_lines: true }) as Array<
    Record<string, string>
  >;
  return rows
    .filter((r) => Object.values(r).every((v) => v !== ''))
    .map((r) => ({
      symbol: r.Name ?? file.replace('_data.csv', ''),
      ts: Date.parse(`${r.date}T00:00:00Z`),
      interval: '1d',
      open: Number(r.open),
      high: Number(r.high),
      low: Number(r.low),
      close: Number(r.close),
      volume: Number(r.volume),
      quotes: 1,
      source: 'replay',
    }));
}

// ---------------------------------------------------------------------------------------------
// Reference implementation: one full array per feature, t = 0-based bar index.

const nanArray = (n: number) => new Array<number>(n).fill(Number.NaN);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function std(xs: number[], ddof: number): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - ddof));
}
function ema(xs: number[], span: number): number[] {
  const alpha = 2 / (span + 1);
  const out: number[] = [];
  xs.forEach((x, t) => {
    out.push(t === 0 ? x : alpha * x + (1 - alpha) * out[t - 1]!);
  });
  return out;
}
/** Wilder smoothing: the first output at index `n` (seeded with the mean of xs[1..n]), xs[0] unused. */
function wilder(xs: number[], n: number): number[] {
  const out = nanArray(xs.length);
  for (let t = n; t < xs.length; t++) {
    out[t] = t === n ? mean(xs.slice(1, n + 1)) : (out[t - 1]! * (n - 1) + xs[t]!) / n;
  }
  return out;
}

/** a / b, NaN for a zero denominator (the spec's rule: never ±Infinity). */
const safeDiv = (a: number, b: number) => (b === 0 ? Number.NaN : a / b);
const allEqual = (xs: number[]) => xs.every((x) => x === xs[0]);
/** Pearson correlation; NaN when either side is constant. */
function pearson(xs: number[], ys: number[]): number {
  if (allEqual(xs) || allEqual(ys)) return Number.NaN;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (ys[i]! - my);
    sxx += (x - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}
/** Least-squares slope of ys on x = 0, 1, …, len − 1. */
function slope(ys: number[]): number {
  const xs = ys.map((_, i) => i);
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  ys.forEach((y, i) => {
    sxy += (xs[i]! - mx) * (y - my);
    sxx += (xs[i]! - mx) ** 2;
  });
  return sxy / sxx;
}

type LegacyName =
  | 'ret1'
  | 'ret5'
  | 'ret10'
  | 'ret20'
  | 'vol20'
  | 'rsi14'
  | 'macd'
  | 'macdSignal'
  | 'macdHist'
  | 'bbPctB20'
  | 'atr14'
  | 'volumeZ20';

const WINDOWS = [5, 10, 20, 30, 60] as const;
/** pandas' rolling quantile: linear interpolation between the order statistics at (len − 1)·q. */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.ceil(pos)]! - s[lo]!) * (pos - lo);
}
const CANDLE_NAMES = ['KMID', 'KLEN', 'KMID2', 'KUP', 'KUP2', 'KLOW', 'KLOW2', 'KSFT', 'KSFT2'];
/** Rolling families in spec order; true = needs one more bar (the previous close of the oldest). */
const FAMILIES: [string, boolean][] = [
  ['ROC', true],
  ['MA', false],
  ['STD', false],
  ['BETA', false],
  ['RSQR', false],
  ['MAX', false],
  ['MIN', false],
  ['RSV', false],
  ['CORR', false],
  ['CNTP', true],
  ['CNTN', true],
  ['VMA', false],
  ['VSTD', false],
  ['QTLU', false],
  ['QTLD', false],
  ['IMAX', false],
  ['IMIN', false],
  ['SUMP', true],
  ['WVMA', true],
];
const ALPHA158_NAMES = [...CANDLE_NAMES, ...FAMILIES.flatMap(([f]) => WINDOWS.map((d) => `${f}${d}`))];
/** Candle shape: bar 1; window d: d bars, d + 1 when the oldest bar's previous close is read. */
const ALPHA158_WARMUP = Object.fromEntries([
  ...CANDLE_NAMES.map((k) => [k, 1]),
  ...FAMILIES.flatMap(([f, extra]) => WINDOWS.map((d) => [`${f}${d}`, extra ? d + 1 : d])),
]);

/** Alpha158 (Qlib) candle shape and rolling families, straight from their definitions. */
function alpha158(bars: Bar[]): Record<string, number[]> {
  const o = bars.map((b) => b.open);
  const c = bars.map((b) => b.close);
  const h = bars.map((b) => b.high);
  const l = bars.map((b) => b.low);
  const v = bars.map((b) => b.volume);
  const out: Record<string, number[]> = {
    KMID: c.map((x, t) => (x - o[t]!) / o[t]!),
    KLEN: c.map((_, t) => (h[t]! - l[t]!) / o[t]!),
    KMID2: c.map((x, t) => safeDiv(x - o[t]!, h[t]! - l[t]!)),
    KUP: c.map((x, t) => (h[t]! - Math.max(o[t]!, x)) / o[t]!),
    KUP2: c.map((x, t) => safeDiv(h[t]! - Math.max(o[t]!, x), h[t]! - l[t]!)),
    KLOW: c.map((x, t) => (Math.min(o[t]!, x) - l[t]!) / o[t]!),
    KLOW2: c.map((x, t) => safeDiv(Math.min(o[t]!, x) - l[t]!, h[t]! - l[t]!)),
    KSFT: c.map((x, t) => (2 * x - h[t]! - l[t]!) / o[t]!),
    KSFT2: c.map((x, t) => safeDiv(2 * x - h[t]! - l[t]!, h[t]! - l[t]!)),
  };
  // fn(t, window slice of an array) over the last d bars; NaN until `need` bars exist.
  const roll = (d: number, need: number, fn: (t: number, win: (xs: number[]) => number[]) => number) =>
    c.map((_, t) => (t + 1 >= need ? fn(t, (xs) => xs.slice(t - d + 1, t + 1)) : Number.NaN));
  for (const d of WINDOWS) {
    out[`ROC${d}`] = roll(d, d + 1, (t) => c[t - d]! / c[t]!);
    out[`MA${d}`] = roll(d, d, (t, win) => mean(win(c)) / c[t]!);
    out[`STD${d}`] = roll(d, d, (t, win) => std(win(c), 1) / c[t]!);
    out[`BETA${d}`] = roll(d, d, (t, win) => slope(win(c)) / c[t]!);
    out[`RSQR${d}`] = roll(d, d, (_t, win) => {
      const ys = win(c);
      return (
        pearson(
          ys.map((_, i) => i),
          ys,
        ) ** 2
      );
    });
    out[`MAX${d}`] = roll(d, d, (t, win) => Math.max(...win(h)) / c[t]!);
    out[`MIN${d}`] = roll(d, d, (t, win) => Math.min(...win(l)) / c[t]!);
    out[`RSV${d}`] = roll(d, d, (t, win) => {
      const hi = Math.max(...win(h));
      const lo = Math.min(...win(l));
      return safeDiv(c[t]! - lo, hi - lo);
    });
    out[`CORR${d}`] = roll(d, d, (_t, win) =>
      pearson(
        win(c),
        win(v).map((x) => Math.log(x + 1)),
      ),
    );
    const rose = c.map((x, t) => (t > 0 && x > c[t - 1]! ? 1 : 0));
    const fell = c.map((x, t) => (t > 0 && x < c[t - 1]! ? 1 : 0));
    out[`CNTP${d}`] = roll(d, d + 1, (_t, win) => mean(win(rose)));
    out[`CNTN${d}`] = roll(d, d + 1, (_t, win) => mean(win(fell)));
    out[`VMA${d}`] = roll(d, d, (t, win) => safeDiv(mean(win(v)), v[t]!));
    out[`VSTD${d}`] = roll(d, d, (t, win) => safeDiv(std(win(v), 1), v[t]!));
    out[`QTLU${d}`] = roll(d, d, (t, win) => quantile(win(c), 0.8) / c[t]!);
    out[`QTLD${d}`] = roll(d, d, (t, win) => quantile(win(c), 0.2) / c[t]!);
    // numpy argmax / argmin + 1: 1-based position from the oldest bar, first occurrence on ties.
    out[`IMAX${d}`] = roll(d, d, (_t, win) => {
      const xs = win(h);
      return (xs.indexOf(Math.max(...xs)) + 1) / d;
    });
    out[`IMIN${d}`] = roll(d, d, (_t, win) => {
      const xs = win(l);
      return (xs.indexOf(Math.min(...xs)) + 1) / d;
    });
    const change = c.map((x, t) => (t > 0 ? x - c[t - 1]! : Number.NaN));
    out[`SUMP${d}`] = roll(d, d + 1, (_t, win) =>
      safeDiv(
        win(change).reduce((a, x) => a + Math.max(x, 0), 0),
        win(change).reduce((a, x) => a + Math.abs(x), 0),
      ),
    );
    const wv = c.map((x, t) => (t > 0 ? Math.abs(x / c[t - 1]! - 1) * v[t]! : Number.NaN));
    out[`WVMA${d}`] = roll(d, d + 1, (_t, win) => safeDiv(std(win(wv), 1), mean(win(wv))));
  }
  return out;
}

const EARNINGS_NAMES = ['EDAYSTO', 'EDAYSSINCE', 'ESURPRISE', 'EWINDOW'];
const SEQ_NAMES = ['SEQR', 'SEQK', 'SEQV'].flatMap((p) => Array.from({ length: 20 }, (_, k) => `${p}${k}`));

/** The sequence block: the last 20 bars' return, log range and volume ÷ 20-bar mean, from bar 21. */
function sequence(bars: Bar[]): Record<string, number[]> {
  const c = bars.map((b) => b.close);
  const gap = gapsOf(bars);
  const v = bars.map((b) => b.volume);
  const out: Record<string, number[]> = {};
  for (let k = 0; k < 20; k++) {
    const at = (f: (t: number) => number) => bars.map((_, t) => (t >= 20 ? f(t) : Number.NaN));
    out[`SEQR${k}`] = at((t) => (gap[t - k] ? Number.NaN : Math.log(c[t - k]! / c[t - k - 1]!)));
    out[`SEQK${k}`] = at((t) => Math.log(bars[t - k]!.high / bars[t - k]!.low));
    out[`SEQV${k}`] = at((t) => Math.log((v[t - k]! + 1) / (mean(v.slice(t - 19, t + 1)) + 1)));
  }
  // Without a calendar the earnings context is unknown.
  for (const name of EARNINGS_NAMES) out[name] = bars.map(() => Number.NaN);
  return out;
}

function reference(bars: Bar[]): Record<FeatureName, number[]> {
  const c = bars.map((b) => b.close);
  const h = bars.map((b) => b.high);
  const l = bars.map((b) => b.low);
  const v = bars.map((b) => b.volume);
  const N = bars.length;
  // The one-session return: unknown (NaN) over a trading day without a bar.
  const gap = gapsOf(bars);
  const r = c.map((x, t) => (t === 0 || gap[t] ? Number.NaN : Math.log(x / c[t - 1]!)));
  const ret = (k: number) => c.map((x, t) => (t >= k ? Math.log(x / c[t - k]!) : Number.NaN));

  // σ of the known one-session returns among the last 20.
  const vol20 = c.map((_, t) => {
    if (t < 20) return Number.NaN;
    const known = r.slice(t - 19, t + 1).filter((x) => !Number.isNaN(x));
    return known.length > 1 ? std(known, 1) : Number.NaN;
  });

  const gains = c.map((x, t) => (t === 0 ? 0 : Math.max(x - c[t - 1]!, 0)));
  const losses = c.map((x, t) => (t === 0 ? 0 : Math.max(c[t - 1]! - x, 0)));
  const avgGain = wilder(gains, 14);
  const avgLoss = wilder(losses, 14);
  const rsi14 = avgGain.map((g, t) => {
    const lo = avgLoss[t]!;
    if (Number.isNaN(g) || (g === 0 && lo === 0)) return Number.NaN;
    return lo === 0 ? 100 : 100 - 100 / (1 + g / lo);
  });

  const e12 = ema(c, 12);
  const e26 = ema(c, 26);
  const macdLine = c.map((x, t) => (e12[t]! - e26[t]!) / x);
  const macd = macdLine.map((m, t) => (t >= 25 ? m : Number.NaN));
  const signalFrom25 = ema(macdLine.slice(25), 9);
  const macdSignal = c.map((_, t) => (t >= 33 ? signalFrom25[t - 25]! : Number.NaN));
  const macdHist = macd.map((m, t) => m - macdSignal[t]!);

  const bbPctB20 = c.map((x, t) => {
    if (t < 19) return Number.NaN;
    const w = c.slice(t - 19, t + 1);
    const sd = std(w, 0);
    if (w.every((y) => y === w[0])) return Number.NaN;
    const lower = mean(w) - 2 * sd;
    return (x - lower) / (4 * sd);
  });

  const tr = c.map((_, t) =>
    t === 0 ? Number.NaN : Math.max(h[t]! - l[t]!, Math.abs(h[t]! - c[t - 1]!), Math.abs(l[t]! - c[t - 1]!)),
  );
  const atr14 = wilder(tr, 14).map((a, t) => a / c[t]!);

  const volumeZ20 = v.map((x, t) => {
    if (t < 19) return Number.NaN;
    const w = v.slice(t - 19, t + 1);
    if (w.every((y) => y === w[0])) return Number.NaN;
    return (x - mean(w)) / std(w, 1);
  });

  const out = {
    ret1: r,
    ret5: ret(5),
    ret10: ret(10),
    ret20: ret(20),
    vol20,
    rsi14,
    macd,
    macdSignal,
    macdHist,
    bbPctB20,
    atr14,
    volumeZ20,
    ...(alpha158(bars) as Record<Exclude<FeatureName, LegacyName>, number[]>),
    ...(sequence(bars) as Record<Exclude<FeatureName, LegacyName>, number[]>),
  };
  // The alpha158 part is built by name at run time (typed by a cast): check every feature is there.
  for (const name of FEATURE_NAMES) expect(out[name], name).toHaveLength(N);
  return out;
}

/**
 * One float32 step at |x|: a row stores the float32 nearest the value computed in doubles (schemas/features.avsc),
 * so a stored feature is within half a step of an exact reference, and within one of a reference in doubles.
 */
function ulp32(x: number): number {
  const a = Math.abs(x);
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** Within one float32 step; the 1e-12 absolute floor only matters for values crossing 0 (macdHist, ret1 = 0). */
function expectF32(actual: number, expected: number, what = 'value'): void {
  if (!(Math.abs(actual - expected) <= ulp32(expected) + 1e-12)) expect.fail(`${what}: ${actual} vs ${expected}`);
}

function expectClose(actual: number, expected: number, what: string): void {
  if (Number.isNaN(expected)) {
    if (!Number.isNaN(actual)) expect.fail(`${what}: ${actual}, reference NaN (warming up)`);
    return;
  }
  const tol = ulp32(expected) + 1e-12;
  if (!(Math.abs(actual - expected) <= tol)) expect.fail(`${what}: ${actual} vs reference ${expected}`);
}

function compareWithReference(bars: Bar[]): void {
  const rows = computeFeatureSeries(bars);
  const ref = reference([...bars].sort((a, b) => a.ts - b.ts));
  expect(rows).toHaveLength(bars.length);
  expect(rows.every((row) => row.length === FEATURE_NAMES.length)).toBe(true);
  rows.forEach((row, t) => {
    FEATURE_NAMES.forEach((name, i) => {
      expectClose(row[i]!, ref[name][t]!, `${bars[0]!.symbol} ${name} at bar ${t + 1}`);
    });
  });
}

const bar = (ts: number, close: number, volume = 1000, symbol = 'TEST'): Bar => ({
  symbol,
  ts,
  interval: '1d',
  open: close,
  high: close,
  low: close,
  close,
  volume,
  quotes: 1,
  source: 'replay',
});

describe('features', () => {
  const aapl = loadBars('AAPL_data.csv');

  it('streams the same values as an independent batch reference on real AAPL bars', () => {
    expect(aapl.length).toBeGreaterThan(1200);
    compareWithReference(aapl);
  });

  it('matches the reference on every bundled ticker (incl. files with broken rows)', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('_data.csv'));
    expect(files.length).toBeGreaterThanOrEqual(50);
    for (const f of files) compareWithReference(loadBars(f));
  });

  it('marks the one-session return over a rejected day as unknown, and matches the reference around it', () => {
    // REGN_data.csv:588, 2015-06-09, has a close but no open/high/low: the row is rejected, so
    // REGN has no bar that day and the bar of 2015-06-10 follows a gap.
    const regn = loadBars('REGN_data.csv');
    const at = regn.findIndex((b) => b.ts === Date.UTC(2015, 5, 10));
    expect(regn[at - 1]!.ts).toBe(Date.UTC(2015, 5, 8));
    expect(gapsOf(regn).filter(Boolean)).toHaveLength(1);
    const rows = computeFeatureSeries(regn);
    const value = (t: number, name: FeatureName) => rows[t]![featureIndex(name)]!;
    // The move from 06-08 to 06-10 spans two sessions: not a one-session return.
    expect(value(at, 'ret1')).toBeNaN();
    expect(value(at, 'SEQR0')).toBeNaN();
    expect(value(at + 3, 'SEQR3')).toBeNaN();
    expect(value(at + 3, 'SEQR2')).toBe(value(at + 2, 'SEQR1'));
    // Volatility over the other 19 returns of the window; multi-bar returns stay over bars.
    const r = (t: number) => Math.log(regn[t]!.close / regn[t - 1]!.close);
    const known = Array.from({ length: 20 }, (_, i) => at - i)
      .filter((t) => t !== at)
      .map(r);
    expectF32(value(at, 'vol20'), std(known, 1));
    expectF32(value(at, 'ret5'), Math.log(regn[at]!.close / regn[at - 5]!.close));
    expectF32(value(at + 1, 'ret1'), r(at + 1));
    // Weekends and exchange holidays are not gaps: only the rejected day is.
    const holiday = computeFeatureSeries(
      [Date.UTC(2016, 2, 23), Date.UTC(2016, 2, 24), Date.UTC(2016, 2, 28)].map((ts, i) => bar(ts, 10 + i)),
    );
    expectF32(holiday[2]![featureIndex('ret1')]!, Math.log(12 / 11));
    const skipped = computeFeatureSeries(
      [Date.UTC(2016, 2, 22), Date.UTC(2016, 2, 23), Date.UTC(2016, 2, 28)].map((ts, i) => bar(ts, 10 + i)),
    );
    expect(skipped[2]![featureIndex('ret1')]).toBeNaN();
    compareWithReference(regn);
  });

  it('is NaN exactly during the documented warm-up, and defined after it', () => {
    expect(FEATURE_WARMUP).toEqual({
      ret1: 2,
      ret5: 6,
      ret10: 11,
      ret20: 21,
      vol20: 21,
      rsi14: 15,
      macd: 26,
      macdSignal: 34,
      macdHist: 34,
      bbPctB20: 20,
      atr14: 15,
      volumeZ20: 20,
      ...ALPHA158_WARMUP,
      ...Object.fromEntries(EARNINGS_NAMES.map((k) => [k, 1])),
      ...Object.fromEntries(SEQ_NAMES.map((k) => [k, 21])),
    });
    expect(MAX_WARMUP).toBe(61);
    const rows = computeFeatureSeries(aapl);
    // The earnings context needs a calendar, and may be undefined later (no next date): tested below.
    for (const name of FEATURE_NAMES.filter((n) => !EARNINGS_NAMES.includes(n))) {
      const i = featureIndex(name);
      const firstDefined = rows.findIndex((r) => !Number.isNaN(r[i]!));
      expect(firstDefined + 1, name).toBe(FEATURE_WARMUP[name]);
      expect(
        rows.slice(firstDefined).every((r) => Number.isFinite(r[i]!)),
        name,
      ).toBe(true);
    }
  });

  it('continues exactly from a state that went through JSON (snapshot / changelog restore)', () => {
    let state: FeatureState = createFeatureState();
    const streamed: Float32Array[] = [];
    for (const b of aapl.slice(0, 300)) {
      const values = updateFeatures(state, b);
      if (values) streamed.push(values);
      state = JSON.parse(JSON.stringify(state)) as FeatureState;
    }
    expect(streamed).toEqual(computeFeatureSeries(aapl.slice(0, 300)));
    expect(state.count).toBe(300);
  });

  it('ignores a re-delivered or older bar: null, state unchanged', () => {
    const state = createFeatureState();
    for (const b of aapl.slice(0, 50)) updateFeatures(state, b);
    const before = JSON.stringify(state);
    expect(updateFeatures(state, aapl[49]!)).toBeNull(); // same ts again
    expect(updateFeatures(state, { ...aapl[49]!, close: 1 })).toBeNull(); // same ts, other values
    expect(updateFeatures(state, aapl[10]!)).toBeNull(); // older
    expect(JSON.stringify(state)).toBe(before);
    expect(updateFeatures(state, aapl[50]!)).toEqual(computeFeatureSeries(aapl.slice(0, 51))[50]);
  });

  it('drops repeated ts offline like the stream, and sorts by ts', () => {
    const shuffled = [...aapl.slice(0, 100)].reverse();
    const withRepeat = [...shuffled, aapl[5]!];
    expect(computeFeatureSeries(withRepeat)).toEqual(computeFeatureSeries(aapl.slice(0, 100)));
    expect(() => computeFeatureSeries([bar(DAY, 1), bar(2 * DAY, 1, 1, 'OTHER')])).toThrow(/mixed symbols/);
    expect(computeFeatureSeries([])).toEqual([]);
  });

  it('never gives Infinity on a constant price and volume (division by zero is NaN)', () => {
    const flat = Array.from({ length: 70 }, (_, t) => bar((t + 1) * DAY, 42.1));
    const zeroVolume = Array.from({ length: 70 }, (_, t) => bar((t + 1) * DAY, 0.1, 0));
    for (const series of [flat, zeroVolume]) {
      const last = featureRecord(computeFeatureSeries(series).at(-1)!);
      for (const v of Object.values(last)) expect(Number.isFinite(v) || Number.isNaN(v)).toBe(true);
      expect(last).toMatchObject({ ret1: 0, ret20: 0, vol20: 0, macd: 0, macdSignal: 0, macdHist: 0, atr14: 0 });
      expect(last.rsi14).toBeNaN();
      expect(last.bbPctB20).toBeNaN();
      expect(last.volumeZ20).toBeNaN();
      expect(last).toMatchObject({ KMID: 0, KLEN: 0, KUP: 0, KLOW: 0, KSFT: 0 });
      for (const d of WINDOWS) {
        const at = (f: string) => last[`${f}${d}` as FeatureName];
        expect([at('ROC'), at('MA'), at('MAX'), at('MIN')]).toEqual([1, 1, 1, 1]);
        expect([at('STD'), at('BETA'), at('CNTP'), at('CNTN')]).toEqual([0, 0, 0, 0]);
        for (const f of ['RSQR', 'RSV', 'CORR', 'SUMP', 'WVMA']) expect(at(f), `${f}${d}`).toBeNaN();
        expect([at('QTLU'), at('QTLD'), at('IMAX'), at('IMIN')]).toEqual([
          1,
          1,
          Math.fround(1 / d),
          Math.fround(1 / d),
        ]);
      }
      for (const k of ['KMID2', 'KUP2', 'KLOW2', 'KSFT2'] as const) expect(last[k]).toBeNaN();
    }
    const flatLast = featureRecord(computeFeatureSeries(flat).at(-1)!);
    expect(flatLast).toMatchObject({ VMA5: 1, VSTD60: 0 });
    const zeroLast = featureRecord(computeFeatureSeries(zeroVolume).at(-1)!);
    expect(zeroLast.VMA5).toBeNaN();
    expect(zeroLast.VSTD60).toBeNaN();
  });

  it('rejects an invalid bar without touching the state', () => {
    const state = createFeatureState();
    updateFeatures(state, bar(DAY, 10));
    const before = JSON.stringify(state);
    expect(() => updateFeatures(state, bar(2 * DAY, 0))).toThrow(RangeError);
    expect(() => updateFeatures(state, { ...bar(2 * DAY, 10), high: Number.NaN })).toThrow(RangeError);
    expect(() => updateFeatures(state, bar(2 * DAY, 10, Number.POSITIVE_INFINITY))).toThrow(RangeError);
    expect(JSON.stringify(state)).toBe(before);
  });

  it('starts afresh from a state built for another spec, still dropping re-deliveries', () => {
    const state = createFeatureState();
    for (const b of aapl.slice(0, 40)) updateFeatures(state, b);
    state.spec = 'basic@00000000';
    expect(updateFeatures(state, aapl[39]!)).toBeNull();
    const values = updateFeatures(state, aapl[40]!);
    expect(state).toMatchObject({ spec: FEATURE_SPEC.id, count: 1 });
    // Only the candle shape of the bar itself is defined on the first bar.
    FEATURE_NAMES.forEach((name, i) => {
      expect(Number.isNaN(values![i]!), name).toBe(FEATURE_WARMUP[name] > 1 || EARNINGS_NAMES.includes(name));
    });
  });

  it('names the spec by a hash of its names and parameters', () => {
    expect(FEATURE_SPEC.name).toBe('basic');
    expect(FEATURE_SPEC.id).toMatch(/^basic@[0-9a-f]{8}$/);
    expect(FEATURE_SPEC.names).toEqual([
      'ret1',
      'ret5',
      'ret10',
      'ret20',
      'vol20',
      'rsi14',
      'macd',
      'macdSignal',
      'macdHist',
      'bbPctB20',
      'atr14',
      'volumeZ20',
      ...ALPHA158_NAMES,
      ...EARNINGS_NAMES,
      ...SEQ_NAMES,
    ]);
    expect(FEATURE_NAMES).toHaveLength(12 + 9 + 19 * 5 + 4 + 60);
    expect(featureIndex('macdHist')).toBe(8);
    expect(featureIndex('KMID')).toBe(12);
    expect(featureIndex('VSTD60')).toBe(85);
    expect(featureIndex('WVMA60')).toBe(115);
    expect(() => featureIndex('nope' as FeatureName)).toThrow(/unknown feature/);
    expect(() => featureRecord([1, 2])).toThrow(/expected 180/);
  });

  it('places each bar in its earnings calendar: days to and since, last surprise, window', () => {
    // AAPL reported on 2015-04-27 (surprise 4.7%) and 2015-07-21, both after the close.
    const calendar = createEarningsCalendar([
      { symbol: 'AAPL', date: Date.UTC(2015, 3, 27), epsEstimate: 2.16, epsActual: 2.33, surprisePct: 7.87 },
      { symbol: 'AAPL', date: Date.UTC(2015, 6, 21), epsEstimate: 1.81, epsActual: 1.85, surprisePct: 2.21 },
    ]);
    const rows = computeFeatureSeries(aapl, calendar);
    const at = (y: number, m: number, d: number) =>
      featureRecord(rows[aapl.findIndex((b) => b.ts === Date.UTC(y, m - 1, d))]!);
    expect(at(2015, 7, 14)).toMatchObject({ EDAYSTO: 7, EDAYSSINCE: 78, ESURPRISE: Math.fround(7.87), EWINDOW: 0 });
    // On the announcement day: 0 days to it, and its surprise is not known until the next day.
    expect(at(2015, 7, 21)).toMatchObject({ EDAYSTO: 0, EDAYSSINCE: 85, ESURPRISE: Math.fround(7.87), EWINDOW: 1 });
    expect(at(2015, 7, 22)).toMatchObject({ EDAYSSINCE: 1, ESURPRISE: Math.fround(2.21), EWINDOW: 0 });
    expect(at(2015, 7, 22).EDAYSTO).toBeNaN(); // no later date in this calendar
    expect(at(2015, 1, 5).EDAYSTO).toBe(92); // capped at a quarter
    expect(at(2015, 1, 5).EDAYSSINCE).toBeNaN();
    // The other features do not depend on the calendar.
    const plain = computeFeatureSeries(aapl);
    const others = FEATURE_NAMES.map((n, i) => [n, i] as const).filter(([n]) => !EARNINGS_NAMES.includes(n));
    for (const [, i] of others) expect(rows.map((r) => r[i])).toEqual(plain.map((r) => r[i]));
  });
});
