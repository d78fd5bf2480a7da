// The embedded vector store: news and fact sheets with their embeddings in a DuckDB table, in the
// same database file as the time series (TICKCAST_DB), searched by exact (brute-force) cosine
// similarity.
//
// Tables: `documents(id, kind, symbol, ts, text, payload, embedding FLOAT[dimension])` and
// `documents_embedder(embedder, dimension)`, one row naming the embedder whose vectors the file
// holds; opening the file with another embedder throws EmbedderMismatchError.
//
// Why brute force: DuckDB's HNSW index lives in the `vss` extension, which DuckDB downloads on
// first use, and there is no network for it here. A scan of array_cosine_similarity over every
// row that passes the filters measured ~30 ms at 20,000 documents of 384 dimensions (storage/
// README.md has the figures); the filters (kind, symbols, time) usually cut the rows first.
//
// An upsert is one transaction: DELETE the stored rows with the batch's ids, then the appender
// adds the batch. No PRIMARY KEY, for the reason given at the top of duckdb-store.ts; ids stay
// unique because batches are deduplicated in JS and only this store's writer connection writes.
//
// One file, two stores: DuckDB allows one database instance per file in a process, so both stores
// open it through DuckDBInstance.fromCache() and share that instance; each closes its own handle,
// and the database closes with the last. ':memory:' gives a private database per store.
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  ARRAY,
  arrayValue,
  BIGINT,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  FLOAT,
  INTEGER,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import type { EmbedderInfo } from '../models/embedder.js';
import { SerialQueue } from './serial-queue.js';
import {
  type CheckedDocument,
  checkBatch,
  checkEmbedder,
  checkVector,
  inAskedOrder,
  queryLimit,
  timeBound,
} from './vector-checks.js';
import {
  type DocumentKind,
  type EmbeddedDocument,
  EmbedderMismatchError,
  type VectorDocument,
  type VectorHit,
  type VectorQuery,
  type VectorStore,
} from './vector-store.js';

export interface DuckDbVectorStoreOptions {
  /**
   * Database file (parent directories are created), usually the time-series store's; or
   * ':memory:' for a private in-memory database.
   */
  path: string;
  /** The embedder whose vectors the store holds; a file written by another is refused. */
  embedder: EmbedderInfo;
}

export async function openDuckDbVectorStore(opts: DuckDbVectorStoreOptions): Promise<VectorStore> {
  return DuckDbVectorStore.open(opts);
}

// Rows per appended data chunk: DuckDB's vector size, the most one chunk can hold.
const CHUNK_ROWS = 2048;

const COLUMNS = 'id, kind, symbol, ts, text, payload';

/** Database files with a vector store open in this process, by absolute path. */
const openFiles = new Set<string>();

class DuckDbVectorStore implements VectorStore {
  readonly kind = 'duckdb';
  // One statement at a time per connection (see duckdb-store.ts); reads do not wait behind writes.
  private readonly writes = new SerialQueue();
  private readonly reads = new SerialQueue();
  private readonly vectorType: DuckDBType;
  private closed = false;

  private constructor(
    readonly embedder: EmbedderInfo,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    private readonly file: string | undefined,
    /** The database, for error messages. */
    private readonly where: string,
  ) {
    this.vectorType = ARRAY(FLOAT, embedder.dimension);
  }

  static async open(opts: DuckDbVectorStoreOptions): Promise<DuckDbVectorStore> {
    const embedder = checkEmbedder(opts.embedder);
    const memory = opts.path === '' || opts.path.startsWith(':memory:');
    const file = memory ? undefined : resolve(opts.path);
    const where = `the DuckDB database ${file ?? opts.path}`;
    if (file !== undefined) {
      if (openFiles.has(file)) throw new Error(`${file} already has a vector store open in this process; share it`);
      openFiles.add(file);
    }
    try {
      if (file !== undefined) await mkdir(dirname(file), { recursive: true });
      // fromCache shares the instance with the time-series store on the same file; DuckDB keeps
      // ':memory:' out of its cache, but create() says outright that it is private.
      const instance =
        file === undefined ? await DuckDBInstance.create(':memory:') : await DuckDBInstance.fromCache(file);
      const writer = await instance.connect();
      try {
        await createTables(writer, embedder, where);
        const reader = await instance.connect();
        return new DuckDbVectorStore(embedder, instance, writer, reader, file, where);
      } catch (err) {
        writer.closeSync();
        instance.closeSync();
        throw err;
      }
    } catch (err) {
      if (file !== undefined) openFiles.delete(file);
      throw err;
    }
  }

