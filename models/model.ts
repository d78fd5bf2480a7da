// The contract between the `predict` operator and any forecasting model.
import type { Features } from '../schemas/index.js';

/** One forecast, in log returns relative to the input's close. */
export interface ModelOutput {
  symbol: string;
  /** Event time of the input features. */
  ts: number;
  horizon: number;
  /** Median log return over `horizon` trading days. */
  predictedReturn: number;
  /** 0.1 quantile of the log return. */
  lowerReturn: number;
  /** 0.9 quantile of the log return. */
  upperReturn: number;
  /**
   * The net's own median log return, the ranking signal (a prediction's `rankScore`): the net behind the model
   * gives it in the same pass as the forecast, and wrappers that replace or move the median (a constant point, the
   * earnings shrink) leave it as the net gave it. Absent or NaN: no net (a baseline), or no finite median.
   */
  rankReturn?: number;
}

/**
 * What moved the model for one (input, horizon): each feature's contribution to the median log
 * return, relative to a baseline input where every feature sits at its training mean. The
 * contributions add up to predictedReturn − baselineReturn (exactly for a linear model; within
 * the method's stated error for integrated gradients).
 */
export interface Attribution {
  symbol: string;
  /** Event time of the input features. */
  ts: number;
  horizon: number;
  /** Median log return the model forecasts for this input (as its predictBatch gives). */
  predictedReturn: number;
  /** Median log return at the baseline input. */
  baselineReturn: number;
  /** Per feature, in feature-spec order: contribution to the median log return. */
  contributions: Float32Array;
  /** How they were computed: `exact` (linear), `integrated-gradients:<steps>`, ... ; `constant` (see `point`). */
  method: string;
  /**
   * With method `constant`: the median is a constant baseline's (`withConstantPoints`), which no input moves, and
   * this names it: constantDrift (the training window's median h-day move) or persistence (0).
   */
  point?: 'constantDrift' | 'persistence';
  /** With method `constant`: what the model does move, its interval's width (when the model can say). */
  width?: WidthAttribution;
  /**
   * The scale the online calibration applies to the model's interval at this horizon when the
   * attribution was made (models/calibration-table.ts); absent: none applied.
   */
  intervalScale?: number;
}

/**
 * What moved the interval for one (input, horizon): each feature's contribution to its width, upper − lower log
 * return, relative to the same baseline input as `Attribution`. They add up to predictedWidth − baselineWidth.
 */
export interface WidthAttribution {
  symbol: string;
  ts: number;
  horizon: number;
  /** upper − lower log return the model forecasts for this input. */
  predictedWidth: number;
  /** The same at the baseline input. */
  baselineWidth: number;
  /** Per feature, in feature-spec order: contribution to the width. */
  contributions: Float32Array;
  /** As `Attribution.method`: `exact` (linear), `integrated-gradients:<steps>`. */
  method: string;
}

export interface Model {
  readonly name: string;
  readonly version: string;
  /** Feature spec id (name@hash) this model was built for; the predict operator checks it. */
  readonly spec: string;
  /** Horizons in trading days that every input gets a forecast for. */
  readonly horizons: readonly number[];
  /** Forecasts for a batch of inputs: one output per (input, horizon). */
  predictBatch(inputs: readonly Features[]): ModelOutput[] | Promise<ModelOutput[]>;
  /**
   * Optional: the same forecasts as one typed array, inputs × horizons × (lower, median, upper, rank) log returns
   * (`QUANTILE_STRIDE` values each) in predictBatch's order, rank being `ModelOutput.rankReturn` (NaN: none), so a
   * wrapper that adjusts them (withIntervalScale) builds its outputs once, not twice. A new array each call: the
   * caller may change it.
   */
  predictQuantiles?(inputs: readonly Features[]): Float32Array | Float64Array;
  /**
   * Optional: what moved the median, one Attribution per (input, horizon) in predictBatch's
   * order. Models that read no features (persistence, drift) leave it out.
   */
  attribute?(inputs: readonly Features[]): Attribution[] | Promise<Attribution[]>;
  /** Optional: what moved the interval's width, one WidthAttribution per (input, horizon) in predictBatch's order. */
  attributeWidth?(inputs: readonly Features[]): WidthAttribution[] | Promise<WidthAttribution[]>;
}

/** Values per (input, horizon) in `predictQuantiles`' array: lower, median, upper, rank. */
export const QUANTILE_STRIDE = 4;

/**
 * One output per (input, horizon), from quantiles laid out as `predictQuantiles` gives them: inputs × horizons ×
 * (lower, median, upper, rank).
 */
export function outputsFromQuantiles(
  inputs: readonly Features[],
  horizons: readonly number[],
  q: Float32Array | Float64Array,
): ModelOutput[] {
  // Sized once: pushing 15,000 outputs grew (and copied) the array a dozen times.
  const out = new Array<ModelOutput>(inputs.length * horizons.length);
  for (let i = 0, o = 0, k = 0; i < inputs.length; i++) {
    const { symbol, ts } = inputs[i]!;
    for (let h = 0; h < horizons.length; h++, o += QUANTILE_STRIDE, k++) {
      out[k] = {
        symbol,
        ts,
        horizon: horizons[h]!,
        lowerReturn: q[o]!,
        predictedReturn: q[o + 1]!,
        upperReturn: q[o + 2]!,
        rankReturn: q[o + 3]!,
      };
    }
  }
  return out;
}
