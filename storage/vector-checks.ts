// Input checks every VectorStore makes the same way before it touches its backend, so a bad
// batch is refused whole (nothing of it stored) with the same error from every implementation.
import type { EmbedderInfo } from '../models/embedder.js';
import { type DocumentKind, type EmbeddedDocument, EmbedderMismatchError, type VectorQuery } from './vector-store.js';

export const DOCUMENT_KINDS: readonly DocumentKind[] = ['news', 'facts'];

/** Hits a query returns when it does not say. */
export const DEFAULT_LIMIT = 10;

/** A batch checked and copied for writing: one document per id (the last wins), vectors as plain arrays. */
export interface CheckedDocument extends EmbeddedDocument {
  embedding: number[];
}

/**
 * Checks a batch against the store's embedder and returns it with one document per id (the last
 * of a repeated id wins, as a later upsert would). `where` names the store in the mismatch error.
 */
export function checkBatch(
  docs: readonly EmbeddedDocument[],
  embedder: EmbedderInfo,
  where: string,
): CheckedDocument[] {
  const byId = new Map<string, CheckedDocument>();
  for (const doc of docs) {
    if (doc.embedder !== embedder.id) {
      throw new EmbedderMismatchError(embedder, { id: doc.embedder, dimension: doc.embedding.length }, where);
    }
    if (doc.id === '') throw new RangeError('a document id must not be empty');
    if (!DOCUMENT_KINDS.includes(doc.kind)) {
      throw new RangeError(`document ${doc.id}: kind must be one of ${DOCUMENT_KINDS.join(', ')}, got ${doc.kind}`);
    }
    if (!Number.isSafeInteger(doc.ts)) {
      throw new RangeError(`document ${doc.id}: ts must be an integer epoch-ms time, got ${doc.ts}`);
    }
    // A re-used id moves to the end, where a later upsert would have put it.
    byId.delete(doc.id);
    byId.set(doc.id, { ...doc, embedding: checkVector(doc.embedding, embedder, `document ${doc.id}`) });
  }
  return [...byId.values()];
}

/** The vector as a plain array, after checking its length and that every number is finite. */
export function checkVector(v: Float32Array | readonly number[], embedder: EmbedderInfo, what: string): number[] {
  if (v.length !== embedder.dimension) {
    throw new RangeError(
      `${what}: the vector has ${v.length} numbers, but ${embedder.id} vectors have ${embedder.dimension}`,
    );
  }
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    if (!Number.isFinite(x)) throw new RangeError(`${what}: number ${i} of the vector is ${x}`);
    out[i] = x;
  }
  return out;
}

/** A query's limit: a whole number >= 0, DEFAULT_LIMIT when not given. */
export function queryLimit(q: VectorQuery): number {
  const limit = q.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be an integer >= 0, got ${limit}`);
  return limit;
}

/**
 * A from/to bound as the whole ms it stands for: ts is a whole number of ms, so ts >= from ⇔
 * ts >= ceil(from) and ts < to ⇔ ts < ceil(to).
 */
export function timeBound(name: 'from' | 'to', v: number): number {
  if (!Number.isFinite(v)) throw new RangeError(`${name} must be a finite epoch-ms time, got ${v}`);
  return Math.ceil(v);
}

/** The embedder a store is opened with: a non-empty id and a positive whole dimension. */
export function checkEmbedder(embedder: EmbedderInfo): EmbedderInfo {
  if (embedder.id === '') throw new RangeError('embedder.id must not be empty');
  if (!Number.isSafeInteger(embedder.dimension) || embedder.dimension <= 0) {
    throw new RangeError(`embedder.dimension must be an integer > 0, got ${embedder.dimension}`);
  }
  return { id: embedder.id, dimension: embedder.dimension };
}

/** The stored documents in the order `ids` asks for them, leaving out the missing ones. */
export function inAskedOrder<T extends { id: string }>(ids: readonly string[], found: readonly T[]): T[] {
  const byId = new Map(found.map((d) => [d.id, d]));
  return ids.flatMap((id) => {
    const doc = byId.get(id);
    return doc === undefined ? [] : [doc];
  });
}
