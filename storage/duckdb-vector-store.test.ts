import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDbStore } from './duckdb-store.js';
import { openDuckDbVectorStore } from './duckdb-vector-store.js';
import { AAPL } from './timeseries-store.contract.js';
import { DOCS, TEST_EMBEDDER, unitAt, vectorStoreContract } from './vector-store.contract.js';

let dir: string;
let files = 0;
/** A new database file under a fresh temp directory, in a folder that does not exist yet. */
const newFile = (): string => join(dir, `run-${++files}`, 'data', 'tickcast.duckdb');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tickcast-duckdb-vectors-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

vectorStoreContract('duckdb file', () => {
  const path = newFile();
  return { open: (embedder) => openDuckDbVectorStore({ path, embedder }) };
});

describe('DuckDB vector store', () => {
  it('shares one database file with the time-series store, each closing on its own', async () => {
    const path = newFile();
    const series = await openDuckDbStore({ path });
    const vectors = await openDuckDbVectorStore({ path, embedder: TEST_EMBEDDER });
    await Promise.all([series.upsertBars(AAPL), vectors.upsert(DOCS)]);
    await series.close();
    // The database stays open for the vector store.
    expect(await vectors.count()).toBe(6);
    await vectors.upsert([{ ...DOCS[0]!, text: 'after the time-series store closed' }]);
    await vectors.close();

    // Both come back from the one file, opened in the other order.
    const vectorsAgain = await openDuckDbVectorStore({ path, embedder: TEST_EMBEDDER });
    const seriesAgain = await openDuckDbStore({ path });
    try {
      expect(await seriesAgain.counts()).toMatchObject({ bars: 9 });
      expect((await vectorsAgain.get([DOCS[0]!.id]))[0]?.text).toBe('after the time-series store closed');
    } finally {
      await Promise.all([vectorsAgain.close(), seriesAgain.close()]);
    }
  });

  it('refuses a second vector store on a file that has one open in this process', async () => {
    const path = newFile();
    const store = await openDuckDbVectorStore({ path, embedder: TEST_EMBEDDER });
    try {
      await expect(openDuckDbVectorStore({ path, embedder: TEST_EMBEDDER })).rejects.toThrow(
        /already has a vector store/,
      );
    } finally {
      await store.close();
    }
    const again = await openDuckDbVectorStore({ path, embedder: TEST_EMBEDDER });
    await again.close();
  });

  it('keeps each in-memory store private', async () => {
    const a = await openDuckDbVectorStore({ path: ':memory:', embedder: TEST_EMBEDDER });
    const b = await openDuckDbVectorStore({ path: ':memory:', embedder: { id: 'test:other-8d', dimension: 8 } });
    try {
      await a.upsert(DOCS);
      expect(await a.count()).toBe(6);
      expect(await b.count()).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('rejects an embedder without an id or a whole positive dimension', async () => {
    await expect(openDuckDbVectorStore({ path: ':memory:', embedder: { id: '', dimension: 4 } })).rejects.toThrow(
      RangeError,
    );
    await expect(openDuckDbVectorStore({ path: ':memory:', embedder: { id: 'x', dimension: 0 } })).rejects.toThrow(
      RangeError,
    );
  });

  it('rejects use after close', async () => {
    const store = await openDuckDbVectorStore({ path: ':memory:', embedder: TEST_EMBEDDER });
    await store.close();
    await expect(store.upsert(DOCS)).rejects.toThrow(/closed/);
    await expect(store.query({ embedding: unitAt(0) })).rejects.toThrow(/closed/);
    await expect(store.count()).rejects.toThrow(/closed/);
  });
});
