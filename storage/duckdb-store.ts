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
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBTimestampMillisecondsValue,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  TIMESTAMP_MS,
  timestampMillisValue,
  VARCHAR,
} from '@duckdb/node-api';
import { scoreOf } from '../models/scores.js';
import type { Bar, Prediction, Score } from '../schemas/index.js';
import { assertBucketMs, bucketInterval } from './buckets.js';
import { appendChunks, DuckDbHandle, num, Params, str, toChunks } from './duckdb-database.js';
import {
  checkRow,
  fromColumns,
  keyValues,
  type RecordColumn,
  type RecordLayout,
  type Row,
  recordLayout,
  rowKey,
  toJsonText,
} from './record-columns.js';
import type {
  BarQuery,
  OhlcQuery,
  PredictionQuery,
  RecordKey,
  RecordQuery,
  RecordTable,
  ScoreDay,
  ScoreDayQuery,
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
  /** NULL allowed (e.g. the realised close of a score whose session had no bar). */
  nullable?: boolean;
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

// Scores keep their prediction's fields and the realised close; error, realised return and
// inside are derived again on read (models/scores.ts), so they cannot disagree with it.
const SCORES: Table<Score> = {
  name: 'scores',
  key: ['symbol', 'ts', 'horizon'],
  rowKey: (x) => `${x.symbol}\u0000${x.ts}\u0000${x.horizon}`,
  columns: [
    { name: 'id', type: VARCHAR, value: (x) => x.id },
    { name: 'symbol', type: VARCHAR, value: (x) => x.symbol },
    { name: 'ts', type: BIGINT, value: (x) => epochMs('ts', x.ts) },
    { name: 'horizon', type: INTEGER, value: (x) => x.horizon },
    { name: 'target_ts', type: BIGINT, value: (x) => epochMs('targetTs', x.targetTs) },
    { name: 'last_close', type: DOUBLE, value: (x) => x.lastClose },
    { name: 'predicted_close', type: DOUBLE, value: (x) => x.predictedClose },
    { name: 'lower', type: DOUBLE, value: (x) => x.lower },
    { name: 'upper', type: DOUBLE, value: (x) => x.upper },
    { name: 'model', type: VARCHAR, value: (x) => x.model },
    { name: 'model_version', type: VARCHAR, value: (x) => x.modelVersion },
    { name: 'regime', type: VARCHAR, value: (x) => x.regime },
    { name: 'realised_close', type: DOUBLE, value: (x) => x.realisedClose, nullable: true },
  ],
};

const BAR_COLUMNS = columnList(BARS);
const SCORE_COLUMNS = columnList(SCORES);
const PREDICTION_COLUMNS = columnList(PREDICTIONS);

class DuckDbStore implements TimeSeriesStore {
  readonly kind = 'duckdb';
  /** Topic record tables this store has created or found, by table name. */
  private readonly recordTables = new Map<string, Promise<Table<Row>>>();

  private constructor(
    private readonly db: DuckDbHandle,
    /** Number of the next upsert; numbers only grow, across reopens too. */
    private nextBatch: bigint,
  ) {}

  static async open(opts: DuckDbStoreOptions): Promise<DuckDbStore> {
    const { db, ready } = await DuckDbHandle.open({
      path: opts.path,
      name: 'DuckDB store',
      alreadyOpen: (file) => `${file} is already open in this process; share that store`,
      async setup(writer) {
        await writer.run(createTable(BARS));
        await writer.run(createTable(PREDICTIONS));
        await writer.run(createTable(SCORES));
        const last = await writer.runAndReadAll(
          `SELECT greatest((SELECT max(batch) FROM bars), (SELECT max(batch) FROM predictions),
                           (SELECT max(batch) FROM scores), 0)`,
        );
        return BigInt(num(last.getRows()[0]?.[0])) + 1n;
      },
    });
    return new DuckDbStore(db, ready);
  }

  upsertBars(bars: readonly Bar[]): Promise<void> {
    return this.upsert(BARS, bars);
  }

  upsertPredictions(predictions: readonly Prediction[]): Promise<void> {
    return this.upsert(PREDICTIONS, predictions);
  }

  upsertScores(scores: readonly Score[]): Promise<void> {
    return this.upsert(SCORES, scores);
  }

  async scores(symbol: string, query: PredictionQuery = {}): Promise<Score[]> {
    const p = new Params();
    const where = [`symbol = ${p.add(symbol, VARCHAR)}`, ...rangeConditions(query, p)];
    if (query.horizon !== undefined) where.push(`horizon = ${p.add(integer('horizon', query.horizon), INTEGER)}`);
    const rows = await this.read(newestKept(SCORE_COLUMNS, 'scores', where, ['ts', 'horizon'], query.limit, p), p);
    return rows.map(toScore);
  }

  async scoreDays(query: ScoreDayQuery = {}): Promise<ScoreDay[]> {
    const p = new Params();
    const where = ['realised_close IS NOT NULL', ...rangeConditions(query, p, 'target_ts')];
    if (query.horizon !== undefined) where.push(`horizon = ${p.add(integer('horizon', query.horizon), INTEGER)}`);
    const rows = await this.read(
      `SELECT target_ts, horizon, regime, model, model_version, count(*),
              avg(abs(realised_close - predicted_close) / last_close) * 100,
              avg(abs(realised_close - last_close) / last_close) * 100,
              avg(CASE WHEN realised_close BETWEEN lower AND upper THEN 1.0 ELSE 0.0 END)
       FROM scores WHERE ${where.join(' AND ')}
       GROUP BY ALL ORDER BY target_ts, horizon, regime, model, model_version`,
      p,
    );
    return rows.map((r) => ({
      ts: num(r[0]),
      horizon: num(r[1]),
      regime: str(r[2]),
      model: str(r[3]),
      modelVersion: str(r[4]),
      n: num(r[5]),
      mae: num(r[6]),
      maePersistence: num(r[7]),
      coverage: num(r[8]),
    }));
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

  async upsertRecords<T>(table: RecordTable<T>, records: readonly T[]): Promise<void> {
    const t = await this.recordTable(table as RecordTable<unknown>);
    return this.upsert(t, records as readonly Row[]);
  }

  async records<T>(table: RecordTable<T>, key: RecordKey, query: RecordQuery = {}): Promise<T[]> {
    const layout = recordLayout(table as RecordTable<unknown>, RESERVED);
    const p = new Params();
    const where = keyValues(layout, key).map(
      ({ column, value }) => `"${column.name}" = ${p.add(value, duckType(column))}`,
    );
    where.push(...rangeConditions(query, p, `epoch_ms("${layout.time}")`));
    const exists = await this.read(
      'SELECT count(*) FROM duckdb_tables() WHERE table_name = $1',
      paramsOf(layout.table),
    );
    if (num(exists[0]?.[0]) === 0) return [];
    const columns = layout.columns.map((c) => `"${c.name}"`).join(', ');
    const rows = await this.read(newestKept(columns, layout.table, where, [`"${layout.time}"`], query.limit, p), p);
    return rows.map((r) => fromColumns<T>(layout, r.map(fromDuck)));
  }

  /** The topic's table, created on first use; later batches number above any stored in it. */
  private recordTable(t: RecordTable<unknown>): Promise<Table<Row>> {
    const layout = recordLayout(t, RESERVED);
    let ready = this.recordTables.get(layout.table);
    if (!ready) {
      const table = tableOf(layout);
      ready = (async () => {
        let last = 0;
        await this.db.write(async (writer) => {
          await writer.run(createTable(table));
          last = num(
            (await writer.runAndReadAll(`SELECT coalesce(max(batch), 0) FROM ${table.name}`)).getRows()[0]?.[0],
          );
        });
        if (BigInt(last) >= this.nextBatch) this.nextBatch = BigInt(last) + 1n;
        return table;
      })();
      this.recordTables.set(layout.table, ready);
      ready.catch(() => this.recordTables.delete(layout.table));
    }
    return ready;
  }

  async symbols(): Promise<string[]> {
    const rows = await this.read('SELECT DISTINCT symbol FROM bars ORDER BY symbol');
    return rows.map((r) => str(r[0]));
  }

  async counts(): Promise<StoreCounts> {
    const rows = await this.read(
      `SELECT (SELECT count(*) FROM bars), (SELECT count(*) FROM predictions), (SELECT count(*) FROM scores),
              (SELECT count(DISTINCT symbol) FROM bars)`,
    );
    const row = rows[0] ?? [];
    return { bars: num(row[0]), predictions: num(row[1]), scores: num(row[2]), symbols: num(row[3]) };
  }

  ping(): Promise<boolean> {
    return this.db.ping();
  }

  close(): Promise<void> {
    return this.db.close();
  }

  // async, so that a bad value rejects the returned promise instead of throwing at the caller;
  // everything up to writes.run() still runs synchronously, which keeps batches in call order.
  private async upsert<T>(table: Table<T>, records: readonly T[]): Promise<void> {
    if (this.db.closed) throw this.db.closedError();
    const rows = lastWins(records, table.rowKey);
    if (rows.length === 0) return;
    // Numbered now, in call order, which is also the order the queue commits in.
    const batch = this.nextBatch++;
    const chunks = toChunks([...table.columns.map((c) => c.type), BIGINT], rows, (slice) => [
      ...table.columns.map((c) => slice.map(c.value)),
      slice.map(() => batch),
    ]);
    const key = table.key.join(', ');
    const matches = table.key.map((k) => `t.${k} = n.${k}`).join(' AND ');
    return this.db.write(async (writer) => {
      await appendChunks(writer, table.name, chunks);
      // Batches mostly carry the newest times, and DuckDB pushes the new rows' ts range into
      // the scan of older rows, so this reads only the last row groups.
      await writer.run(
        `DELETE FROM ${table.name} t USING (SELECT ${key} FROM ${table.name} WHERE batch = $1) n
         WHERE t.batch < $1 AND ${matches}`,
        [batch],
        [BIGINT],
      );
    });
  }

  private read(sql: string, params?: Params): Promise<DuckDBValue[][]> {
    return this.db.read(sql, params);
  }
}

/** Column names the store keeps for itself in every table. */
const RESERVED = ['batch'];

/** A topic's table as the upsert writes it: a column per field, keyed by the key fields and the time. */
function tableOf(layout: RecordLayout): Table<Row> {
  return {
    name: layout.table,
    key: [...layout.key, layout.time].map((k) => `"${k}"`),
    // Every row passes here before anything is written: a bad value fails the whole batch.
    rowKey: (row) => {
      checkRow(layout, row);
      return rowKey(layout, row);
    },
    columns: layout.columns.map((c) => ({
      name: `"${c.name}"`,
      type: duckType(c),
      nullable: c.nullable,
      value: (row: Row) => toDuck(c, row[c.name]),
    })),
  };
}

function duckType(c: RecordColumn): DuckDBType {
  switch (c.kind) {
    case 'int':
      return INTEGER;
    case 'long':
      return BIGINT;
    case 'float':
    case 'double':
      return DOUBLE;
    case 'boolean':
      return BOOLEAN;
    case 'timestamp':
      return TIMESTAMP_MS;
    default:
      return VARCHAR;
  }
}

function toDuck(c: RecordColumn, v: unknown): DuckDBValue {
  if (v === null || v === undefined) return null;
  switch (c.kind) {
    case 'long':
      return BigInt(v as number);
    case 'timestamp':
      return timestampMillisValue(BigInt(v as number));
    case 'json':
      return toJsonText(v);
    default:
      return v as DuckDBValue;
  }
}

function fromDuck(v: DuckDBValue): unknown {
  if (v === null) return null;
  if (v instanceof DuckDBTimestampMillisecondsValue) return Number(v.millis);
  return typeof v === 'bigint' ? Number(v) : v;
}

function paramsOf(value: string): Params {
  const p = new Params();
  p.add(value, VARCHAR);
  return p;
}

function columnList<T>(table: Table<T>): string {
  return table.columns.map((c) => c.name).join(', ');
}

function createTable<T>(table: Table<T>): string {
  const columns = table.columns.map((c) => `${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}`).join(',\n  ');
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

function rangeConditions(range: TimeRange, p: Params, column = 'ts'): string[] {
  const conditions: string[] = [];
  // Times are whole ms, so t >= from ⇔ t >= ceil(from) and t < to ⇔ t < ceil(to).
  if (range.from !== undefined) conditions.push(`${column} >= ${p.add(bound('from', range.from), BIGINT)}`);
  if (range.to !== undefined) conditions.push(`${column} < ${p.add(bound('to', range.to), BIGINT)}`);
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

function toScore(r: readonly DuckDBValue[]): Score {
  const realised = r[12] === null ? null : num(r[12]);
  return scoreOf(
    {
      id: str(r[0]),
      symbol: str(r[1]),
      ts: num(r[2]),
      horizon: num(r[3]),
      targetTs: num(r[4]),
      lastClose: num(r[5]),
      predictedClose: num(r[6]),
      lower: num(r[7]),
      upper: num(r[8]),
      model: str(r[9]),
      modelVersion: str(r[10]),
      regime: str(r[11]),
    },
    realised,
  );
}
