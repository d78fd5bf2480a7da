// A calibrated earnings adjustment: earnings days move several times more than normal days,
// and a model's direction call on them is mostly noise. So the earnings branch shrinks the
// model's median towards 0 (no change) and widens its interval around the shrunk median, both
// by factors fitted on validation earnings days: the shrink minimises MAE, the scale covers 80%.
import type { Features } from '../schemas/index.js';
import type { EarningsCalendar } from './earnings-calendar.js';
import {
  type Attribution,
  type Model,
  type ModelOutput,
  outputsFromQuantiles,
  QUANTILE_STRIDE,
  type WidthAttribution,
} from './model.js';
import { addTradingDays } from './trading-calendar.js';

export interface IntervalSample {
  actual: number;
  predicted: number;
  lower: number;
  upper: number;
}

/**
 * The scale k that makes [m − k(m − l), m + k(u − m)] hold `coverage` of the samples:
 * the `coverage` quantile of each sample's deviation in units of its own half-interval.
 */
export function fitIntervalScale(samples: readonly IntervalSample[], coverage = 0.8): number {
  const r = samples
    .map((s) => {
      const half = s.actual >= s.predicted ? s.upper - s.predicted : s.predicted - s.lower;
      return half > 0 ? Math.abs(s.actual - s.predicted) / half : Number.NaN;
    })
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (r.length === 0) return 1;
  return r[Math.min(r.length - 1, Math.floor(coverage * r.length))]!;
}

/**
 * The factor in [0, 1] (steps of 0.05) that, applied to the predicted median, minimises the mean
 * absolute error: 0 is persistence, 1 the model as it is. Ties go to the larger factor.
 */
export function fitMedianShrink(samples: readonly Pick<IntervalSample, 'actual' | 'predicted'>[]): number {
  if (samples.length === 0) return 1;
  let best = { shrink: 1, mae: Number.POSITIVE_INFINITY };
  for (let i = 20; i >= 0; i--) {
    const shrink = i / 20;
    let sum = 0;
    for (const s of samples) sum += Math.abs(s.actual - shrink * s.predicted);
    const mae = sum / samples.length;
    if (mae < best.mae - 1e-15) best = { shrink, mae };
  }
  return best.shrink;
}

/** Quantiles (lower, median, upper) with the median times `shrink` and the interval times `k` around it. */
function adjust(lower: number, median: number, upper: number, k: number, shrink: number): [number, number, number] {
  const m = shrink * median;
  return [m - k * (median - lower), m, m + k * (upper - median)];
}

/** Samples as the adjusted model would have forecast them with its median times `shrink`. */
export function shrunk(samples: readonly IntervalSample[], shrink: number): IntervalSample[] {
  return samples.map((s) => {
    const [lower, predicted, upper] = adjust(s.lower, s.predicted, s.upper, 1, shrink);
    return { actual: s.actual, predicted, lower, upper };
  });
}

/**
 * `model` with its median times `shrink` (default 1) and its interval scaled by `k` around that
 * median; name (`<model>+<branch>`, branch default 'earnings') and version say so. Attributions (if
 * the model gives them) are scaled by `shrink` like the median they explain; width attributions by k like the
 * interval.
 * `oneDay`: k is one session's multiple (the announcement day's, fitted at horizon 1). Over h
 * sessions the announcement is one of them, so the h-day variance is (h − 1)σ² + k²σ² and the
 * interval scales by √((h − 1 + k²) / h): k at h = 1, close to 1 at h = 21. Without it, k at every
 * horizon (a scale of the whole interval, e.g. the normal days' calibration).
 */
