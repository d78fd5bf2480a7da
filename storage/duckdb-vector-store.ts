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
// One file, two stores: both open it through duckdb-database.ts, which shares DuckDB's one
// instance per file between them; ':memory:' gives a private database per store.
import {
  ARRAY,
  arrayValue,
  BIGINT,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
  FLOAT,
  INTEGER,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import type { EmbedderInfo } from '../models/embedder.js';
import { appendChunks, DuckDbHandle, inTransaction, num, Params, str, toChunks } from './duckdb-database.js';
import { checkBatch, checkEmbedder, checkVector, inAskedOrder, queryLimit, timeBound } from './vector-checks.js';
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

const COLUMNS = 'id, kind, symbol, ts, text, payload';

class DuckDbVectorStore implements VectorStore {
  readonly kind = 'duckdb';
  private readonly vectorType: DuckDBType;

  private constructor(
    readonly embedder: EmbedderInfo,
    private readonly db: DuckDbHandle,
  ) {
    this.vectorType = ARRAY(FLOAT, embedder.dimension);
  }

  static async open(opts: DuckDbVectorStoreOptions): Promise<DuckDbVectorStore> {
    const embedder = checkEmbedder(opts.embedder);
    const { db } = await DuckDbHandle.open({
      path: opts.path,
      name: 'DuckDB vector store',
      alreadyOpen: (file) => `${file} already has a vector store open in this process; share it`,
      setup: (writer, where) => createTables(writer, embedder, where),
    });
    return new DuckDbVectorStore(embedder, db);
  }

  // async, so that a bad batch rejects the returned promise; everything up to writes.run() runs
  // synchronously, which keeps concurrent upserts in call order.
  async upsert(docs: readonly EmbeddedDocument[]): Promise<void> {
    if (this.db.closed) throw this.db.closedError();
    const rows = checkBatch(docs, this.embedder, this.db.where);
    if (rows.length === 0) return;
    const types = [VARCHAR, VARCHAR, VARCHAR, BIGINT, VARCHAR, VARCHAR, this.vectorType];
    const chunks = toChunks(types, rows, (slice) => [
      slice.map((d) => d.id),
      slice.map((d) => d.kind),
      slice.map((d) => d.symbol),
      slice.map((d) => BigInt(d.ts)),
      slice.map((d) => d.text),
      slice.map((d) => d.payload),
      slice.map((d) => arrayValue(d.embedding)),
    ]);
    const ids = listValue(rows.map((d) => d.id));
    return this.db.write(async (writer) => {
      await writer.run('DELETE FROM documents WHERE id IN (SELECT unnest($1))', [ids], [LIST(VARCHAR)]);
      await appendChunks(writer, 'documents', chunks);
    });
  }

  async query(q: VectorQuery): Promise<VectorHit[]> {
    const vector = checkVector(q.embedding, this.embedder, 'query');
    const limit = queryLimit(q);
    if (limit === 0 || q.symbols?.length === 0) return [];
    const p = new Params();
    const query = p.add(arrayValue(vector), this.vectorType);
    const where: string[] = [];
    if (q.kind !== undefined) where.push(`kind = ${p.add(q.kind, VARCHAR)}`);
    if (q.symbols !== undefined) where.push(`list_contains(${p.addStrings(q.symbols)}, symbol)`);
    if (q.from !== undefined) where.push(`ts >= ${p.add(BigInt(timeBound('from', q.from)), BIGINT)}`);
    if (q.to !== undefined) where.push(`ts < ${p.add(BigInt(timeBound('to', q.to)), BIGINT)}`);
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    // id breaks ties, so equal scores come back in the same order every time.
    const rows = await this.db.read(
      `SELECT ${COLUMNS}, array_cosine_similarity(embedding, ${query}) AS score FROM documents ${filter}
       ORDER BY score DESC, id LIMIT ${p.add(BigInt(limit), BIGINT)}`,
      p,
    );
    return rows.map((r) => ({ ...toDocument(r), score: num(r[6]) }));
  }

  async get(ids: readonly string[]): Promise<VectorDocument[]> {
    if (ids.length === 0) return [];
    const p = new Params();
    const rows = await this.db.read(
      `SELECT ${COLUMNS} FROM documents WHERE id IN (SELECT unnest(${p.addStrings(ids)}))`,
      p,
    );
    return inAskedOrder(ids, rows.map(toDocument));
  }

  async count(kind?: DocumentKind): Promise<number> {
    const p = new Params();
    const filter = kind === undefined ? '' : `WHERE kind = ${p.add(kind, VARCHAR)}`;
    return num((await this.db.read(`SELECT count(*) FROM documents ${filter}`, p))[0]?.[0]);
  }

  ping(): Promise<boolean> {
    return this.db.ping();
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/**
 * Creates the tables on first open and records the embedder; on a later open, checks that the
 * recorded embedder is this one. One transaction, so a half-made store is never left behind.
 */
async function createTables(writer: DuckDBConnection, embedder: EmbedderInfo, where: string): Promise<void> {
  await inTransaction(writer, async (c) => {
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
  });
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
