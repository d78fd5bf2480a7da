// The offline dataset: for every symbol and trading day, the feature vector (the very fold the
// streaming operator runs), the realised log returns over each horizon, and whether the
// next-day return spans an earnings announcement.
import type { Bar, Features } from '../schemas/index.js';
import { computeFeatureSeries, FEATURE_SPEC, type FeatureCalendar } from './features.js';

export interface Example {
  symbol: string;
  /** The bar's trading day (00:00 UTC): the inputs' event time. */
  ts: number;
  close: number;
  features: Float32Array;
  /** log(close[t+h] / close[t]) per horizon, NaN where the data ends first. */
  targets: number[];
  /** The next-day return spans an earnings announcement (the router's earnings branch). */
  earnings: boolean;
}

export interface Dataset {
  horizons: number[];
  /** Sorted trading days present in the data. */
  days: number[];
  /** Grouped by day (cross-sections, for rank IC), symbols in name order within a day. */
  examples: Example[];
}

export interface DatasetOptions {
  horizons: readonly number[];
  calendar: FeatureCalendar;
  /**
   * Keep only the examples in [from, to) (epoch ms); `days` still lists every day of the data and
   * the features are still folded over every bar. For scoring one window (`tickcast evaluate`):
   * the examples, 180 numbers each, are most of a dataset's memory.
   */
  window?: { from: number; to: number };
}

export function buildDataset(bars: ReadonlyMap<string, readonly Bar[]>, opts: DatasetOptions): Dataset {
  const examples: Example[] = [];
  const days = new Set<number>();
  const from = opts.window?.from ?? Number.NEGATIVE_INFINITY;
  const to = opts.window?.to ?? Number.POSITIVE_INFINITY;
  const inWindow = (ts: number) => ts >= from && ts < to;
  for (const [symbol, series] of bars) {
    const features = computeFeatureSeries(series, opts.calendar, (bar) => inWindow(bar.ts));
    for (let i = 0; i < series.length; i++) {
      const bar = series[i]!;
      days.add(bar.ts);
      if (!inWindow(bar.ts)) continue;
      examples.push({
        symbol,
        ts: bar.ts,
        close: bar.close,
        features: features[i]!,
        targets: targetsAt(series, i, opts.horizons),
        earnings: opts.calendar.isEarningsWindow(symbol, bar.ts),
      });
    }
  }
  examples.sort((a, b) => a.ts - b.ts || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  return { horizons: [...opts.horizons], days: [...days].sort((a, b) => a - b), examples };
}

/**
 * log(close[i + h] / close[i]) per horizon, NaN where the series ends first. Horizons count this
 * symbol's bars (trading days), as the prediction's target does.
 */
export function targetsAt(series: readonly Bar[], i: number, horizons: readonly number[]): number[] {
  const close = series[i]!.close;
  return horizons.map((h) => (i + h < series.length ? Math.log(series[i + h]!.close / close) : Number.NaN));
}

/**
 * Every bar's targets as its example would carry them, without features and one at a time: for
 * statistics over days a dataset built with a `window` left out (constantDrift's training median).
 */
export function* targetRows(
  bars: ReadonlyMap<string, readonly Bar[]>,
  horizons: readonly number[],
): Generator<Pick<Example, 'symbol' | 'ts' | 'targets'>> {
  for (const [symbol, series] of bars) {
    for (let i = 0; i < series.length; i++)
      yield { symbol, ts: series[i]!.ts, targets: targetsAt(series, i, horizons) };
  }
}

/** An example as the Features record a model takes (what the streaming operator would emit). */
export function featuresOf(e: Example): Features {
  return { symbol: e.symbol, ts: e.ts, close: e.close, spec: FEATURE_SPEC.id, values: e.features, history: 0 };
}
