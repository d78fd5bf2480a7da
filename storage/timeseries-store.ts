// The time-series store behind bars, predictions and their scores. Two implementations share this
// interface and one contract test suite: embedded DuckDB (default) and QuestDB (scale-out).
import type { Bar, Prediction, RecordSchema, Score } from '../schemas/index.js';

export interface TimeRange {
  /** Inclusive lower bound, epoch ms. */
  from?: number;
  /** Exclusive upper bound, epoch ms. */
  to?: number;
}

export interface BarQuery extends TimeRange {
  /** Bar interval, default '1d'. */
  interval?: string;
  /** Most rows to return (newest kept when cut), default unlimited. */
  limit?: number;
}

export interface OhlcQuery extends TimeRange {
  /** Interval of the stored bars to aggregate, default '1d'. */
  interval?: string;
  /** Bucket length in ms (e.g. 7 days for weekly candles). */
  bucketMs: number;
}

export interface PredictionQuery extends TimeRange {
  horizon?: number;
  limit?: number;
}

/** Live skill per target session (scored forecasts only). */
export interface ScoreDay {
  /** The target session (epoch ms). */
  ts: number;
  horizon: number;
  regime: string;
  model: string;
  modelVersion: string;
  /** Forecasts scored for that session. */
  n: number;
  /** Mean |realised − predicted close| in % of the last close; persistence's the same with the last close. */
  mae: number;
  maePersistence: number;
  /** Share inside the 80% interval. */
  coverage: number;
}

export interface ScoreDayQuery extends TimeRange {
  horizon?: number;
}

export interface StoreCounts {
  bars: number;
  predictions: number;
  scores: number;
  symbols: number;
}

/**
 * The records of one topic, stored in a table derived from its Avro schema (a column per field).
 * The same shape as the engine's TableTopic: the topic declares its key and time fields.
 */
export interface RecordTable<T> {
  /** The topic's name; the table's is derived from it (`recordTableName`). */
  readonly name: string;
  readonly schema: RecordSchema<T>;
  readonly table: { readonly key: readonly string[]; readonly time: string };
}

/** A key's value per key field, e.g. `{ symbol: 'AAPL' }`. */
export type RecordKey = { readonly [field: string]: string | number | boolean };

export interface RecordQuery extends TimeRange {
  /** Most rows to return (newest kept when cut), default unlimited. */
  limit?: number;
}

export interface TimeSeriesStore {
  /** Which implementation, for logs and /healthz. */
  readonly kind: string;
  /** Idempotent: a row with the same (symbol, interval, ts) replaces the stored one. */
  upsertBars(bars: readonly Bar[]): Promise<void>;
  /** Idempotent: a row with the same (symbol, ts, horizon) replaces the stored one. */
  upsertPredictions(predictions: readonly Prediction[]): Promise<void>;
  /** Idempotent: a row with the same (symbol, ts, horizon) replaces the stored one. */
  upsertScores(scores: readonly Score[]): Promise<void>;
  /** Latest bar per symbol (all symbols when `symbols` is omitted), ordered by symbol. */
  latestBars(symbols?: readonly string[], interval?: string): Promise<Bar[]>;
  /** Bars of one symbol in [from, to), oldest first. */
  bars(symbol: string, query?: BarQuery): Promise<Bar[]>;
  /** Bars aggregated into buckets of `bucketMs` (open first, close last, high max, low min, volume sum). */
  ohlc(symbol: string, query: OhlcQuery): Promise<Bar[]>;
  /** Latest prediction per (symbol, horizon), ordered by symbol then horizon. */
  latestPredictions(symbols?: readonly string[], horizon?: number): Promise<Prediction[]>;
  /** Predictions of one symbol with input time in [from, to), oldest first. */
  predictions(symbol: string, query?: PredictionQuery): Promise<Prediction[]>;
  /** Scores of one symbol's predictions with input time in [from, to), oldest first. */
  scores(symbol: string, query?: PredictionQuery): Promise<Score[]>;
  /** Live skill per target session in [from, to) (of targetTs), oldest first. */
  scoreDays(query?: ScoreDayQuery): Promise<ScoreDay[]>;
  /**
   * Idempotent: a record with the same key fields and time replaces the stored one (the last of a
   * batch wins). Creates the topic's table on first use.
   */
  upsertRecords<T>(table: RecordTable<T>, records: readonly T[]): Promise<void>;
  /** Records with these key values and time in [from, to), oldest first; none when nothing was stored yet. */
  records<T>(table: RecordTable<T>, key: RecordKey, query?: RecordQuery): Promise<T[]>;
  /** Symbols that have bars, sorted. */
  symbols(): Promise<string[]>;
  counts(): Promise<StoreCounts>;
  /** Ready to read and write (for /healthz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
