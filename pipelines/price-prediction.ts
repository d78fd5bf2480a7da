// The price-prediction DAG (DESIGN.md): market data → quotes → bars → features → router →
// one predict node per regime → predictions → time-series store and live fan-out. With
// `explain`, the explanation path beside it: news → embed → vector store, and per regime
// features → facts (fact sheets with the model's attributions) → embed → vector store.

import type { Registry } from 'prom-client';
import {
  definePipeline,
  type LiveHub,
  type NodeDeclaration,
  type Pipeline,
  type SourceOperator,
} from '../engine/index.js';
import { factSheetDocument, newsDocument } from '../explain/documents.js';
import { type CalibrationTable, withCalibration } from '../models/calibration-table.js';
import type { LiveEarningsCalendar } from '../models/earnings-calendar.js';
import type { Embedder } from '../models/embedder.js';
import type { FeatureCalendar } from '../models/features.js';
import type { Model } from '../models/model.js';
import { calibrationTable } from '../operators/sinks/calibration-table.js';
import { earningsCalendar } from '../operators/sinks/earnings-calendar.js';
import { live } from '../operators/sinks/live.js';
import { scoreMetrics } from '../operators/sinks/score-metrics.js';
import { timeseries } from '../operators/sinks/timeseries.js';
import { vectors } from '../operators/sinks/vectors.js';
import { type BarInterval, bars } from '../operators/transforms/bars.js';
import { calibrate } from '../operators/transforms/calibrate.js';
import { embed } from '../operators/transforms/embed.js';
import { facts } from '../operators/transforms/facts.js';
import { features } from '../operators/transforms/features.js';
import { predict } from '../operators/transforms/predict.js';
import { router } from '../operators/transforms/router.js';
import { score } from '../operators/transforms/score.js';
import { schemas } from '../schemas/index.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { VectorStore } from '../storage/vector-store.js';
import type { PipelineModule } from './modules.js';

export interface PricePredictionOptions {
  /** Where quotes come from: replay, simulator or yahoo. */
  source: SourceOperator<{ quotes: typeof schemas.Quote }>;
  /** Routes earnings days and feeds the earnings-context features. */
  calendar: FeatureCalendar;
  /** Their outputs' `rankReturn` (the shipped net's own median, from the same pass) is the predictions' rankScore. */
  models: { normal: Model; earnings: Model };
  store: TimeSeriesStore;
  hub: LiveHub;
  /** Bar interval of the bars the models read: 1d (the shipped models are trained on daily bars). */
  interval?: BarInterval;
  /**
   * Minute bars from live quotes beside them (topic `bars.1m`, stored with interval 1m, for
   * charts): only quotes of these sources (e.g. ['yahoo']: not the daily history rows). The models
   * still read `bars`. Default: none.
   */
  minuteBars?: { sources: readonly string[] };
  /** How long a late quote is still accepted after its window ends, ms. */
  graceMs?: number;
  /** Partitions per topic (the unit of parallelism on Kafka), default 4. */
  partitions?: number;
  /** The explanation path: fact sheets and news, embedded into the vector store. */
  explain?: ExplainPath;
  /**
   * Upcoming earnings days from a live source (topic `earnings`, compacted), applied to `calendar`
   * by a sink that reads in every process: on Kafka each worker's router sees them.
   */
  liveEarnings?: LiveEarnings;
  /**
   * Live scoring: each prediction joined with the close of its target session (topic `scores`),
   * and online interval calibration from them (topic `calibration`, applied to `table`, which
   * the models of both regimes read). Without it, no scores and the models' own intervals.
   */
  scoring?: Scoring;
}

export interface Scoring {
  /** The calibration the models read, kept current by the calibrate node; none: no calibration. */
  table?: CalibrationTable;
  /** Step size of the calibration at horizon 1 (models/conformal.ts). */
  eta?: number;
  /** Prometheus registry for the live skill series (score-metrics); none: no series. */
  registry?: Registry;
}

export interface LiveEarnings {
  source: SourceOperator<{ earnings: typeof schemas.Earnings }>;
  /** The same calendar as `calendar` (the one router, features and facts read). */
  calendar: LiveEarningsCalendar;
}

export interface ExplainPath {
  embedder: Embedder;
  vectors: VectorStore;
  /** Where headlines come from (the bundled sets, or Yahoo); none = fact sheets only. */
  news?: SourceOperator<{ news: typeof schemas.News }>;
}

export const pricePredictionModule: PipelineModule = {
  name: 'price-prediction',
  file: 'pipelines/price-prediction.ts',
  description:
    'quotes → bars → features → earnings routing → forecasts with calibrated intervals, scores, explanations',
  build: (parts) => pricePrediction(parts),
};

/** The node that applies the calibration to the models' table (a replay waits on its watermark). */
export const CALIBRATION_TABLE = 'calibration-table';

const BAR_MS: Record<BarInterval, number> = { '1d': 86_400_000, '1m': 60_000 };

