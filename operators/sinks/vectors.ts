// vectors: documents → the vector store (embedded DuckDB or Chroma). Idempotent: a document
// upserts on its id, so a replay or a redelivered batch never adds one twice. Transient store
// errors are retried with backoff by the engine, as for every sink: a store that is down slows
// the pipeline down instead of losing documents.
import { defineOperator } from '../../engine/index.js';
import { type Document, schemas } from '../../schemas/index.js';
import type { DocumentKind, VectorStore } from '../../storage/vector-store.js';

export function vectors(opts: { store: VectorStore }) {
  return defineOperator<Document>({
    kind: 'sink',
    name: 'vectors',
    input: schemas.Document,
    async write(records) {
      // The last write of an id in a batch wins, as across batches.
      const byId = new Map(records.map((r) => [r.value.id, r.value]));
      await opts.store.upsert([...byId.values()].map((d) => ({ ...d, kind: d.kind as DocumentKind })));
    },
  });
}
