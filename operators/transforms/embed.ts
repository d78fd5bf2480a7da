// embed: news headlines or fact sheets → documents with an embedding, for the vector sink.
// One node per record kind (embed-news, embed-facts), one embedder for all of them: the
// vector store refuses vectors of another embedder.
//
// No state. The embedder is a model call (in-process, or Ollama over HTTP): a failing call is
// retried with backoff, so an embedder that is briefly down slows the node down (backpressure)
// instead of dead-lettering news; a batch that still fails after the retries goes to the DLQ
// whole, with the reason, and can be replayed from there.
import pRetry from 'p-retry';
import { defineOperator } from '../../engine/index.js';
import type { Embedder } from '../../models/embedder.js';
import { type Schema, schemas } from '../../schemas/index.js';
import type { VectorDocument } from '../../storage/vector-store.js';

export interface EmbedOptions<In> {
  embedder: Embedder;
  /** The record type read: schemas.News or schemas.FactSheet. */
  input: Schema<In>;
  /** The document to embed and store for a record (explain/documents.ts has both). */
  document: (value: In) => VectorDocument;
  /** Texts per embedder call, default 64. */
  batch?: number;
  /**
   * Ids the vector store already holds (with this embedder: a store holds one embedder's vectors):
   * not embedded again. For records whose id fixes their text (news), so a second replay is cheap.
   */
  stored?: (ids: readonly string[]) => Promise<ReadonlySet<string>>;
  /** Retries of a failing embedder call before the batch is dead-lettered (default 6: ~1 minute). */
  retries?: number;
  minDelayMs?: number;
}

export function embed<In>(opts: EmbedOptions<In>) {
  const size = opts.batch ?? 64;
  return defineOperator<In, { documents: typeof schemas.Document }>({
    kind: 'transform',
    name: 'embed',
    input: opts.input,
    outputs: { documents: schemas.Document },
    // ~3 s of embedding per batch: documents reach the store, and progress shows, as they are made.
    maxBatch: 512,
    async processBatch(records, ctx) {
      // A record replayed twice in one batch is embedded once: the last one wins, as in the store.
      const byId = new Map<string, { doc: VectorDocument; timestamp: number }>();
      for (const r of records) {
        const doc = opts.document(r.value);
        byId.set(doc.id, { doc, timestamp: r.timestamp });
      }
      const latest = [...byId.values()];
      // Only a saving: when the store cannot say (it is down), embed them all; the sink upserts.
      const stored = opts.stored
        ? await opts.stored(latest.map((d) => d.doc.id)).catch(() => new Set<string>())
        : new Set<string>();
      const docs = latest.filter((d) => !stored.has(d.doc.id));
      for (let i = 0; i < docs.length; i += size) {
        const chunk = docs.slice(i, i + size);
        const vectors = await pRetry(() => opts.embedder.embed(chunk.map((d) => d.doc.text)), {
          retries: opts.retries ?? 6,
          minTimeout: opts.minDelayMs ?? 500,
          maxTimeout: 15_000,
        });
        chunk.forEach(({ doc, timestamp }, j) => {
          ctx.emit(
            'documents',
            { ...doc, embedding: Array.from(vectors[j]!), embedder: opts.embedder.id },
            { key: doc.symbol, timestamp },
          );
        });
      }
    },
  });
}
