// Baselines are part of the product: every model must beat persistence in walk-forward evaluation
// to ship, and they run the pipeline when no trained model is configured. `tickcast evaluate`
// also scores every model against constantDrift (a training window's median return), the
// baseline a model that only bets on the market's drift cannot beat.
import type { Features } from '../schemas/index.js';
import { FEATURE_SPEC, featureIndex } from './features.js';
import type { Model, ModelOutput } from './model.js';

export const DEFAULT_HORIZONS: readonly number[] = [1, 5, 21];
/** Daily σ of log returns used while vol20 is still warming up (about 32% a year: a typical stock). */
export const DEFAULT_DAILY_SIGMA = 0.02;
/** 0.9 quantile of the standard normal: ±Z_90 σ is the 80% interval the Prediction schema carries. */
export const Z_90 = 1.2815515655446004;

export interface BaselineOptions {
  /** Trading days ahead, positive integers; default [1, 5, 21]. */
  horizons?: readonly number[];
  /** σ used while vol20 is NaN (warming up) or 0 (a flat window); default DEFAULT_DAILY_SIGMA. */
  defaultSigma?: number;
}

const VOL20 = featureIndex('vol20');
const RET20 = featureIndex('ret20');

/** A model whose median is `point(features, h)` and whose 80% interval is ±Z_90·σ·√h around it (random walk). */
function baseline(name: string, opts: BaselineOptions, point: (f: Features, h: number) => number): Model {
  const horizons = [...(opts.horizons ?? DEFAULT_HORIZONS)];
  if (horizons.length === 0 || !horizons.every((h) => Number.isInteger(h) && h >= 1)) {
    throw new RangeError(`${name}: horizons must be integers >= 1, got ${JSON.stringify(horizons)}`);
  }
  const fallback = opts.defaultSigma ?? DEFAULT_DAILY_SIGMA;
  if (!(Number.isFinite(fallback) && fallback > 0)) throw new RangeError(`${name}: defaultSigma must be > 0`);
  return {
    name,
    version: '1',
    spec: FEATURE_SPEC.id,
    horizons,
    predictBatch(inputs: readonly Features[]): ModelOutput[] {
      const out: ModelOutput[] = [];
      for (const f of inputs) {
        const vol = f.values[VOL20] ?? Number.NaN;
        // A zero-width interval would claim certainty; fall back to the default instead.
        const sigma = Number.isFinite(vol) && vol > 0 ? vol : fallback;
        for (const h of horizons) {
          const mid = point(f, h);
          const half = Z_90 * sigma * Math.sqrt(h);
          out.push({
            symbol: f.symbol,
            ts: f.ts,
            horizon: h,
            predictedReturn: mid,
            lowerReturn: mid - half,
            upperReturn: mid + half,
          });
        }
      }
      return out;
    },
  };
}

/** Tomorrow's close = today's: predicted log return 0 at every horizon. */
export function persistenceModel(opts: BaselineOptions = {}): Model {
  return baseline('persistence', opts, () => 0);
}

/** The last 20 bars' mean daily log return carried forward: h × ret20 / 20 (0 while ret20 warms up). */
export function driftModel(opts: BaselineOptions = {}): Model {
  return baseline('drift', opts, (f, h) => {
    const r = f.values[RET20] ?? Number.NaN;
    return Number.isFinite(r) ? (h * r) / 20 : 0;
  });
}

/**
 * A fixed bet on the market's drift: the median h-day log return of a training window
 * (`medianLogReturns`), the same for every symbol and day. It matches the model's direction on
 * most days of a rising market, so a model must beat it, not only persistence, to show skill.
 */
export function constantDriftModel(
  medians: ReadonlyMap<number, number>,
  opts: Omit<BaselineOptions, 'horizons'> = {},
): Model {
  const horizons = [...medians.keys()].sort((a, b) => a - b);
  for (const [h, m] of medians) {
    if (!Number.isFinite(m))
      throw new RangeError(`constantDrift: the median ${h}-day return is ${m}; train on a window with known returns`);
  }
  return baseline('constantDrift', { ...opts, horizons }, (_f, h) => medians.get(h)!);
}

/**
 * Per horizon, the median of the known h-day log returns (`targets`, in `horizons` order) of
 * `examples`: constantDrift's forecasts. Horizons without a known return are left out.
 */
export function medianLogReturns<E extends { readonly targets: readonly number[] }>(
  examples: Iterable<E>,
  horizons: readonly number[],
  include: (example: E, horizon: number) => boolean = () => true,
): Map<number, number> {
  const values = horizons.map(() => [] as number[]);
  for (const e of examples) {
    for (let i = 0; i < horizons.length; i++) {
      const t = e.targets[i]!;
      if (Number.isFinite(t) && include(e, horizons[i]!)) values[i]!.push(t);
    }
  }
  const medians = new Map<number, number>();
  horizons.forEach((h, i) => {
    const sorted = Float64Array.from(values[i]!).sort();
    const n = sorted.length;
    if (n > 0) medians.set(h, n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2);
  });
  return medians;
}
