// The scale-out vector store: a Chroma server (CHROMA_URL), through the `chromadb` client.
//
// One collection holds the documents (default `tickcast-documents`), created with no embedding
// function (tickcast embeds; Chroma's default would download a model) and the metadata
// `{"hnsw:space": "cosine", embedder, dimension}`; opening a collection made for another embedder
// throws EmbedderMismatchError. Each document is a Chroma record: id, embedding, `document` = text,
// metadata `{kind, symbol, ts, payload}`; filters are a `where` on that metadata, and the score is
// 1 − Chroma's cosine distance.
//
// What differs from the embedded store:
// - Search is approximate (HNSW); at our sizes it found the exact neighbours in every test.
// - An upsert larger than the server's max batch size (5,461 records for Chroma 1.0) is sent in
//   several requests, in order: one that fails part way leaves the earlier parts written (a
//   retry of the same batch, as the sink does, replaces them).
// - count(kind) lists the ids of that kind (Chroma counts only whole collections).
// - Every request is bounded by `timeoutMs`; a refused connection or a silent server rejects
//   with ChromaUnreachableError, naming the address and CHROMA_URL.
import {
  ChromaClient,
  ChromaConnectionError,
  type Collection,
  type GetResult,
  type Metadata,
  type Where,
} from 'chromadb';
import type { EmbedderInfo } from '../models/embedder.js';
import { ChromaUnreachableError } from './chroma-unreachable.js';
import { SerialQueue } from './serial-queue.js';
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

export interface ChromaVectorStoreOptions {
  /** The server, e.g. `http://127.0.0.1:18000` (CHROMA_URL). */
  url: string;
  /** Collection name, default `tickcast-documents`. */
  collection?: string;
  /** The embedder whose vectors the collection holds; a collection made for another is refused. */
  embedder: EmbedderInfo;
  /** Longest wait for one request, ms (default 30 s). */
  timeoutMs?: number;
}

export const DEFAULT_COLLECTION = 'tickcast-documents';

export { ChromaUnreachableError } from './chroma-unreachable.js';

export async function openChromaVectorStore(opts: ChromaVectorStoreOptions): Promise<VectorStore> {
  return ChromaVectorStore.open(opts);
}

/** The metadata each record carries besides its id, text and vector. */
interface RecordMetadata extends Metadata {
  kind: DocumentKind;
  symbol: string;
  ts: number;
  payload: string;
}

