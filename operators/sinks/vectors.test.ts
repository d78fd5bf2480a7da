// vectors: documents into a vector store (embedded DuckDB, in memory), idempotently, retried.
import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import type { Document } from '../../schemas/index.js';
import { openDuckDbVectorStore } from '../../storage/duckdb-vector-store.js';
import type { VectorStore } from '../../storage/vector-store.js';
import { hashEmbedder } from '../../test/support/hash-embedder.js';
import { vectors } from './vectors.js';

const embedder = hashEmbedder(8);

async function doc(id: string, symbol: string, text: string): Promise<Document> {
  const [v] = await embedder.embed([text]);
  return {
    id,
    kind: 'news',
    symbol,
    ts: Date.UTC(2017, 10, 2),
    text,
    embedding: [...v!],
    embedder: embedder.id,
    payload: '{}',
  };
}

describe('vectors', () => {
  it('stores documents once, however often they are replayed', async () => {
    const store = await openDuckDbVectorStore({ path: ':memory:', embedder });
    const d = await TestDriver.forOperator(vectors({ store }));
    const docs = [await doc('n1', 'AAPL', 'Apple beats'), await doc('n2', 'MSFT', 'Microsoft grows')];
    await d.pipe('input', docs);
    await d.pipe('input', docs);
    await d.run();
    expect(await store.count('news')).toBe(2);
    expect((await store.get(['n2']))[0]).toMatchObject({ symbol: 'MSFT', text: 'Microsoft grows' });
    await store.close();
  });

  it('waits for a store that is down and writes everything once it is back', async () => {
    const store = await openDuckDbVectorStore({ path: ':memory:', embedder });
    let failures = 2;
    const flaky: VectorStore = {
      ...store,
      kind: store.kind,
      embedder: store.embedder,
      upsert: (docs) => (failures-- > 0 ? Promise.reject(new Error('Chroma is not reachable')) : store.upsert(docs)),
    };
    const d = await TestDriver.forOperator(vectors({ store: flaky }));
    await d.pipe('input', [await doc('n1', 'AAPL', 'Apple beats')]);
    await d.run();
    expect(failures).toBe(-1);
    expect(await store.count()).toBe(1);
    expect(d.deadLetters('input')).toEqual([]);
    await store.close();
  });
});
