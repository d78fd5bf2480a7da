// The embedded time-series store: one DuckDB database (a file under ./data/, or ':memory:').
//
// An upsert is one transaction: DuckDB's appender adds the batch straight to the table, tagged
// with a new batch number, then one DELETE drops the older rows that share a key with it.
// Replays are idempotent, and the last write of a key wins.
//
// Why no PRIMARY KEY: DuckDB enforces keys with an ART index, and upserting through it
// (INSERT OR REPLACE / ON CONFLICT) measured ~100 ms per 5,000 bars on 600k stored rows and
// ~300 ms per 15,000 predictions on 1.8 M, growing with the table. Keys stay unique by
// construction instead: batches are deduplicated in JS, only this store's single writer
// connection writes, and a file is opened by at most one store per process (DuckDB's file
// lock keeps other processes out). The contract tests check that replays never add rows.
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  BIGINT,
  DOUBLE,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import type { Bar, Prediction } from '../schemas/index.js';
import { assertBucketMs, bucketInterval } from './buckets.js';
import { SerialQueue } from './serial-queue.js';
import type {
  BarQuery,
  OhlcQuery,
  PredictionQuery,
  StoreCounts,
  TimeRange,
  TimeSeriesStore,
} from './timeseries-store.js';

export interface DuckDbStoreOptions {
  /** Database file (parent directories are created), or ':memory:'. */
  path: string;
}

export async function openDuckDbStore(opts: DuckDbStoreOptions): Promise<TimeSeriesStore> {
  return DuckDbStore.open(opts);
}

/** A stored column and how a record fills it. */
interface Column<T> {
  name: string;
  type: DuckDBType;
  value: (row: T) => DuckDBValue;
}

interface Table<T> {
  name: string;
  /** Columns that identify a row; a write replaces the stored row with the same key. */
  key: readonly string[];
  rowKey: (row: T) => string;
  /** In the order reads return them (toBar / toPrediction index by position). */
  columns: readonly Column<T>[];
}

// Every table also has `batch BIGINT`, after the record's columns: the number of the upsert
// that wrote the row, which tells a batch's rows from the older rows they replace.

// Times are BIGINT epoch ms: exactly what the API speaks, with no time-zone conversion on the way.
const BARS: Table<Bar> = {
  name: 'bars',
  key: ['symbol', '"interval"', 'ts'],
  rowKey: (b) => `${b.symbol}\u0000${b.interval}\u0000${b.ts}`,
  columns: [
    { name: 'symbol', type: VARCHAR, value: (b) => b.symbol },
    { name: '"interval"', type: VARCHAR, value: (b) => b.interval },
    { name: 'ts', type: BIGINT, value: (b) => epochMs('ts', b.ts) },
    { name: 'open', type: DOUBLE, value: (b) => b.open },
    { name: 'high', type: DOUBLE, value: (b) => b.high },
    { name: 'low', type: DOUBLE, value: (b) => b.low },
    { name: 'close', type: DOUBLE, value: (b) => b.close },
    { name: 'volume', type: DOUBLE, value: (b) => b.volume },
    { name: 'quotes', type: INTEGER, value: (b) => b.quotes },
    { name: 'source', type: VARCHAR, value: (b) => b.source },
  ],
};

const PREDICTIONS: Table<Prediction> = {
  name: 'predictions',
  key: ['symbol', 'ts', 'horizon'],
  rowKey: (p) => `${p.symbol}\u0000${p.ts}\u0000${p.horizon}`,
  columns: [
    { name: 'id', type: VARCHAR, value: (p) => p.id },
    { name: 'symbol', type: VARCHAR, value: (p) => p.symbol },
    { name: 'ts', type: BIGINT, value: (p) => epochMs('ts', p.ts) },
    { name: 'horizon', type: INTEGER, value: (p) => p.horizon },
    { name: 'target_ts', type: BIGINT, value: (p) => epochMs('targetTs', p.targetTs) },
    { name: 'last_close', type: DOUBLE, value: (p) => p.lastClose },
    { name: 'predicted_close', type: DOUBLE, value: (p) => p.predictedClose },
    { name: 'predicted_return', type: DOUBLE, value: (p) => p.predictedReturn },
    { name: 'lower', type: DOUBLE, value: (p) => p.lower },
    { name: 'upper', type: DOUBLE, value: (p) => p.upper },
    { name: 'model', type: VARCHAR, value: (p) => p.model },
    { name: 'model_version', type: VARCHAR, value: (p) => p.modelVersion },
    { name: 'regime', type: VARCHAR, value: (p) => p.regime },
    { name: 'created_at', type: BIGINT, value: (p) => epochMs('createdAt', p.createdAt) },
  ],
};

