// The scale-out time-series store: a QuestDB server. Writes go over ILP/HTTP
// (@questdb/nodejs-client), reads and DDL over the PostgreSQL wire (pg).
//
// Upserts: tables are WAL tables with DEDUP UPSERT KEYS, so a row whose key is already stored
// replaces it, and a replayed batch adds nothing. Batches are also deduplicated in JS (last
// write wins) so the outcome never depends on how QuestDB orders rows inside one commit.
//
// Read-after-write: QuestDB commits a WAL write at once (durable) but applies it to the table a
// little later, in the background. An upsert resolves once its transaction is committed; a read
// through the same store first waits until the tables it wrote have applied those transactions
// (wal_tables()), so it sees its own writes. Waiting for the apply after every write instead
// kept QuestDB from squashing transactions into one apply: with a 5,000-symbol update written in
// 12 batches, QuestDB spent 1.4 s of CPU per update instead of 0.7 s (48 batches: 3.9 s, 0.9 s).
// A writer may run ahead of the apply by MAX_APPLY_LAG transactions a table, then it waits.
//
// Faults: a write never hangs. The ILP client gives up after request_timeout/retry_timeout, and
// a timer bounds the whole flush + apply on top of that; open() checks both endpoints first.
//
// Times: epoch ms in the API, TIMESTAMP (µs) columns here; the designated timestamp `ts` cannot
// be before 1970 (a QuestDB rule), which no market data needs.
import { Sender } from '@questdb/nodejs-client';
import pg from 'pg';
import { type ScoredPrediction, scoreOf } from '../models/scores.js';
import type { Bar, Prediction, Score } from '../schemas/index.js';
import { assertBucketMs, bucketInterval, bucketStart } from './buckets.js';
import { QuestDbError } from './questdb-error.js';
import { useFastEscape } from './questdb-ilp-escape.js';
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
import { SerialQueue } from './serial-queue.js';
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

export interface QuestDbStoreOptions {
  /** QuestDB's HTTP endpoint, where ILP writes go: http://host:9000. */
  url: string;
  /** QuestDB's PostgreSQL wire endpoint, for reads and DDL: postgres://admin:quest@host:8812/qdb. */
  pg: string;
  /** Prefix of the two table names (`${prefix}bars`, `${prefix}predictions`); default none. */
  tablePrefix?: string;
  /** Longest a write (send + apply) may take before it fails, ms; default 15,000. */
  writeTimeoutMs?: number;
  /** Longest open() waits for either endpoint, ms; default 5,000. */
  connectTimeoutMs?: number;
}

export async function openQuestDbStore(opts: QuestDbStoreOptions): Promise<TimeSeriesStore> {
  return QuestDbStore.open(opts);
}

export { QuestDbError };

type SqlValue = string | number | null;

/** One stored record kind: its DDL, its ILP row writer and how a read row becomes a record. */
interface Table<T> {
  base: string;
  layout: RecordLayout;
  /** Column list of reads, in the order `fromRow` indexes. */
  select: string;
  /** Columns after `CREATE TABLE name (`, and what follows the `)`. */
  columns: string;
  keys: string;
  /** The designated timestamp column. */
  timestamp: string;
  rowKey: (row: T) => string;
  /** Throws RangeError for a value QuestDB would store wrongly (checked before anything is sent). */
  check: (row: T) => void;
  write: (sender: Sender, table: string, row: T) => Promise<void>;
  fromRow: (r: readonly unknown[]) => T;
}

// The store's own tables, derived from bar.avsc, prediction.avsc and score.avsc (storage/record-columns.ts).
const BARS = tableOf<Bar>(storeTableLayout(BAR_TABLE));
const PREDICTIONS = tableOf<Prediction>(storeTableLayout(PREDICTION_TABLE));
// A score's realised close is NULL when its session had no bar; the rest is derived again on read.
const SCORES: Table<Score> = (() => {
  const stored = tableOf<ScoredPrediction & { realisedClose: number | null }>(storeTableLayout(SCORE_TABLE));
  return {
    ...stored,
    fromRow: (r) => {
      const x = stored.fromRow(r);
      return scoreOf(x, x.realisedClose);
    },
  };
})();