/** Sends requests to one server with a time limit, and says what failed and where. */
class Requests {
  constructor(
    readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async run<T>(what: string, request: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ChromaUnreachableError(
              `${what}: Chroma at ${this.url} did not answer within ${this.timeoutMs} ms (CHROMA_URL)`,
            ),
          ),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([request(), timeout]);
    } catch (err) {
      if (err instanceof ChromaUnreachableError) throw err;
      if (err instanceof ChromaConnectionError) {
        throw new ChromaUnreachableError(
          `${what}: cannot connect to Chroma at ${this.url}; is it running? (CHROMA_URL; npm run services:up starts one)`,
          { cause: err },
        );
      }
      throw new Error(`${what} (Chroma at ${this.url}): ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}

class ChromaVectorStore implements VectorStore {
  readonly kind = 'chroma';
  // Upserts are sent one at a time, in call order, so the last write of an id wins.
  private readonly writes = new SerialQueue();
  private closed = false;

  private constructor(
    readonly embedder: EmbedderInfo,
    private readonly requests: Requests,
    private readonly client: ChromaClient,
    private readonly collection: Collection,
    /** Most records in one request, as the server says. */
    private readonly maxBatch: number,
    /** The collection, for error messages. */
    private readonly where: string,
  ) {}

  static async open(opts: ChromaVectorStoreOptions): Promise<ChromaVectorStore> {
    const embedder = checkEmbedder(opts.embedder);
    const name = opts.collection ?? DEFAULT_COLLECTION;
    const requests = new Requests(opts.url, opts.timeoutMs ?? 30_000);
    const client = new ChromaClient(clientAddress(opts.url));
    const where = `Chroma collection ${name} at ${opts.url}`;
    await requests.run('opening the vector store', () => client.heartbeat());
    const maxBatch = await requests.run('opening the vector store', () => client.getMaxBatchSize());
    // An existing collection keeps its metadata: getOrCreate does not overwrite it.
    const collection = await requests.run(`opening collection ${name}`, () =>
      client.getOrCreateCollection({
        name,
        embeddingFunction: null,
        metadata: { 'hnsw:space': 'cosine', embedder: embedder.id, dimension: embedder.dimension },
      }),
    );
    checkCollection(collection, embedder, where);
    return new ChromaVectorStore(embedder, requests, client, collection, maxBatch, where);
  }

  // async, so that a bad batch rejects the returned promise; everything up to writes.run() runs
  // synchronously, which keeps concurrent upserts in call order.
  async upsert(docs: readonly EmbeddedDocument[]): Promise<void> {
    this.assertOpen();
    const rows = checkBatch(docs, this.embedder, this.where);
    if (rows.length === 0) return;
    return this.writes.run(async () => {
      for (let start = 0; start < rows.length; start += this.maxBatch) {
        const part = rows.slice(start, start + this.maxBatch);
        await this.requests.run(`upserting ${part.length} documents`, () =>
          this.collection.upsert({
            ids: part.map((d) => d.id),
            embeddings: part.map((d) => d.embedding),
            documents: part.map((d) => d.text),
            metadatas: part.map(
              (d): RecordMetadata => ({ kind: d.kind, symbol: d.symbol, ts: d.ts, payload: d.payload }),
            ),
          }),
        );
      }
    });
  }

  async query(q: VectorQuery): Promise<VectorHit[]> {
    this.assertOpen();
    const vector = checkVector(q.embedding, this.embedder, 'query');
    const limit = queryLimit(q);
    if (limit === 0 || q.symbols?.length === 0) return [];
    const where = whereOf(q);
    const result = await this.requests.run('querying', () =>
      this.collection.query<RecordMetadata>({
        queryEmbeddings: [vector],
        nResults: limit,
        ...(where === undefined ? {} : { where }),
        include: ['documents', 'metadatas', 'distances'],
      }),
    );
    const ids = result.ids[0] ?? [];
    const distances = result.distances[0] ?? [];
    return ids.map((id, i) => ({
      ...toDocument(id, result.documents[0]?.[i], result.metadatas[0]?.[i]),
      score: 1 - (distances[i] ?? Number.NaN),
    }));
  }

  async get(ids: readonly string[]): Promise<VectorDocument[]> {
    this.assertOpen();
    // Chroma refuses an empty id and repeated ids; neither can be stored, so neither is asked.
    const unique = [...new Set(ids)].filter((id) => id !== '');
    const found: VectorDocument[] = [];
    for (let start = 0; start < unique.length; start += this.maxBatch) {
      const part = unique.slice(start, start + this.maxBatch);
      const result: GetResult<RecordMetadata> = await this.requests.run(`getting ${part.length} documents`, () =>
        this.collection.get<RecordMetadata>({ ids: part, include: ['documents', 'metadatas'] }),
      );
      result.ids.forEach((id, i) => {
        found.push(toDocument(id, result.documents[i], result.metadatas[i]));
      });
    }
    return inAskedOrder(ids, found);
  }

  async count(kind?: DocumentKind): Promise<number> {
    this.assertOpen();
    if (kind === undefined) return this.requests.run('counting', () => this.collection.count());
    const result = await this.requests.run(`counting ${kind}`, () =>
      this.collection.get({ where: { kind }, include: [] }),
    );
    return result.ids.length;
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.requests.run('ping', () => this.client.heartbeat());
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let queued upserts finish, so one that was accepted is never cut off. The client holds no
    // connection of its own to close.
    await this.writes.drain();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the Chroma vector store is closed');
  }
}

/** ChromaClient's host, port and ssl from a URL. */
function clientAddress(url: string): { host: string; port: number; ssl: boolean } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RangeError(`CHROMA_URL must be an http(s) URL like http://127.0.0.1:8000, got ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new RangeError(`CHROMA_URL must be an http(s) URL like http://127.0.0.1:8000, got ${url}`);
  }
  const ssl = u.protocol === 'https:';
  return { host: u.hostname, port: u.port === '' ? (ssl ? 443 : 80) : Number(u.port), ssl };
}

/** Refuses a collection made for another embedder, by something else, or with another distance. */
function checkCollection(collection: Collection, embedder: EmbedderInfo, where: string): void {
  const meta = collection.metadata ?? {};
  const { embedder: id, dimension } = meta;
  if (typeof id !== 'string' || typeof dimension !== 'number') {
    throw new Error(`${where} has no embedder in its metadata: it was not made by tickcast; use another collection`);
  }
  if (id !== embedder.id || dimension !== embedder.dimension) {
    throw new EmbedderMismatchError({ id, dimension }, embedder, where);
  }
  const space = collection.configuration?.hnsw?.space ?? meta['hnsw:space'];
  if (space !== 'cosine') {
    throw new Error(`${where} measures ${String(space)} distance, not cosine: use another collection`);
  }
}

/** The query's filters as a Chroma `where` (undefined when there are none). */
function whereOf(q: VectorQuery): Where | undefined {
  const terms: Where[] = [];
  if (q.kind !== undefined) terms.push({ kind: { $eq: q.kind } });
  if (q.symbols !== undefined) terms.push({ symbol: { $in: [...q.symbols] } });
  if (q.from !== undefined) terms.push({ ts: { $gte: timeBound('from', q.from) } });
  if (q.to !== undefined) terms.push({ ts: { $lt: timeBound('to', q.to) } });
  // Chroma wants at least two terms under $and.
  if (terms.length <= 1) return terms[0];
  return { $and: terms };
}

function toDocument(
  id: string,
  text: string | null | undefined,
  meta: RecordMetadata | null | undefined,
): VectorDocument {
  if (meta == null || typeof text !== 'string') {
    throw new TypeError(`Chroma returned document ${id} without its text or metadata`);
  }
  return { id, kind: meta.kind, symbol: meta.symbol, ts: meta.ts, text, payload: meta.payload };
}