export function pricePrediction(options: PricePredictionOptions): Pipeline {
  const partitions = options.partitions ?? 4;
  // The calibrated models are the ones every node uses: predict and facts issue the same interval.
  const table = options.scoring?.table;
  const opts: PricePredictionOptions = table
    ? {
        ...options,
        models: {
          normal: withCalibration(options.models.normal, table, 'normal'),
          earnings: withCalibration(options.models.earnings, table, 'earnings'),
        },
      }
    : options;
  const scoring = opts.scoring
    ? scoringNodes(opts.scoring, opts.store, partitions, BAR_MS[opts.interval ?? '1d'])
    : { topics: {}, nodes: [] };
  const explain = opts.explain ? explainNodes(opts, opts.explain, partitions) : { topics: {}, nodes: [] };
  return definePipeline({
    name: 'price-prediction',
    topics: {
      quotes: { schema: schemas.Quote, partitions, description: 'price observations from market data' },
      bars: { schema: schemas.Bar, partitions, description: 'OHLCV per symbol and window' },
      features: { schema: schemas.Features, partitions, description: 'feature vectors per bar' },
      'features.normal': { schema: schemas.Features, partitions, description: 'features on normal days' },
      'features.earnings': { schema: schemas.Features, partitions, description: 'features around earnings' },
      predictions: { schema: schemas.Prediction, partitions, description: 'forecasts with intervals' },
      ...explain.topics,
      ...scoring.topics,
      ...(opts.liveEarnings
        ? {
            earnings: {
              schema: schemas.Earnings,
              partitions,
              compacted: true,
              description: 'upcoming earnings days per symbol, newest per symbol',
            },
          }
        : {}),
      ...(opts.minuteBars
        ? {
            'bars.1m': {
              schema: schemas.Bar,
              partitions,
              description: 'OHLCV per symbol and minute, from live quotes',
            },
          }
        : {}),
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
      ...explain.nodes,
      ...scoring.nodes,
      ...(opts.liveEarnings
        ? [
            { id: 'earnings', operator: opts.liveEarnings.source, writes: { earnings: 'earnings' } },
            {
              id: 'earnings-calendar',
              operator: earningsCalendar({ calendar: opts.liveEarnings.calendar }),
              reads: 'earnings',
              everyProcess: true,
            },
          ]
        : []),
      ...(opts.minuteBars
        ? [
            {
              id: 'bars-1m',
              operator: bars({ interval: '1m', sources: opts.minuteBars.sources }),
              reads: 'quotes',
              writes: { bars: 'bars.1m' },
            },
            { id: 'store-bars-1m', operator: timeseries({ store: opts.store, table: 'bars' }), reads: 'bars.1m' },
          ]
        : []),
    ],
  });
}

function scoringNodes(scoring: Scoring, store: TimeSeriesStore, partitions: number, intervalMs: number) {
  const { table } = scoring;
  const topics = {
    scores: { schema: schemas.Score, partitions, description: 'predictions beside the close of their target session' },
    ...(table
      ? {
          calibration: {
            schema: schemas.Calibration,
            // One stream of steps: calibrate's state spans every scores partition (stateKey).
            partitions: 1,
            compacted: true,
            description: 'online interval calibration per horizon and regime, newest per group',
          },
        }
      : {}),
  };
  const nodes: NodeDeclaration[] = [
    {
      id: 'score',
      operator: score({ intervalMs, registry: scoring.registry }),
      reads: 'predictions',
      writes: { scores: 'scores' },
    },
    { id: 'store-scores', operator: timeseries({ store, table: 'scores' }), reads: 'scores' },
  ];
  if (table) {
    nodes.push(
      {
        id: 'calibrate',
        operator: calibrate({ eta: scoring.eta, intervalMs, resume: (group) => table.get(group) }),
        reads: 'scores',
        writes: { calibration: 'calibration' },
      },
      { id: CALIBRATION_TABLE, operator: calibrationTable({ table }), reads: 'calibration', everyProcess: true },
    );
  }
  if (scoring.registry) {
    nodes.push({
      id: 'score-metrics',
      operator: scoreMetrics({ registry: scoring.registry }),
      reads: 'scores',
      everyProcess: true,
    });
  }
  return { topics, nodes };
}

function explainNodes(opts: PricePredictionOptions, path: ExplainPath, partitions: number) {
  const intervalMs = BAR_MS[opts.interval ?? '1d'];
  const topics = {
    facts: {
      schema: schemas.FactSheet,
      partitions,
      description: 'fact sheets: what each prediction may be explained by',
    },
    documents: { schema: schemas.Document, partitions, description: 'news and fact sheets with their embeddings' },
    ...(path.news ? { news: { schema: schemas.News, partitions, description: 'headlines per symbol' } } : {}),
  };
  const nodes: NodeDeclaration[] = [
    {
      id: 'facts-normal',
      operator: facts({ model: opts.models.normal, regime: 'normal', calendar: opts.calendar, intervalMs }),
      reads: 'features.normal',
      writes: { facts: 'facts' },
    },
    {
      id: 'facts-earnings',
      operator: facts({ model: opts.models.earnings, regime: 'earnings', calendar: opts.calendar, intervalMs }),
      reads: 'features.earnings',
      writes: { facts: 'facts' },
    },
    {
      id: 'embed-facts',
      operator: embed({ embedder: path.embedder, input: schemas.FactSheet, document: factSheetDocument }),
      reads: 'facts',
      writes: { documents: 'documents' },
    },
    { id: 'store-documents', operator: vectors({ store: path.vectors }), reads: 'documents' },
  ];
  if (path.news) {
    nodes.push(
      { id: 'news', operator: path.news, writes: { news: 'news' } },
      {
        id: 'embed-news',
        operator: embed({
          embedder: path.embedder,
          input: schemas.News,
          document: newsDocument,
          // A headline's id fixes its text: one already stored is not embedded again.
          stored: async (ids) => new Set((await path.vectors.get(ids)).map((d) => d.id)),
        }),
        reads: 'news',
        writes: { documents: 'documents' },
      },
    );
  }
  return { topics, nodes };
}