  // async, so that a bad batch rejects the returned promise; everything up to writes.run() runs
  // synchronously, which keeps concurrent upserts in call order.
  async upsert(docs: readonly EmbeddedDocument[]): Promise<void> {
    if (this.closed) throw closedError();
    const rows = checkBatch(docs, this.embedder, this.where);
    if (rows.length === 0) return;
    const chunks = this.toChunks(rows);
    const ids = listValue(rows.map((d) => d.id));
    return this.writes.run(async () => {
      await this.writer.run('BEGIN TRANSACTION');
      try {
        await this.writer.run('DELETE FROM documents WHERE id IN (SELECT unnest($1))', [ids], [LIST(VARCHAR)]);
        // The appender writes in the connection's open transaction, so a failure rolls it back too.
        const appender = await this.writer.createAppender('documents');
        try {
          for (const chunk of chunks) appender.appendDataChunk(chunk);
        } finally {
          appender.closeSync();
        }
        await this.writer.run('COMMIT');
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async query(q: VectorQuery): Promise<VectorHit[]> {
    const vector = checkVector(q.embedding, this.embedder, 'query');
    const limit = queryLimit(q);
    if (limit === 0 || q.symbols?.length === 0) return [];
    const values: DuckDBValue[] = [arrayValue(vector)];
    const types: DuckDBType[] = [this.vectorType];
    const param = (value: DuckDBValue, type: DuckDBType): string => {
      values.push(value);
      types.push(type);
      return `$${values.length}`;
    };
    const where: string[] = [];
    if (q.kind !== undefined) where.push(`kind = ${param(q.kind, VARCHAR)}`);
    if (q.symbols !== undefined)
      where.push(`list_contains(${param(listValue([...q.symbols]), LIST(VARCHAR))}, symbol)`);
    if (q.from !== undefined) where.push(`ts >= ${param(BigInt(timeBound('from', q.from)), BIGINT)}`);
    if (q.to !== undefined) where.push(`ts < ${param(BigInt(timeBound('to', q.to)), BIGINT)}`);
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    // id breaks ties, so equal scores come back in the same order every time.
    const rows = await this.read(
      `SELECT ${COLUMNS}, array_cosine_similarity(embedding, $1) AS score FROM documents ${filter}
       ORDER BY score DESC, id LIMIT ${param(BigInt(limit), BIGINT)}`,
      values,
      types,
    );
    return rows.map((r) => ({ ...toDocument(r), score: num(r[6]) }));
  }

  async get(ids: readonly string[]): Promise<VectorDocument[]> {
    if (ids.length === 0) return [];
    const rows = await this.read(
      `SELECT ${COLUMNS} FROM documents WHERE id IN (SELECT unnest($1))`,
      [listValue([...ids])],
      [LIST(VARCHAR)],
    );
    return inAskedOrder(ids, rows.map(toDocument));
  }

  async count(kind?: DocumentKind): Promise<number> {
    const rows =
      kind === undefined
        ? await this.read('SELECT count(*) FROM documents')
        : await this.read('SELECT count(*) FROM documents WHERE kind = $1', [kind], [VARCHAR]);
    return num(rows[0]?.[0]);
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
    // Closes this store's handle; the database stays open while the time-series store holds one.
    this.instance.closeSync();
    if (this.file !== undefined) openFiles.delete(this.file);
  }

  private toChunks(rows: readonly CheckedDocument[]): DuckDBDataChunk[] {
    const types = [VARCHAR, VARCHAR, VARCHAR, BIGINT, VARCHAR, VARCHAR, this.vectorType];
    const chunks: DuckDBDataChunk[] = [];
    for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
      const slice = rows.slice(start, start + CHUNK_ROWS);
      const chunk = DuckDBDataChunk.create(types, slice.length);
      chunk.setColumns([
        slice.map((d) => d.id),
        slice.map((d) => d.kind),
        slice.map((d) => d.symbol),
        slice.map((d) => BigInt(d.ts)),
        slice.map((d) => d.text),
        slice.map((d) => d.payload),
        slice.map((d) => arrayValue(d.embedding)),
      ]);
      chunks.push(chunk);
    }
    return chunks;
  }

  private read(sql: string, values?: DuckDBValue[], types?: DuckDBType[]): Promise<DuckDBValue[][]> {
    if (this.closed) return Promise.reject(closedError());
    return this.reads.run(async () => {
      const reader = await this.reader.runAndReadAll(sql, values, types);
      return reader.getRows();
    });
  }
}

/**
 * Creates the tables on first open and records the embedder; on a later open, checks that the
 * recorded embedder is this one. One transaction, so a half-made store is never left behind.
 */
async function createTables(c: DuckDBConnection, embedder: EmbedderInfo, where: string): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  try {
    await c.run(
      'CREATE TABLE IF NOT EXISTS documents_embedder (embedder VARCHAR NOT NULL, dimension INTEGER NOT NULL)',
    );
    const stored = (await c.runAndReadAll('SELECT embedder, dimension FROM documents_embedder')).getRows()[0];
    if (stored === undefined) {
      await c.run(
        'INSERT INTO documents_embedder VALUES ($1, $2)',
        [embedder.id, embedder.dimension],
        [VARCHAR, INTEGER],
      );
    } else {
      const recorded = { id: str(stored[0]), dimension: num(stored[1]) };
      if (recorded.id !== embedder.id || recorded.dimension !== embedder.dimension) {
        throw new EmbedderMismatchError(recorded, embedder, where);
      }
    }
    await c.run(`CREATE TABLE IF NOT EXISTS documents (
      id VARCHAR NOT NULL,
      kind VARCHAR NOT NULL,
      symbol VARCHAR NOT NULL,
      ts BIGINT NOT NULL,
      text VARCHAR NOT NULL,
      payload VARCHAR NOT NULL,
      embedding FLOAT[${embedder.dimension}] NOT NULL
    )`);
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

function closedError(): Error {
  return new Error('the DuckDB vector store is closed');
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

function toDocument(r: readonly DuckDBValue[]): VectorDocument {
  return {
    id: str(r[0]),
    kind: str(r[1]) as DocumentKind,
    symbol: str(r[2]),
    ts: num(r[3]),
    text: str(r[4]),
    payload: str(r[5]),
  };
}