const BAR_COLUMNS = columnList(BARS);
const PREDICTION_COLUMNS = columnList(PREDICTIONS);

// Rows per appended data chunk: DuckDB's vector size, the most one chunk can hold.
const CHUNK_ROWS = 2048;

/** Database files open in this process, by absolute path. */
const openFiles = new Set<string>();

/** Positional query parameters with explicit types, so a bound ts compares as BIGINT (and can use zone maps). */
class Params {
  readonly values: DuckDBValue[] = [];
  readonly types: DuckDBType[] = [];

  add(value: DuckDBValue, type: DuckDBType): string {
    this.values.push(value);
    this.types.push(type);
    return `$${this.values.length}`;
  }

  addStrings(values: readonly string[]): string {
    return this.add(listValue([...values]), LIST(VARCHAR));
  }
}

class DuckDbStore implements TimeSeriesStore {
  readonly kind = 'duckdb';
  // A DuckDB connection runs one statement at a time (concurrent use can crash the native
  // binding), so each connection has its own queue; reads do not wait behind writes.
  private readonly writes = new SerialQueue();
  private readonly reads = new SerialQueue();
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    private readonly file: string | undefined,
    /** Number of the next upsert; numbers only grow, across reopens too. */
    private nextBatch: bigint,
  ) {}

  static async open(opts: DuckDbStoreOptions): Promise<DuckDbStore> {
    const file = opts.path === '' || opts.path.startsWith(':memory:') ? undefined : resolve(opts.path);
    if (file !== undefined) {
      // Two time-series stores on one file would be two writers that could duplicate keys; other
      // processes are kept out by DuckDB's own file lock.
      if (openFiles.has(file)) throw new Error(`${file} is already open in this process; share that store`);
      openFiles.add(file);
    }
    try {
      if (file !== undefined) await mkdir(dirname(file), { recursive: true });
      // A file is opened through DuckDB's instance cache, so the vector store on the same file
      // (duckdb-vector-store.ts) shares this instance: DuckDB allows one per file in a process.
      // ':memory:' stays a private database per store.
      const instance =
        file === undefined ? await DuckDBInstance.create(opts.path) : await DuckDBInstance.fromCache(file);
      try {
        const writer = await instance.connect();
        await writer.run(createTable(BARS));
        await writer.run(createTable(PREDICTIONS));
        const last = await writer.runAndReadAll(
          'SELECT greatest((SELECT max(batch) FROM bars), (SELECT max(batch) FROM predictions), 0)',
        );
        const reader = await instance.connect();
        return new DuckDbStore(instance, writer, reader, file, BigInt(num(last.getRows()[0]?.[0])) + 1n);
      } catch (err) {
        instance.closeSync();
        throw err;
      }
    } catch (err) {
      if (file !== undefined) openFiles.delete(file);
      throw err;
    }
  }

  upsertBars(bars: readonly Bar[]): Promise<void> {
    return this.upsert(BARS, bars);
  }

  upsertPredictions(predictions: readonly Prediction[]): Promise<void> {
    return this.upsert(PREDICTIONS, predictions);
  }

  async latestBars(symbols?: readonly string[], interval = '1d'): Promise<Bar[]> {
    if (symbols?.length === 0) return [];
    const p = new Params();
    const where = [`"interval" = ${p.add(interval, VARCHAR)}`];
    if (symbols) where.push(`list_contains(${p.addStrings(symbols)}, symbol)`);
    const rows = await this.read(latestPerGroup(BAR_COLUMNS, 'bars', ['symbol'], where), p);
    return rows.map(toBar);
  }

  async bars(symbol: string, query: BarQuery = {}): Promise<Bar[]> {
    const p = new Params();
    const where = [`symbol = ${p.add(symbol, VARCHAR)}`, `"interval" = ${p.add(query.interval ?? '1d', VARCHAR)}`];
    where.push(...rangeConditions(query, p));
    const rows = await this.read(newestKept(BAR_COLUMNS, 'bars', where, ['ts'], query.limit, p), p);
    return rows.map(toBar);
  }

  async ohlc(symbol: string, query: OhlcQuery): Promise<Bar[]> {
    assertBucketMs(query.bucketMs);
    const p = new Params();
    const where = [`symbol = ${p.add(symbol, VARCHAR)}`, `"interval" = ${p.add(query.interval ?? '1d', VARCHAR)}`];
    where.push(...rangeConditions(query, p));
    const size = p.add(BigInt(query.bucketMs), BIGINT);
    // ((ts % size) + size) % size floors toward -infinity, like bucketStart(), for times before 1970 too.
    // The bucket's source is its last bar's, like its close.
    const rows = await this.read(
      `SELECT symbol, ${p.add(bucketInterval(query.bucketMs), VARCHAR)}, bucket,
              arg_min(open, ts), max(high), min(low), arg_max(close, ts),
              sum(volume), sum(quotes)::BIGINT, arg_max(source, ts)
       FROM (SELECT *, ts - ((ts % ${size}) + ${size}) % ${size} AS bucket FROM bars WHERE ${where.join(' AND ')})
       GROUP BY symbol, bucket
       ORDER BY bucket`,
      p,
    );
    return rows.map(toBar);
  }

  async latestPredictions(symbols?: readonly string[], horizon?: number): Promise<Prediction[]> {
    if (symbols?.length === 0) return [];
    const p = new Params();
    const where: string[] = [];
    if (symbols) where.push(`list_contains(${p.addStrings(symbols)}, symbol)`);
    if (horizon !== undefined) where.push(`horizon = ${p.add(integer('horizon', horizon), INTEGER)}`);
    const rows = await this.read(latestPerGroup(PREDICTION_COLUMNS, 'predictions', ['symbol', 'horizon'], where), p);
    return rows.map(toPrediction);
  }

  async predictions(symbol: string, query: PredictionQuery = {}): Promise<Prediction[]> {
    const p = new Params();
    const where = [`symbol = ${p.add(symbol, VARCHAR)}`, ...rangeConditions(query, p)];
    if (query.horizon !== undefined) where.push(`horizon = ${p.add(integer('horizon', query.horizon), INTEGER)}`);
    const sql = newestKept(PREDICTION_COLUMNS, 'predictions', where, ['ts', 'horizon'], query.limit, p);
    const rows = await this.read(sql, p);
    return rows.map(toPrediction);
  }

  async symbols(): Promise<string[]> {
    const rows = await this.read('SELECT DISTINCT symbol FROM bars ORDER BY symbol');
    return rows.map((r) => str(r[0]));
  }

  async counts(): Promise<StoreCounts> {
    const rows = await this.read(
      `SELECT (SELECT count(*) FROM bars), (SELECT count(*) FROM predictions),
              (SELECT count(DISTINCT symbol) FROM bars)`,
    );
    const row = rows[0] ?? [];
    return { bars: num(row[0]), predictions: num(row[1]), symbols: num(row[2]) };
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      const rows = await this.read('SELECT 1');
      return num(rows[0]?.[0]) === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let queued work finish, so an upsert that was accepted is never cut off.
    await Promise.all([this.writes.drain(), this.reads.drain()]);
    this.writer.closeSync();
    this.reader.closeSync();
    // Closes this store's handle; a file's database stays open while a vector store holds one.
    this.instance.closeSync();
    if (this.file !== undefined) openFiles.delete(this.file);
  }

  // async, so that a bad value rejects the returned promise instead of throwing at the caller;
  // everything up to writes.run() still runs synchronously, which keeps batches in call order.
  private async upsert<T>(table: Table<T>, records: readonly T[]): Promise<void> {
    if (this.closed) throw closedError();
    const rows = lastWins(records, table.rowKey);
    if (rows.length === 0) return;
    // Numbered now, in call order, which is also the order the queue commits in.
    const batch = this.nextBatch++;
    // Everything is converted before the database is touched: a bad value (say a NaN ts) fails
    // the whole batch up front instead of half way through.
    const types = [...table.columns.map((c) => c.type), BIGINT];
    const chunks: DuckDBDataChunk[] = [];
    for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
      const slice = rows.slice(start, start + CHUNK_ROWS);
      const chunk = DuckDBDataChunk.create(types, slice.length);
      chunk.setColumns([...table.columns.map((c) => slice.map(c.value)), slice.map(() => batch)]);
      chunks.push(chunk);
    }
    const key = table.key.join(', ');
    const matches = table.key.map((k) => `t.${k} = n.${k}`).join(' AND ');

    return this.writes.run(async () => {
      await this.writer.run('BEGIN TRANSACTION');
      try {
        // The appender writes in the connection's open transaction, so a failure rolls it back too.
        const appender = await this.writer.createAppender(table.name);
        try {
          for (const chunk of chunks) appender.appendDataChunk(chunk);
        } finally {
          appender.closeSync();
        }
        // Batches mostly carry the newest times, and DuckDB pushes the new rows' ts range into
        // the scan of older rows, so this reads only the last row groups.
        await this.writer.run(
          `DELETE FROM ${table.name} t USING (SELECT ${key} FROM ${table.name} WHERE batch = $1) n
           WHERE t.batch < $1 AND ${matches}`,
          [batch],
          [BIGINT],
        );
        await this.writer.run('COMMIT');
      } catch (err) {
        // The original error is the one worth reporting; a failed rollback adds nothing to it.
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  private read(sql: string, params?: Params): Promise<DuckDBValue[][]> {
    if (this.closed) return Promise.reject(closedError());
    return this.reads.run(async () => {
      const reader = await this.reader.runAndReadAll(sql, params?.values, params?.types);
      return reader.getRows();
    });
  }
}

function columnList<T>(table: Table<T>): string {
  return table.columns.map((c) => c.name).join(', ');
}

function createTable<T>(table: Table<T>): string {
  const columns = table.columns.map((c) => `${c.name} ${c.type} NOT NULL`).join(',\n  ');
  return `CREATE TABLE IF NOT EXISTS ${table.name} (\n  ${columns},\n  batch BIGINT NOT NULL\n)`;
}

/** Drops earlier rows with the same key: the last write of a key wins, as it would across batches. */
function lastWins<T>(rows: readonly T[], key: (row: T) => string): readonly T[] {
  const byKey = new Map<string, T>();
  for (const row of rows) byKey.set(key(row), row);
  return byKey.size === rows.length ? rows : [...byKey.values()];
}

/** The row with the greatest ts in each group, ordered by the group columns. */
function latestPerGroup(columns: string, table: string, group: readonly string[], where: readonly string[]): string {
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const order = group.join(', ');
  return `SELECT ${columns} FROM ${table} ${filter}
          QUALIFY row_number() OVER (PARTITION BY ${order} ORDER BY ts DESC) = 1
          ORDER BY ${order}`;
}

/**
 * Rows oldest first; with a limit, the newest `limit` rows are the ones kept
 * (a chart wants the most recent N points, still in time order).
 */
function newestKept(
  columns: string,
  table: string,
  where: readonly string[],
  order: readonly string[],
  limit: number | undefined,
  p: Params,
): string {
  const base = `SELECT ${columns} FROM ${table} WHERE ${where.join(' AND ')}`;
  if (limit === undefined) return `${base} ORDER BY ${order.join(', ')}`;
  const n = p.add(BigInt(integer('limit', limit)), BIGINT);
  const desc = order.map((c) => `${c} DESC`).join(', ');
  return `SELECT * FROM (${base} ORDER BY ${desc} LIMIT ${n}) ORDER BY ${order.join(', ')}`;
}

function rangeConditions(range: TimeRange, p: Params): string[] {
  const conditions: string[] = [];
  // ts is a whole number of ms, so ts >= from ⇔ ts >= ceil(from) and ts < to ⇔ ts < ceil(to).
  if (range.from !== undefined) conditions.push(`ts >= ${p.add(bound('from', range.from), BIGINT)}`);
  if (range.to !== undefined) conditions.push(`ts < ${p.add(bound('to', range.to), BIGINT)}`);
  return conditions;
}

function bound(name: string, v: number): bigint {
  if (!Number.isFinite(v)) throw new RangeError(`${name} must be a finite epoch-ms time, got ${v}`);
  return BigInt(Math.ceil(v));
}

function integer(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be an integer >= 0, got ${v}`);
  return v;
}

function epochMs(name: string, v: number): bigint {
  if (!Number.isSafeInteger(v)) throw new RangeError(`${name} must be an integer epoch-ms time, got ${v}`);
  return BigInt(v);
}

function closedError(): Error {
  return new Error('the DuckDB store is closed');
}

function str(v: DuckDBValue | undefined): string {
  if (typeof v === 'string') return v;
  throw new TypeError(`expected a string from DuckDB, got ${String(v)}`);
}

function num(v: DuckDBValue | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new TypeError(`expected a number from DuckDB, got ${String(v)}`);
}

function toBar(r: readonly DuckDBValue[]): Bar {
  return {
    symbol: str(r[0]),
    interval: str(r[1]),
    ts: num(r[2]),
    open: num(r[3]),
    high: num(r[4]),
    low: num(r[5]),
    close: num(r[6]),
    volume: num(r[7]),
    quotes: num(r[8]),
    source: str(r[9]),
  };
}

function toPrediction(r: readonly DuckDBValue[]): Prediction {
  return {
    id: str(r[0]),
    symbol: str(r[1]),
    ts: num(r[2]),
    horizon: num(r[3]),
    targetTs: num(r[4]),
    lastClose: num(r[5]),
    predictedClose: num(r[6]),
    predictedReturn: num(r[7]),
    lower: num(r[8]),
    upper: num(r[9]),
    model: str(r[10]),
    modelVersion: str(r[11]),
    regime: str(r[12]),
    createdAt: num(r[13]),
  };
}
