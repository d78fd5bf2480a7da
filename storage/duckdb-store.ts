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
  type DuckDBConnection,
  DuckDBTimestampMillisecondsValue,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  TIMESTAMP_MS,
  timestampMillisValue,
  VARCHAR,
} from '@duckdb/node-api';
import { type ScoredPrediction, scoreOf } from '../models/scores.js';
import type { Bar, Prediction, Score } from '../schemas/index.js';
import { assertBucketMs, bucketInterval } from './buckets.js';
import { appendChunks, DuckDbHandle, num, Params, str, toChunks } from './duckdb-database.js';
import {
  BAR_TABLE,
  checkRow,
  columnsToAdd,
  fromColumns,
  keyValues,
  PREDICTION_TABLE,
  type RecordColumn,
  type RecordLayout,
  type Row,
  recordLayout,
  rowKey,
  SCORE_TABLE,
  storeTableLayout,
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
  /** Quoted. */
  name: string;
  type: DuckDBType;
  value: (row: T) => DuckDBValue;
  /** NULL allowed (e.g. the realised close of a score whose session had no bar). */
  nullable?: boolean;
}

interface Table<T> {
  name: string;
  layout: RecordLayout;
  /** Columns that identify a row; a write replaces the stored row with the same key. */
  key: readonly string[];
  rowKey: (row: T) => string;
  /** In layout order, which is the order reads return them in (`select`). */
  columns: readonly Column<T>[];
  select: string;
}

// Every table also has `batch BIGINT`, after the record's columns: the number of the upsert
// that wrote the row, which tells a batch's rows from the older rows they replace. A column added
// later (a new nullable field) comes after it: the appender fills a table's columns by position,
// so each store reads the order from the table itself (`prepare`).

/** Column names the store keeps for itself in every table. */
const RESERVED = ['batch'];

// The store's own tables, derived from bar.avsc, prediction.avsc and score.avsc. Their times are
// BIGINT epoch ms: exactly what the API speaks, with no time-zone conversion on the way.
const BARS = tableOf<Bar>(storeTableLayout(BAR_TABLE, RESERVED), 'epoch-ms');
const PREDICTIONS = tableOf<Prediction>(storeTableLayout(PREDICTION_TABLE, RESERVED), 'epoch-ms');
const SCORES = tableOf<Score>(storeTableLayout(SCORE_TABLE, RESERVED), 'epoch-ms');

/** A table's columns in the order they are stored, `batch` among them. */
type AppendOrder<T> = ReadonlyArray<Column<T> | 'batch'>;

class DuckDbStore implements TimeSeriesStore {
  readonly kind = 'duckdb';
  /** Topic record tables this store has created or found, by table name. */
  private readonly recordTables = new Map<string, Promise<Table<Row>>>();

  private constructor(
    private readonly db: DuckDbHandle,
    /** Number of the next upsert; numbers only grow, across reopens too. */
    private nextBatch: bigint,
    /** Each prepared table's columns in stored order, by table name. */
    private readonly orders: Map<string, AppendOrder<never>>,
  ) {}

  static async open(opts: DuckDbStoreOptions): Promise<DuckDbStore> {
    const { db, ready } = await DuckDbHandle.open({
      path: opts.path,
      name: 'DuckDB store',
      alreadyOpen: (file) => `${file} is already open in this process; share that store`,
      async setup(writer) {
        const orders = new Map<string, AppendOrder<never>>();
        for (const table of [BARS, PREDICTIONS, SCORES] as Table<never>[]) {
          orders.set(table.name, await prepare(writer, table));
        }
        const last = await writer.runAndReadAll(
          `SELECT greatest((SELECT max(batch) FROM bars), (SELECT max(batch) FROM predictions),
                           (SELECT max(batch) FROM scores), 0)`,
        );
        return { nextBatch: BigInt(num(last.getRows()[0]?.[0])) + 1n, orders };
      },
    });
    return new DuckDbStore(db, ready.nextBatch, ready.orders);
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
    const rows = await this.read(newestKept(SCORES.select, 'scores', where, ['ts', 'horizon'], query.limit, p), p);
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
    const rows = await this.read(latestPerGroup(BARS.select, 'bars', ['symbol'], where), p);
    return rows.map(toBar);
  }