/** Positional parameters ($1, $2, ...): every user-supplied value is bound, never spliced. */
class Params {
  readonly values: SqlValue[] = [];

  add(value: SqlValue): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** An epoch-ms range bound, bound as µs to compare with a TIMESTAMP column. */
  time(name: string, ms: number): string {
    if (!Number.isFinite(ms)) throw new RangeError(`${name} must be a finite epoch-ms time, got ${ms}`);
    // ts is whole ms, so ts >= from ⇔ ts >= ceil(from), and the same for < to.
    return `cast(${this.add(String(BigInt(Math.ceil(ms)) * 1000n))} as long)`;
  }

  list(values: readonly string[]): string {
    return values.map((v) => this.add(v)).join(', ');
  }
}

const TABLE_PREFIX = /^[A-Za-z_][A-Za-z0-9_]*$|^$/;

/** How many committed transactions a table's apply may lag behind a writer (see the header). */
const MAX_APPLY_LAG = 16;

/** How long close() waits for QuestDB to apply this store's writes (a shutdown must not hang on it). */
const CLOSE_APPLY_WAIT_MS = 5_000;

class QuestDbStore implements TimeSeriesStore {
  readonly kind = 'questdb';
  private readonly writes = new SerialQueue();
  private closed = false;
  private readonly barsTable: string;
  private readonly predictionsTable: string;
  private readonly scoresTable: string;
  /** Topic record tables created (or found) by this store, by full name. */
  private readonly recordTables = new Map<string, Promise<void>>();
  /** Tables this store wrote that may not have applied the writes yet, with a count of writes. */
  private readonly unapplied = new Map<string, number>();

  private constructor(
    private readonly opts: Required<QuestDbStoreOptions>,
    private readonly pool: pg.Pool,
    private readonly sender: Sender,
  ) {
    this.barsTable = `${opts.tablePrefix}${BARS.base}`;
    this.predictionsTable = `${opts.tablePrefix}${PREDICTIONS.base}`;
    this.scoresTable = `${opts.tablePrefix}${SCORES.base}`;
  }

  static async open(options: QuestDbStoreOptions): Promise<QuestDbStore> {
    // ?? rather than a spread of defaults, so an option passed as undefined still gets its default.
    const opts: Required<QuestDbStoreOptions> = {
      url: options.url,
      pg: options.pg,
      tablePrefix: options.tablePrefix ?? '',
      writeTimeoutMs: options.writeTimeoutMs ?? 15_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    };
    if (!TABLE_PREFIX.test(opts.tablePrefix)) {
      throw new RangeError(`tablePrefix must be letters, digits and _, got ${JSON.stringify(opts.tablePrefix)}`);
    }
    const http = httpAddress(opts.url);
    await ping(opts.url, opts.connectTimeoutMs);

    const pool = new pg.Pool({
      connectionString: opts.pg,
      max: 4,
      connectionTimeoutMillis: opts.connectTimeoutMs,
      // Reads are bounded too: a stalled server fails a query instead of hanging it.
      query_timeout: Math.max(opts.writeTimeoutMs, 30_000),
    });
    // An idle client that loses its server emits 'error' on the pool; without a listener that
    // would crash the process. The next query reconnects or fails with its own error.
    pool.on('error', () => undefined);
    try {
      for (const table of [BARS, PREDICTIONS, SCORES] as const)
        await prepare(pool, table, `${opts.tablePrefix}${table.base}`);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new QuestDbError(`QuestDB at ${redact(opts.pg)}: could not create the tables: ${message(err)}`, {
        cause: err,
      });
    }

    // protocol_version=2 (binary doubles) is set, not negotiated, so creating the sender
    // makes no request. auto_flush=off: each upsert is one flush, i.e. one transaction per table.
    // A third of the write budget for one request and a third for retries leaves time to apply.
    const part = Math.max(1, Math.round(opts.writeTimeoutMs / 3));
    useFastEscape();
    const sender = await Sender.fromConfig(
      `${http.scheme}::addr=${http.host};protocol_version=2;auto_flush=off;` +
        `request_timeout=${part};retry_timeout=${part}`,
      { log: () => undefined },
    );
    return new QuestDbStore(opts, pool, sender);
  }