export function withIntervalScale(
  model: Model,
  k: number,
  opts: { shrink?: number; branch?: string; oneDay?: boolean } = {},
): Model {
  const shrink = opts.shrink ?? 1;
  const kAt = (h: number) => (opts.oneDay ? Math.sqrt((h - 1 + k * k) / h) : k);
  const scale = (o: ModelOutput): ModelOutput => {
    const [lowerReturn, predictedReturn, upperReturn] = adjust(
      o.lowerReturn,
      o.predictedReturn,
      o.upperReturn,
      kAt(o.horizon),
      shrink,
    );
    // A literal, not a spread of `o`: for 15,000 outputs a batch the spread cost ~2 ms more. The rank (the net's
    // own median) is not shrunk: it ranks as the net does.
    return {
      symbol: o.symbol,
      ts: o.ts,
      horizon: o.horizon,
      lowerReturn,
      predictedReturn,
      upperReturn,
      rankReturn: o.rankReturn,
    };
  };
  // From the model's typed quantiles when it has them: one set of output objects per batch, not two.
  const predictQuantiles =
    model.predictQuantiles &&
    ((inputs: readonly Features[]): Float64Array => {
      // A new array each call: adjusted in place when it holds doubles (the nets' does).
      const given = model.predictQuantiles!(inputs);
      const q = given instanceof Float64Array ? given : Float64Array.from(given);
      const ks = Float64Array.from(model.horizons, kAt);
      for (let o = 0, h = 0; o < q.length; o += QUANTILE_STRIDE, h = h + 1 === ks.length ? 0 : h + 1) {
        // `adjust` written out: its array per output (15,000 a batch) was not always optimised away.
        const median = q[o + 1]!;
        const k = ks[h]!;
        const m = shrink * median;
        q[o] = m - k * (median - q[o]!);
        q[o + 1] = m;
        q[o + 2] = m + k * (q[o + 2]! - median);
      }
      return q;
    });
  return {
    name: `${model.name}+${opts.branch ?? 'earnings'}`,
    version: `${model.version}-x${k.toFixed(3)}${opts.oneDay ? 'd' : ''}${shrink === 1 ? '' : `-s${shrink.toFixed(2)}`}`,
    spec: model.spec,
    horizons: model.horizons,
    async predictBatch(inputs: readonly Features[]) {
      if (predictQuantiles) return outputsFromQuantiles(inputs, model.horizons, predictQuantiles(inputs));
      return (await model.predictBatch(inputs)).map(scale);
    },
    ...(predictQuantiles && { predictQuantiles }),
    // The median is the model's times `shrink`, so is everything that adds up to it.
    ...(model.attribute && {
      async attribute(inputs: readonly Features[]): Promise<Attribution[]> {
        return (await model.attribute!(inputs)).map((a) => ({
          ...a,
          predictedReturn: shrink * a.predictedReturn,
          baselineReturn: shrink * a.baselineReturn,
          contributions: a.contributions.map((c) => shrink * c),
          ...(a.width && { width: scaledWidth(a.width, kAt(a.horizon)) }),
        }));
      },
    }),
    // The interval is the model's times k (at each horizon), so is everything that adds up to its width.
    ...(model.attributeWidth && {
      async attributeWidth(inputs: readonly Features[]): Promise<WidthAttribution[]> {
        return (await model.attributeWidth!(inputs)).map((w) => scaledWidth(w, kAt(w.horizon)));
      },
    }),
  };
}

/** A width attribution of an interval scaled k× around its median: every part of it k×. */
export function scaledWidth(w: WidthAttribution, k: number): WidthAttribution {
  return {
    ...w,
    predictedWidth: k * w.predictedWidth,
    baselineWidth: k * w.baselineWidth,
    contributions: w.contributions.map((c) => k * c),
  };
}

const DAY_MS = 86_400_000;

/**
 * The session of an h-day window (1 = the first after the input day) whose return an announcement
 * on `announcement` moves, as the router counts it: one on the input day (after its close) or up to
 * and including session 1 (before its open, or over a weekend or holiday) is session 1; one after
 * session j − 1 up to and including session j, session j. Null past `maxSessions`.
 */
export function announcementSession(inputTs: number, announcement: number, maxSessions: number): number | null {
  const day = Math.floor(inputTs / DAY_MS) * DAY_MS;
  if (announcement < day || announcement > addTradingDays(day, maxSessions)) return null;
  for (let j = 1; j <= maxSessions; j++) if (announcement <= addTradingDays(day, j)) return j;
  return null;
}

