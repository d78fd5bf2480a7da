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
  features: number[];
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

export function buildDataset(
  bars: ReadonlyMap<string, readonly Bar[]>,
  opts: { horizons: readonly number[]; calendar: FeatureCalendar },
): Dataset {
  const examples: Example[] = [];
  for (const [symbol, series] of bars) {
    const features = computeFeatureSeries(series, opts.calendar);
    for (let i = 0; i < series.length; i++) {
      const bar = series[i]!;
      examples.push({
        symbol,
        ts: bar.ts,
        close: bar.close,
        features: features[i]!,
        // Horizons count this symbol's bars (trading days), as the prediction's target does.
        targets: opts.horizons.map((h) =>
          i + h < series.length ? Math.log(series[i + h]!.close / bar.close) : Number.NaN,
        ),
        earnings: opts.calendar.isEarningsWindow(symbol, bar.ts),
      });
    }
  }
  examples.sort((a, b) => a.ts - b.ts || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  const days = [...new Set(examples.map((e) => e.ts))];
  return { horizons: [...opts.horizons], days, examples };
}

/** An example as the Features record a model takes (what the streaming operator would emit). */
export function featuresOf(e: Example): Features {
  return { symbol: e.symbol, ts: e.ts, close: e.close, spec: FEATURE_SPEC.id, values: e.features, history: 0 };
}
