// The price-prediction DAG (DESIGN.md): market data → quotes → bars → features → router →
// one predict node per regime → predictions → time-series store and live fan-out.
import { definePipeline, type LiveHub, type Pipeline, type SourceOperator } from '../engine/index.js';
import type { FeatureCalendar } from '../models/features.js';
import type { Model } from '../models/model.js';
import { live } from '../operators/sinks/live.js';
import { timeseries } from '../operators/sinks/timeseries.js';
import { type BarInterval, bars } from '../operators/transforms/bars.js';
import { features } from '../operators/transforms/features.js';
import { predict } from '../operators/transforms/predict.js';
import { router } from '../operators/transforms/router.js';
import { schemas } from '../schemas/index.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';

export interface PricePredictionOptions {
  /** Where quotes come from: replay, simulator or yahoo. */
  source: SourceOperator<{ quotes: typeof schemas.Quote }>;
  /** Routes earnings days and feeds the earnings-context features. */
  calendar: FeatureCalendar;
  models: { normal: Model; earnings: Model };
  store: TimeSeriesStore;
  hub: LiveHub;
  /** Bar interval: 1d for daily data, 1m for live quotes. */
  interval?: BarInterval;
  /** How long a late quote is still accepted after its window ends, ms. */
  graceMs?: number;
  /** Partitions per topic (the unit of parallelism on Kafka), default 4. */
  partitions?: number;
}

export function pricePrediction(opts: PricePredictionOptions): Pipeline {
  const partitions = opts.partitions ?? 4;
  return definePipeline({
    name: 'price-prediction',
    topics: {
      quotes: { schema: schemas.Quote, partitions, description: 'price observations from market data' },
      bars: { schema: schemas.Bar, partitions, description: 'OHLCV per symbol and window' },
      features: { schema: schemas.Features, partitions, description: 'feature vectors per bar' },
      'features.normal': { schema: schemas.Features, partitions, description: 'features on normal days' },
      'features.earnings': { schema: schemas.Features, partitions, description: 'features around earnings' },
      predictions: { schema: schemas.Prediction, partitions, description: 'forecasts with intervals' },
    },
    nodes: [
      { id: 'market-data', operator: opts.source, writes: { quotes: 'quotes' } },
      {
        id: 'bars',
        operator: bars({ interval: opts.interval ?? '1d', graceMs: opts.graceMs }),
        reads: 'quotes',
        writes: { bars: 'bars' },
      },
      {
        id: 'features',
        operator: features({ calendar: opts.calendar }),
        reads: 'bars',
        writes: { features: 'features' },
      },
      {
        id: 'router',
        operator: router({ calendar: opts.calendar }),
        reads: 'features',
        writes: { normal: 'features.normal', earnings: 'features.earnings' },
      },
      {
        id: 'predict-normal',
        operator: predict({ model: opts.models.normal, regime: 'normal' }),
        reads: 'features.normal',
        writes: { predictions: 'predictions' },
      },
      {
        id: 'predict-earnings',
        operator: predict({ model: opts.models.earnings, regime: 'earnings' }),
        reads: 'features.earnings',
        writes: { predictions: 'predictions' },
      },
      { id: 'store-bars', operator: timeseries({ store: opts.store, table: 'bars' }), reads: 'bars' },
      {
        id: 'store-predictions',
        operator: timeseries({ store: opts.store, table: 'predictions' }),
        reads: 'predictions',
      },
      {
        id: 'live-predictions',
        operator: live({ hub: opts.hub, schema: schemas.Prediction, channel: 'predictions' }),
        reads: 'predictions',
      },
      { id: 'live-bars', operator: live({ hub: opts.hub, schema: schemas.Bar, channel: 'bars' }), reads: 'bars' },
    ],
  });
}
