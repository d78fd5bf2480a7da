// The VectorStore contract against a real Chroma server, plus what only Chroma does: collections
// made by something else, and the server down or hung. `npm run test:services` starts Chroma
// (scripts/services.sh) and sets TICKCAST_SERVICES=1, which makes a missing server a failure;
// run alone without a server, the suites skip and say so.
import { createServer } from 'node:net';
import { ChromaClient } from 'chromadb';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMA_URL } from '../test/support/service-addresses.js';
import { Relay } from '../test/tcp-relay.js';
import { ChromaUnreachableError, openChromaVectorStore } from './chroma-vector-store.js';
import { DOCS, TEST_EMBEDDER, unitAt, vectorStoreContract } from './vector-store.contract.js';

const required = process.env.TICKCAST_SERVICES === '1';
const url = new URL(CHROMA_URL);
const client = new ChromaClient({ host: url.hostname, port: Number(url.port), ssl: url.protocol === 'https:' });

async function reachable(): Promise<boolean> {
  try {
    await client.heartbeat();
    return true;
  } catch {
    return false;
  }
}

const running = await reachable();
if (!running) {
  if (required) throw new Error(`Chroma is not running at ${CHROMA_URL} (npm run services:up starts it)`);
  console.warn(`chroma-vector-store: Chroma not running at ${CHROMA_URL}: suites skipped (npm run test:services)`);
}

/** Every test gets its own collection, deleted at the end. */
const RUN = `tickcast-test-${Date.now().toString(36)}`;
const collections: string[] = [];
const newCollection = (): string => {
  const name = `${RUN}-${collections.length}`;
  collections.push(name);
  return name;
};

afterAll(async () => {
  if (!running) return;
  for (const name of collections) await client.deleteCollection({ name }).catch(() => undefined);
});

/** A port on 127.0.0.1 that nothing listens on (taken, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!running)('Chroma vector store (server at CHROMA_URL)', () => {
  vectorStoreContract('chroma', () => {
    const collection = newCollection();
    return { open: (embedder) => openChromaVectorStore({ url: CHROMA_URL, collection, embedder }) };
  });

  it('creates its collection for cosine distance, with the embedder in the metadata', async () => {
    const collection = newCollection();
    const store = await openChromaVectorStore({ url: CHROMA_URL, collection, embedder: TEST_EMBEDDER });
    await store.close();
    const made = await client.getCollection({ name: collection });
    expect(made.metadata).toMatchObject({ embedder: TEST_EMBEDDER.id, dimension: 4 });
    expect(made.configuration.hnsw?.space).toBe('cosine');
  });

  it('refuses a collection that something else made, or that measures another distance', async () => {
    const foreign = newCollection();
    await client.createCollection({ name: foreign, embeddingFunction: null });
    await expect(
      openChromaVectorStore({ url: CHROMA_URL, collection: foreign, embedder: TEST_EMBEDDER }),
    ).rejects.toThrow(/no embedder in its metadata/);
    const l2 = newCollection();
    await client.createCollection({
      name: l2,
      embeddingFunction: null,
      metadata: { 'hnsw:space': 'l2', embedder: TEST_EMBEDDER.id, dimension: 4 },
    });
    await expect(openChromaVectorStore({ url: CHROMA_URL, collection: l2, embedder: TEST_EMBEDDER })).rejects.toThrow(
      /l2 distance, not cosine/,
    );
  });

  it('fails to open with a message naming CHROMA_URL when no server answers', async () => {
    const port = await deadPort();
    const opening = openChromaVectorStore({ url: `http://127.0.0.1:${port}`, embedder: TEST_EMBEDDER });
    await expect(opening).rejects.toThrow(ChromaUnreachableError);
    await expect(openChromaVectorStore({ url: `http://127.0.0.1:${port}`, embedder: TEST_EMBEDDER })).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${port}.*CHROMA_URL`),
    );
    await expect(openChromaVectorStore({ url: 'localhost:8000', embedder: TEST_EMBEDDER })).rejects.toThrow(
      /CHROMA_URL must be an http/,
    );
  });

  it('rejects reads and writes while the server is down or hung, pings false, and works again after', async () => {
    const relay = new Relay(url);
    await relay.up();
    const store = await openChromaVectorStore({
      url: relay.url,
      collection: newCollection(),
      embedder: TEST_EMBEDDER,
      timeoutMs: 1_500,
    });
    try {
      await store.upsert(DOCS);
      await relay.down();
      await expect(store.upsert(DOCS)).rejects.toThrow(/cannot connect to Chroma.*CHROMA_URL/);
      await expect(store.query({ embedding: unitAt(0) })).rejects.toThrow(ChromaUnreachableError);
      expect(await store.ping()).toBe(false);

      await relay.up();
      relay.stall();
      await expect(store.count()).rejects.toThrow(/did not answer within 1500 ms \(CHROMA_URL\)/);

      await relay.down();
      await relay.up();
      expect(await store.ping()).toBe(true);
      expect(await store.count()).toBe(6);
    } finally {
      await store.close();
      await relay.down();
    }
  });
});