  upsertBars(bars: readonly Bar[]): Promise<void> {
    return this.upsert(BARS, this.barsTable, bars);
  }

  upsertPredictions(predictions: readonly Prediction[]): Promise<void> {
    return this.upsert(PREDICTIONS, this.predictionsTable, predictions);
  }

  async latestBars(symbols?: readonly string[], interval = '1d'): Promise<Bar[]> {
    if (symbols?.length === 0) return [];
    const p = new Params();
    const where = [`"interval" = ${p.add(interval)}`];
    if (symbols) where.push(`symbol IN (${p.list(symbols)})`);
    // WHERE filters before LATEST ON picks the newest row per symbol.
    const rows = await this.query(
      `SELECT * FROM (SELECT ${BARS.select} FROM "${this.barsTable}" WHERE ${where.join(' AND ')}
       LATEST ON ts PARTITION BY symbol) ORDER BY symbol`,
      p,
    );
    return rows.map(BARS.fromRow);
  }

  async bars(symbol: string, query: BarQuery = {}): Promise<Bar[]> {
    const p = new Params();
    const where = [`symbol = ${p.add(symbol)}`, `"interval" = ${p.add(query.interval ?? '1d')}`];
    where.push(...rangeConditions(query, p));
    const rows = await this.readNewest(BARS, this.barsTable, where, ['ts'], query.limit, p);
    return rows.map(BARS.fromRow);
  }

  async ohlc(symbol: string, query: OhlcQuery): Promise<Bar[]> {
    assertBucketMs(query.bucketMs);
    // Aggregated here with buckets.ts rather than in SQL, so candles match every other store's
    // to the millisecond (SAMPLE BY aligns buckets its own way); one symbol's bars are few.
    const bars = await this.bars(symbol, { interval: query.interval, from: query.from, to: query.to });
    const label = bucketInterval(query.bucketMs);
    const out: Bar[] = [];
    for (const b of bars) {
      const start = bucketStart(b.ts, query.bucketMs);
      const last = out[out.length - 1];
      if (last?.ts !== start) {
        out.push({ ...b, interval: label, ts: start });
        continue;
      }
      last.high = Math.max(last.high, b.high);
      last.low = Math.min(last.low, b.low);
      last.close = b.close;
      last.volume += b.volume;
      last.quotes += b.quotes;
      last.source = b.source;
    }
    return out;
  }

  async latestPredictions(symbols?: readonly string[], horizon?: number): Promise<Prediction[]> {
    if (symbols?.length === 0) return [];
    const p = new Params();
    const where: string[] = [];
    if (symbols) where.push(`symbol IN (${p.list(symbols)})`);
    if (horizon !== undefined) where.push(`horizon = ${p.add(integer('horizon', horizon))}`);
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.query(
      `SELECT * FROM (SELECT ${PREDICTIONS.select} FROM "${this.predictionsTable}" ${filter}
       LATEST ON ts PARTITION BY symbol, horizon) ORDER BY symbol, horizon`,
      p,
    );
    return rows.map(PREDICTIONS.fromRow);
  }

  async predictions(symbol: string, query: PredictionQuery = {}): Promise<Prediction[]> {
    const p = new Params();
    const where = [`symbol = ${p.add(symbol)}`, ...rangeConditions(query, p)];
    if (query.horizon !== undefined) where.push(`horizon = ${p.add(integer('horizon', query.horizon))}`);
    const rows = await this.readNewest(PREDICTIONS, this.predictionsTable, where, ['ts', 'horizon'], query.limit, p);
    return rows.map(PREDICTIONS.fromRow);
  }

  upsertScores(scores: readonly Score[]): Promise<void> {
    return this.upsert(SCORES, this.scoresTable, scores);
  }

  async scores(symbol: string, query: PredictionQuery = {}): Promise<Score[]> {
    const p = new Params();
    const where = [`symbol = ${p.add(symbol)}`, ...rangeConditions(query, p)];
    if (query.horizon !== undefined) where.push(`horizon = ${p.add(integer('horizon', query.horizon))}`);
    const rows = await this.readNewest(SCORES, this.scoresTable, where, ['ts', 'horizon'], query.limit, p);
    return rows.map(SCORES.fromRow);
  }

