// The vector store behind explanations: news headlines and fact sheets with their embeddings,
// searched by cosine similarity with filters on kind, symbol and time. Two implementations share
// this interface and one contract suite (vector-store.contract.ts): embedded DuckDB (default,
// the same database file as the time series) and Chroma (scale-out).
import type { EmbedderInfo } from '../models/embedder.js';

export type DocumentKind = 'news' | 'facts';

/** A stored item (see schemas/document.avsc). */
export interface VectorDocument {
  id: string;
  kind: DocumentKind;
  symbol: string;
  /** Publication time (news) or asOf (fact sheets), epoch ms. */
  ts: number;
  /** The text that was embedded. */
  text: string;
  /** The source record as JSON (News or FactSheet, by kind). */
  payload: string;
}

/** What upsert takes: a document, its vector, and the id of the embedder that made the vector. */
export interface EmbeddedDocument extends VectorDocument {
  /** `embedder.dimension` numbers; unit length (cosine similarity is then a dot product). */
  embedding: Float32Array | readonly number[];
  /** EmbedderInfo.id of the embedder that made `embedding`: the store refuses another. */
  embedder: string;
}

export interface VectorQuery {
  /** Unit-length query vector of the store's embedder. */
  embedding: Float32Array | readonly number[];
  kind?: DocumentKind;
  /** Only these symbols (default: any). */
  symbols?: readonly string[];
  /** Inclusive lower bound on ts, epoch ms. */
  from?: number;
  /** Exclusive upper bound on ts, epoch ms: nothing at or after it is returned (no look-ahead). */
  to?: number;
  /** Most hits, best first; default 10. */
  limit?: number;
}

export interface VectorHit extends VectorDocument {
  /** Cosine similarity to the query, in [-1, 1]. */
  score: number;
}

export interface VectorStore {
  /** Which implementation, for logs and /healthz. */
  readonly kind: string;
  /** The embedder whose vectors this store holds. */
  readonly embedder: EmbedderInfo;
  /**
   * Idempotent: a document with the same id replaces the stored one (also within one batch:
   * the last wins). Rejects the whole batch, storing none of it, when a vector's length is not
   * `embedder.dimension` or a number in it is not finite (RangeError), or a document is tagged
   * with another embedder id (EmbedderMismatchError).
   */
  upsert(docs: readonly EmbeddedDocument[]): Promise<void>;
  /**
   * Nearest documents to the query that pass its filters, best first. Rejects a query vector
   * whose length is not `embedder.dimension` (RangeError).
   */
  query(q: VectorQuery): Promise<VectorHit[]>;
  /** The stored documents with these ids (missing ids are left out), in the order asked. */
  get(ids: readonly string[]): Promise<VectorDocument[]>;
  /** How many documents are stored (of one kind, when given). */
  count(kind?: DocumentKind): Promise<number>;
  /** Ready to read and write (for /healthz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Opening a store whose data was written by another embedder. */
export class EmbedderMismatchError extends Error {
  constructor(
    readonly stored: EmbedderInfo,
    readonly wanted: EmbedderInfo,
    where: string,
  ) {
    super(
      `${where} holds vectors of ${stored.id} (${stored.dimension} dimensions), not ${wanted.id} (${wanted.dimension}): ` +
        'use the same embedder, or another collection / database file',
    );
    this.name = 'EmbedderMismatchError';
  }
}