/**
 * `model` with its interval widened, horizon by horizon, where the forecast's window holds an
 * earnings announcement (`calendar.nextEarnings`), wherever in the window it falls: the rule of
 * `withIntervalScale`'s `oneDay` (k is the announcement session's multiple of a normal session's σ,
 * fitted at horizon 1), applied by position. An announcement at session j of the symbol's next
 * sessions widens every horizon h ≥ j by √((h − 1 + k²) / h) (the h-day variance (h − 1)σ² + k²σ²
 * does not depend on where in the window the one announcement session is) and leaves h < j
 * unchanged. The median is not moved: the shrink is the announcement day's (the earnings branch,
 * j = 1). For the normal branch: its inputs have no announcement at session 1 (the router sends
 * those to the earnings branch), but an h5 or h21 window can hold one at sessions 2…h, and before
 * this such forecasts were not widened at all. Version: the model's + `-ew<k>`.
 */
export function withEarningsInWindow(model: Model, k: number, calendar: Pick<EarningsCalendar, 'nextEarnings'>): Model {
  const horizons = model.horizons;
  const H = horizons.length;
  const maxH = Math.max(...horizons);
  const widen = horizons.map((h) => Math.sqrt((h - 1 + k * k) / h));
  /** The factor at each horizon for one input, into `out` (1: no announcement in that window). */
  const factors = (f: Pick<Features, 'symbol' | 'ts'>, out: Float64Array): void => {
    out.fill(1);
    const next = calendar.nextEarnings(f.symbol, f.ts);
    const j = next === null ? null : announcementSession(f.ts, next.date, maxH);
    if (j === null) return;
    for (let h = 0; h < H; h++) if (horizons[h]! >= j) out[h] = widen[h]!;
  };
  const predictQuantiles =
    model.predictQuantiles &&
    ((inputs: readonly Features[]): Float64Array => {
      const given = model.predictQuantiles!(inputs);
      const q = given instanceof Float64Array ? given : Float64Array.from(given);
      const f = new Float64Array(H);
      for (let i = 0, o = 0; i < inputs.length; i++) {
        factors(inputs[i]!, f);
        for (let h = 0; h < H; h++, o += QUANTILE_STRIDE) {
          if (f[h] === 1) continue;
          const a = adjust(q[o]!, q[o + 1]!, q[o + 2]!, f[h]!, 1);
          q[o] = a[0];
          q[o + 2] = a[2];
        }
      }
      return q;
    });
  return {
    ...model,
    version: `${model.version}-ew${k.toFixed(3)}`,
    async predictBatch(inputs: readonly Features[]) {
      if (predictQuantiles) return outputsFromQuantiles(inputs, horizons, predictQuantiles(inputs));
      const f = new Float64Array(H);
      return (await model.predictBatch(inputs)).map((o) => {
        factors(o, f);
        const factor = f[horizons.indexOf(o.horizon)] ?? 1;
        if (factor === 1) return o;
        const [lowerReturn, , upperReturn] = adjust(o.lowerReturn, o.predictedReturn, o.upperReturn, factor, 1);
        return { ...o, lowerReturn, upperReturn };
      });
    },
    ...(predictQuantiles && { predictQuantiles }),
    // The median is the model's; the interval's width (and what adds up to it) is times the factor.
    ...(model.attribute && {
      async attribute(inputs: readonly Features[]): Promise<Attribution[]> {
        const f = new Float64Array(H);
        return (await model.attribute!(inputs)).map((a) => {
          if (!a.width) return a;
          factors(a, f);
          const factor = f[horizons.indexOf(a.horizon)] ?? 1;
          return factor === 1 ? a : { ...a, width: scaledWidth(a.width, factor) };
        });
      },
    }),
    ...(model.attributeWidth && {
      async attributeWidth(inputs: readonly Features[]): Promise<WidthAttribution[]> {
        const f = new Float64Array(H);
        return (await model.attributeWidth!(inputs)).map((w) => {
          factors(w, f);
          const factor = f[horizons.indexOf(w.horizon)] ?? 1;
          return factor === 1 ? w : scaledWidth(w, factor);
        });
      },
    }),
  };
}