  async scoreDays(query: ScoreDayQuery = {}): Promise<ScoreDay[]> {
    const p = new Params();
    const where = ['realised_close IS NOT NULL', ...rangeConditions(query, p, 'target_ts')];
    if (query.horizon !== undefined) where.push(`horizon = ${p.add(integer('horizon', query.horizon))}`);
    const rows = await this.query(
      `SELECT target_ts::long, horizon, regime, model, model_version, count(),
              avg(abs(realised_close - predicted_close) / last_close) * 100,
              avg(abs(realised_close - last_close) / last_close) * 100,
              avg(CASE WHEN realised_close >= "lower" AND realised_close <= "upper" THEN 1.0 ELSE 0.0 END)
       FROM "${this.scoresTable}" WHERE ${where.join(' AND ')}
       GROUP BY target_ts, horizon, regime, model, model_version
       ORDER BY target_ts, horizon, regime, model, model_version`,
      p,
    );
    return rows.map((r) => ({
      ts: micros(r[0]),
      horizon: num(r[1]),
      regime: str(r[2]),
      model: str(r[3]),
      modelVersion: str(r[4]),
      n: num(r[5]),
      mae: dbl(r[6]),
      maePersistence: dbl(r[7]),
      coverage: dbl(r[8]),
    }));
  }

  async upsertRecords<T>(table: RecordTable<T>, records: readonly T[]): Promise<void> {
    const layout = recordLayout(table as RecordTable<unknown>);
    const t = tableOf<Row>(layout);
    const name = `${this.opts.tablePrefix}${layout.table}`;
    let created = this.recordTables.get(name);
    if (!created) {
      created = this.createTable(t, name).catch((err: unknown) => {
        this.recordTables.delete(name);
        throw err;
      });
      this.recordTables.set(name, created);
    }
    await created;
    return this.upsert(t, name, records as readonly Row[]);
  }

  async records<T>(table: RecordTable<T>, key: RecordKey, query: RecordQuery = {}): Promise<T[]> {
    const layout = recordLayout(table as RecordTable<unknown>);
    const name = `${this.opts.tablePrefix}${layout.table}`;
    const p = new Params();
    const where = keyValues(layout, key).map(({ column, value }) => `"${column.column}" = ${p.add(sqlValue(value))}`);
    where.push(...rangeConditions(query, p, `"${layout.time}"`));
    const [exists] = await this.query('SELECT count() FROM tables() WHERE table_name = $1', paramsOf(name));
    if (num(exists?.[0] ?? 0) === 0) return [];
    const t = tableOf<T>(layout);
    const rows = await this.readNewest(t, name, where, [`"${layout.time}"`], query.limit, p);
    return rows.map(t.fromRow);
  }

  private async createTable(table: Table<Row>, name: string): Promise<void> {
    try {
      await prepare(this.pool, table, name);
    } catch (err) {
      throw new QuestDbError(`QuestDB at ${redact(this.opts.pg)}: could not create table ${name}: ${message(err)}`, {
        cause: err,
      });
    }
  }

  async symbols(): Promise<string[]> {
    const rows = await this.query(`SELECT DISTINCT symbol FROM "${this.barsTable}" ORDER BY symbol`);
    return rows.map((r) => str(r[0]));
  }

  async counts(): Promise<StoreCounts> {
    const [bars] = await this.query(`SELECT count(), count_distinct(symbol) FROM "${this.barsTable}"`);
    const [predictions] = await this.query(`SELECT count() FROM "${this.predictionsTable}"`);
    const [scores] = await this.query(`SELECT count() FROM "${this.scoresTable}"`);
    return {
      bars: num(bars?.[0]),
      predictions: num(predictions?.[0]),
      scores: num(scores?.[0]),
      symbols: num(bars?.[1] ?? 0),
    };
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
    // Let queued writes finish, so an upsert that was accepted is never cut off, and let QuestDB
    // apply them, so whoever reads next (another process) sees them. A failure here was already
    // reported to the write's caller or is QuestDB's to resume: close goes on.
    await this.writes.drain();
    await this.caughtUp(Math.min(this.opts.writeTimeoutMs, CLOSE_APPLY_WAIT_MS)).catch(() => undefined);
    await this.sender.close().catch(() => undefined);
    await this.pool.end();
  }