  async bars(symbol: string, query: BarQuery = {}): Promise<Bar[]> {
    const p = new Params();
    const where = [`symbol = ${p.add(symbol, VARCHAR)}`, `"interval" = ${p.add(query.interval ?? '1d', VARCHAR)}`];
    where.push(...rangeConditions(query, p));
    const rows = await this.read(newestKept(BARS.select, 'bars', where, ['ts'], query.limit, p), p);
    return rows.map(toBar);
  }

  async ohlc(symbol: string, query: OhlcQuery): Promise<Bar[]> {
    assertBucketMs(query.bucketMs);
    const p = new Params();
    const where = [`symbol = ${p.add(symbol, VARCHAR)}`, `"interval" = ${p.add(query.interval ?? '1d', VARCHAR)}`];
    where.push(...rangeConditions(query, p));
    const size = p.add(BigInt(query.bucketMs), BIGINT);
    // A candle's fields, in the order BARS reads them. The bucket's source is its last bar's, like its close.
    const candle: { readonly [F in keyof Bar]-?: string } = {
      symbol: 'symbol',
      interval: p.add(bucketInterval(query.bucketMs), VARCHAR),
      ts: 'bucket',
      open: 'arg_min(open, ts)',
      high: 'max(high)',
      low: 'min(low)',
      close: 'arg_max(close, ts)',
      volume: 'sum(volume)',
      quotes: 'sum(quotes)::BIGINT',
      source: 'arg_max(source, ts)',
    };
    // ((ts % size) + size) % size floors toward -infinity, like bucketStart(), for times before 1970 too.
    const rows = await this.read(
      `SELECT ${BARS.layout.columns.map((c) => candle[c.name as keyof Bar]).join(', ')}
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
    const rows = await this.read(latestPerGroup(PREDICTIONS.select, 'predictions', ['symbol', 'horizon'], where), p);
    return rows.map(toPrediction);
  }

  async predictions(symbol: string, query: PredictionQuery = {}): Promise<Prediction[]> {
    const p = new Params();
    const where = [`symbol = ${p.add(symbol, VARCHAR)}`, ...rangeConditions(query, p)];
    if (query.horizon !== undefined) where.push(`horizon = ${p.add(integer('horizon', query.horizon), INTEGER)}`);
    const sql = newestKept(PREDICTIONS.select, 'predictions', where, ['ts', 'horizon'], query.limit, p);
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
      ({ column, value }) => `"${column.column}" = ${p.add(value, duckType(column, 'timestamp'))}`,
    );
    where.push(...rangeConditions(query, p, `epoch_ms("${layout.time}")`));
    const exists = await this.read(
      'SELECT count(*) FROM duckdb_tables() WHERE table_name = $1',
      paramsOf(layout.table),
    );
    if (num(exists[0]?.[0]) === 0) return [];
    const columns = layout.columns.map((c) => `"${c.column}"`).join(', ');
    const rows = await this.read(newestKept(columns, layout.table, where, [`"${layout.time}"`], query.limit, p), p);
    return rows.map((r) => fromColumns<T>(layout, r.map(fromDuck)));
  }

  /** The topic's table, created on first use; later batches number above any stored in it. */
  private recordTable(t: RecordTable<unknown>): Promise<Table<Row>> {
    const layout = recordLayout(t, RESERVED);
    let ready = this.recordTables.get(layout.table);
    if (!ready) {
      const table = tableOf<Row>(layout, 'timestamp');
      ready = (async () => {
        let last = 0;
        await this.db.write(async (writer) => {
          this.orders.set(table.name, await prepare(writer, table as Table<never>));
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
    const order = this.orders.get(table.name) as AppendOrder<T> | undefined;
    if (!order) throw new Error(`DuckDB store: table ${table.name} was not prepared`);
    const batch = this.nextBatch++;
    const chunks = toChunks(
      order.map((c) => (c === 'batch' ? BIGINT : c.type)),
      rows,
      (slice) => order.map((c) => (c === 'batch' ? slice.map(() => batch) : slice.map(c.value))),
    );
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

/**
 * A table as the upsert writes it: a column per stored field, keyed by the key fields and the time.
 * `times`: how timestamp fields are stored, TIMESTAMP_MS (topic tables) or BIGINT epoch ms (the store's own).
 */
function tableOf<T>(layout: RecordLayout, times: Times): Table<T> {
  const columns = layout.columns.map((c) => ({
    name: `"${c.column}"`,
    type: duckType(c, times),
    nullable: c.nullable,
    value: (row: T) => toDuck(c, (row as Row)[c.name], times),
  }));
  return {
    name: layout.table,
    layout,
    key: [...layout.key, layout.time].map((k) => columns[layout.columns.findIndex((c) => c.name === k)]!.name),
    // Every row passes here before anything is written: a bad value fails the whole batch.
    rowKey: (row) => {
      checkRow(layout, row as Row);
      return rowKey(layout, row as Row);
    },
    columns,
    select: columns.map((c) => c.name).join(', '),
  };
}

type Times = 'timestamp' | 'epoch-ms';

/**
 * Creates the table if it is not there, adds a column for a nullable field it lacks (a field added
 * to the schema since), checks the types of the rest, and returns its columns in stored order.
 */
async function prepare<T>(writer: DuckDBConnection, table: Table<T>): Promise<AppendOrder<T>> {
  await writer.run(createTable(table));
  const stored = async () =>
    (
      await writer.runAndReadAll(
        `SELECT column_name, data_type FROM duckdb_columns()
         WHERE database_name = current_database() AND schema_name = current_schema() AND table_name = $1
         ORDER BY column_index`,
        [table.name],
        [VARCHAR],
      )
    )
      .getRows()
      .map((r) => ({ name: str(r[0]).toLowerCase(), type: str(r[1]) }));
  const unquoted = (c: Column<T>) => c.name.slice(1, -1).toLowerCase();
  let columns = await stored();
  const wanted = table.columns.map((c) => ({
    name: unquoted(c),
    nullable: c.nullable === true,
    type: c.type.toString(),
    c,
  }));
  const add = columnsToAdd(table.name, wanted, new Map(columns.map((s) => [s.name, s.type])));
  for (const { c } of add) await writer.run(`ALTER TABLE ${table.name} ADD COLUMN ${c.name} ${c.type}`);
  if (add.length > 0) columns = await stored();
  return columns.map((s) => {
    if (s.name === 'batch') return 'batch';
    const c = table.columns.find((x) => unquoted(x) === s.name);
    if (!c) throw new Error(`table ${table.name} has a column ${s.name} that its record schema has no field for`);
    return c;
  });
}

function duckType(c: RecordColumn, times: Times): DuckDBType {
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
      return times === 'epoch-ms' ? BIGINT : TIMESTAMP_MS;
    default:
      return VARCHAR;
  }
}

function toDuck(c: RecordColumn, v: unknown, times: Times): DuckDBValue {
  if (v === null || v === undefined) return null;
  switch (c.kind) {
    case 'long':
      return BigInt(v as number);
    case 'timestamp':
      return times === 'epoch-ms' ? BigInt(v as number) : timestampMillisValue(BigInt(v as number));
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

function toBar(r: readonly DuckDBValue[]): Bar {
  return fromColumns<Bar>(BARS.layout, r.map(fromDuck));
}

function toPrediction(r: readonly DuckDBValue[]): Prediction {
  return fromColumns<Prediction>(PREDICTIONS.layout, r.map(fromDuck));
}

function toScore(r: readonly DuckDBValue[]): Score {
  const stored = fromColumns<ScoredPrediction & { realisedClose: number | null }>(SCORES.layout, r.map(fromDuck));
  return scoreOf(stored, stored.realisedClose);
}