  // async, so a bad value rejects the returned promise instead of throwing at the caller;
  // everything up to writes.run() runs synchronously, which keeps batches in call order.
  private async upsert<T>(table: Table<T>, name: string, records: readonly T[]): Promise<void> {
    if (this.closed) throw closedError();
    const rows = lastWins(records, table.rowKey);
    if (rows.length === 0) return;
    // A bad value fails the whole batch before anything is sent.
    for (const row of rows) table.check(row);
    return this.writes.run(() =>
      withTimeout(
        this.send(table, name, rows, Date.now() + this.opts.writeTimeoutMs),
        this.opts.writeTimeoutMs,
        () =>
          `QuestDB at ${this.opts.url}: writing ${rows.length} rows to ${name} took over ${this.opts.writeTimeoutMs} ms`,
      ),
    );
  }

  private async send<T>(table: Table<T>, name: string, rows: readonly T[], deadline: number): Promise<void> {
    try {
      for (const row of rows) await table.write(this.sender, name, row);
      await this.sender.flush();
    } catch (err) {
      // Nothing half-written may ride along with the next batch.
      this.sender.reset();
      throw new QuestDbError(
        `QuestDB at ${this.opts.url}: writing ${rows.length} rows to ${name} failed: ${message(err)}`,
        {
          cause: err,
        },
      );
    }
    this.unapplied.set(name, (this.unapplied.get(name) ?? 0) + 1);
    // One look at the table: it fails a write into a suspended table, and holds the writer
    // back once the apply lags too far.
    await this.applied(name, deadline, MAX_APPLY_LAG);
  }

  /** Until every table this store wrote has applied those writes: a read then sees them. */
  private async caughtUp(withinMs = this.opts.writeTimeoutMs): Promise<void> {
    const deadline = Date.now() + withinMs;
    for (const [name, writes] of this.unapplied) {
      await this.applied(name, deadline);
      // A write that committed meanwhile may not be applied yet: it keeps the table listed.
      if (this.unapplied.get(name) === writes) this.unapplied.delete(name);
    }
  }

  /**
   * Waits until the table's WAL writer is at most `lag` transactions behind those committed so
   * far. Bounded by `deadline` itself, so it stops polling once the caller has given up.
   */
  private async applied(name: string, deadline: number, lag = 0): Promise<void> {
    let target: number | undefined;
    for (let delay = 1; Date.now() < deadline; delay = Math.min(delay * 2, 50)) {
      const [row] = await this.read(
        'SELECT writerTxn, sequencerTxn, suspended, errorMessage FROM wal_tables() WHERE name = $1',
        paramsOf(name),
      );
      if (row === undefined) throw new QuestDbError(`QuestDB: table ${name} is not a WAL table`);
      if (row[2] === true) {
        throw new QuestDbError(`QuestDB: table ${name} is suspended (${String(row[3] ?? 'no reason given')})`);
      }
      const writer = num(row[0]);
      target ??= num(row[1]) - lag;
      if (writer >= target) return;
      await sleep(delay);
    }
    throw new QuestDbError(`QuestDB: table ${name} did not apply its writes in time`);
  }

  /** Rows oldest first; with a limit, the newest `limit` rows are the ones kept. */
  private async readNewest<T>(
    table: Table<T>,
    name: string,
    where: readonly string[],
    order: readonly string[],
    limit: number | undefined,
    p: Params,
  ): Promise<unknown[][]> {
    // An order column may be a quoted name ("ts"); its alias is the bare one.
    const alias = (c: string) => `k_${c.replaceAll('"', '')}`;
    const base = `SELECT ${table.select}, ${order.map((c) => `${c} AS ${alias(c)}`).join(', ')}
                  FROM "${name}" WHERE ${where.join(' AND ')}`;
    const asc = order.map(alias).join(', ');
    if (limit === undefined) return this.query(`${base} ORDER BY ${asc}`, p);
    const n = integer('limit', limit);
    if (n === 0) return [];
    const desc = order.map((c) => `${alias(c)} DESC`).join(', ');
    // n is a checked integer, so it can be spliced; QuestDB does not bind LIMIT.
    return this.query(`SELECT * FROM (${base} ORDER BY ${desc} LIMIT ${n}) ORDER BY ${asc}`, p);
  }

  /** A read of the tables: it sees what this store wrote (see caughtUp). */
  private async query(sql: string, p?: Params): Promise<unknown[][]> {
    if (this.closed) throw closedError();
    if (this.unapplied.size > 0) await this.caughtUp();
    return this.read(sql, p);
  }

  /** Any query, for the store's own use: writes queued before close() still look at their tables. */
  private async read(sql: string, p?: Params): Promise<unknown[][]> {
    try {
      const result = await this.pool.query<unknown[]>({ text: sql, values: p?.values ?? [], rowMode: 'array' });
      return result.rows;
    } catch (err) {
      throw new QuestDbError(`QuestDB at ${redact(this.opts.pg)}: query failed: ${message(err)}`, { cause: err });
    }
  }
}

/**
 * A table: a column per stored field (key strings, enums and the strings a store table names as
 * SYMBOL, other text and JSON as VARCHAR), the time field as the designated timestamp,
 * DEDUP UPSERT KEYS(time, key...).
 */
function tableOf<T>(layout: RecordLayout): Table<T> {
  const q = (c: RecordColumn) => `"${c.column}"`;
  const select = layout.columns.map((c) => (c.kind === 'timestamp' ? `${q(c)}::long` : q(c)));
  // ILP wants every symbol column before the other columns of a row.
  const symbols = layout.columns.filter((c) => c.symbol && !c.time);
  const others = layout.columns.filter((c) => !c.symbol && !c.time);
  const column = (name: string) => layout.columns.find((c) => c.name === name)!;
  return {
    base: layout.table,
    layout,
    select: select.join(', '),
    columns: layout.columns.map((c) => `${q(c)} ${questType(c)}`).join(', '),
    keys: [layout.time, ...layout.key].map((k) => q(column(k))).join(', '),
    timestamp: q(column(layout.time)),
    rowKey: (row) => rowKey(layout, row as Row),
    check: (value) => {
      const row = value as Row;
      checkRow(layout, row);
      if ((row[layout.time] as number) < 0) {
        throw new RangeError(
          `${layout.subject}: ${layout.time} must be an epoch-ms time >= 0, got ${row[layout.time]}`,
        );
      }
    },
    write: (s, table, value) => {
      const row = value as Row;
      let line = s.table(table);
      for (const c of symbols) {
        const v = row[c.name];
        if (v !== null && v !== undefined) line = line.symbol(c.column, String(v));
      }
      for (const c of others) {
        const v = row[c.name];
        if (v === null || v === undefined) continue;
        line = ilpColumn(line, c, v);
      }
      return line.at(row[layout.time] as number, 'ms');
    },
    fromRow: (r) =>
      fromColumns<T>(
        layout,
        layout.columns.map((c, i) => fromQuest(c, r[i])),
      ),
  };
}

/**
 * Creates the table if it is not there, adds a column for a nullable field it lacks (a field added
 * to the schema since), and checks the types of the others.
 */
async function prepare(
  pool: pg.Pool,
  table: Pick<Table<never>, 'layout' | 'columns' | 'timestamp' | 'keys'>,
  name: string,
): Promise<void> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS "${name}" (${table.columns})
     TIMESTAMP(${table.timestamp}) PARTITION BY MONTH WAL DEDUP UPSERT KEYS(${table.keys})`,
  );
  const result = await pool.query<unknown[]>({
    text: `SELECT "column", type FROM table_columns('${name}')`,
    rowMode: 'array',
  });
  const stored = new Map(result.rows.map((r) => [String(r[0]).toLowerCase(), String(r[1])]));
  const wanted = table.layout.columns.map((c) => ({ name: c.column, nullable: c.nullable, type: questType(c) }));
  for (const c of columnsToAdd(name, wanted, stored)) {
    await pool.query(`ALTER TABLE "${name}" ADD COLUMN "${c.name}" ${c.type}`);
  }
}

function questType(c: RecordColumn): string {
  if (c.symbol) return 'SYMBOL';
  switch (c.kind) {
    case 'int':
      return 'INT';
    case 'long':
      return 'LONG';
    case 'float':
    case 'double':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'timestamp':
      return 'TIMESTAMP';
    default:
      return 'VARCHAR';
  }
}

function ilpColumn(line: Sender, c: RecordColumn, v: unknown): Sender {
  switch (c.kind) {
    case 'int':
    case 'long':
      return line.intColumn(c.column, v as number);
    case 'float':
    case 'double':
      return line.floatColumn(c.column, v as number);
    case 'boolean':
      return line.booleanColumn(c.column, v as boolean);
    case 'timestamp':
      return line.timestampColumn(c.column, v as number, 'ms');
    case 'json':
      return line.stringColumn(c.column, toJsonText(v));
    default:
      return line.stringColumn(c.column, String(v));
  }
}

/** A read value as the record's: times from µs, a non-null double's NULL as NaN (QuestDB stores NaN as null). */
function fromQuest(c: RecordColumn, v: unknown): unknown {
  if (v === null || v === undefined)
    return c.nullable ? null : c.kind === 'double' || c.kind === 'float' ? Number.NaN : null;
  switch (c.kind) {
    case 'timestamp':
      return micros(v);
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return num(v);
    default:
      return v;
  }
}

function sqlValue(v: string | number | boolean): SqlValue {
  return typeof v === 'boolean' ? String(v) : v;
}

function paramsOf(...values: SqlValue[]): Params {
  const p = new Params();
  for (const v of values) p.add(v);
  return p;
}

function rangeConditions(range: TimeRange, p: Params, column = 'ts'): string[] {
  const conditions: string[] = [];
  if (range.from !== undefined) conditions.push(`${column} >= ${p.time('from', range.from)}`);
  if (range.to !== undefined) conditions.push(`${column} < ${p.time('to', range.to)}`);
  return conditions;
}

/** Checks the HTTP endpoint answers (QuestDB's /ping), within `timeoutMs`. */
async function ping(url: string, timeoutMs: number): Promise<void> {
  try {
    const res = await fetch(new URL('/ping', url), { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`HTTP ${res.status} from /ping`);
  } catch (err) {
    throw new QuestDbError(`QuestDB at ${url}: not reachable: ${message(err)}`, { cause: err });
  }
}

function httpAddress(url: string): { scheme: 'http' | 'https'; host: string } {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new RangeError(`QuestDB url must be http(s)://host:port, got ${url}`);
  }
  return { scheme: u.protocol === 'https:' ? 'https' : 'http', host: u.host };
}

function withTimeout<T>(work: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QuestDbError(what())), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Drops earlier rows with the same key: the last write of a key wins, as it would across batches. */
function lastWins<T>(rows: readonly T[], key: (row: T) => string): readonly T[] {
  const byKey = new Map<string, T>();
  for (const row of rows) byKey.set(key(row), row);
  return byKey.size === rows.length ? rows : [...byKey.values()];
}

function integer(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be an integer >= 0, got ${v}`);
  return v;
}

function closedError(): Error {
  return new Error('the QuestDB store is closed');
}

function message(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(message).join('; ');
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const text = err.message || (typeof code === 'string' ? code : err.name);
    return err.cause instanceof Error ? `${text} (${message(err.cause)})` : text;
  }
  return String(err);
}

/** The connection string without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured PostgreSQL address';
  }
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  throw new TypeError(`expected a string from QuestDB, got ${String(v)}`);
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  // pg reads int8 (LONG) as text, since it may exceed 2^53.
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new TypeError(`expected a number from QuestDB, got ${String(v)}`);
}

/** DOUBLE: QuestDB stores NaN as null, and null reads back as NaN (a value not known yet). */
function dbl(v: unknown): number {
  return v === null ? Number.NaN : num(v);
}

/** A TIMESTAMP read as ::long (µs) → epoch ms. */
function micros(v: unknown): number {
  return Math.floor(num(v) / 1000);
}
