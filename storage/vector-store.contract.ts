// The behaviour every VectorStore must have, as a vitest suite. An implementation's test file
// calls vectorStoreContract('name', newPlace), where newPlace() gives a fresh, empty place to keep
// documents (a database file, a Chroma collection) that can be opened, closed and opened again.
//
// The vectors are built with known similarities: in a 4-dimensional space, unitAt(θ) is
// (cos θ, sin θ, 0, 0), so its cosine similarity to unitAt(0) is exactly cos θ, and the ranking
// of every query is known in advance.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EmbedderInfo } from '../models/embedder.js';
import { type EmbeddedDocument, EmbedderMismatchError, type VectorStore } from './vector-store.js';

export const TEST_EMBEDDER: EmbedderInfo = { id: 'test:plane-4d', dimension: 4 };

/** Where a store keeps its documents: every open() of one place sees the same documents. */
export interface VectorStorePlace {
  open(embedder: EmbedderInfo): Promise<VectorStore>;
}

/** A unit vector at `degrees` from (1, 0, 0, 0) in the plane of the first two axes. */
export function unitAt(degrees: number): number[] {
  const r = (degrees * Math.PI) / 180;
  return [Math.cos(r), Math.sin(r), 0, 0];
}

/** Epoch ms of an ISO time (UTC). */
export function at(iso: string): number {
  return Date.parse(iso);
}

function doc(
  id: string,
  kind: 'news' | 'facts',
  symbol: string,
  ts: string,
  degrees: number,
  text: string,
): EmbeddedDocument {
  return {
    id,
    kind,
    symbol,
    ts: at(ts),
    text,
    payload: JSON.stringify({ id, symbol, text }),
    embedding: unitAt(degrees),
    embedder: TEST_EMBEDDER.id,
  };
}

/** Six documents at 0°, 30°, 60°, 90°, 120° and 180° from the query unitAt(0), in that order. */
export const DOCS: readonly EmbeddedDocument[] = [
  doc('news:aapl:1', 'news', 'AAPL', '2018-01-02T14:30:05.123Z', 0, 'Apple shares rise on strong iPhone X demand'),
  doc('news:aapl:2', 'news', 'AAPL', '2018-01-03T15:00:00Z', 30, 'Apple supplier cuts forecast'),
  doc('news:msft:1', 'news', 'MSFT', '2018-01-03T16:45:00Z', 60, 'Microsoft cloud revenue beats estimates'),
  doc('facts:aapl:1', 'facts', 'AAPL', '2018-01-04T21:00:00Z', 90, 'AAPL 2018-01-04: close 173.03, 5-day return +0.4%'),
  doc('facts:msft:1', 'facts', 'MSFT', '2018-01-04T21:00:00Z', 120, 'MSFT 2018-01-04: close 87.11, 5-day return +1.3%'),
  doc('news:nflx:1', 'news', 'NFLX', '2018-01-05T13:10:00Z', 180, 'Netflix – “a record quarter” for subscribers ✓'),
];

const ids = (hits: readonly { id: string }[]): string[] => hits.map((h) => h.id);
/** The stored part of a document (what get and query give back). */
const stored = ({ embedding: _e, embedder: _m, ...rest }: EmbeddedDocument) => rest;
const Q = unitAt(0);

export function vectorStoreContract(name: string, newPlace: () => VectorStorePlace | Promise<VectorStorePlace>): void {
  describe(`VectorStore contract: ${name}`, () => {
    let place: VectorStorePlace;
    let store: VectorStore;

    beforeEach(async () => {
      place = await newPlace();
      store = await place.open(TEST_EMBEDDER);
    });

    afterEach(async () => {
      await store.close();
    });

    describe('empty store', () => {
      it('finds nothing, counts nothing, gets nothing', async () => {
        expect(await store.query({ embedding: Q })).toEqual([]);
        expect(await store.query({ embedding: Q, kind: 'news', symbols: ['AAPL'], from: 0, to: Date.now() })).toEqual(
          [],
        );
        expect(await store.count()).toBe(0);
        expect(await store.count('news')).toBe(0);
        expect(await store.get(['news:aapl:1'])).toEqual([]);
        expect(await store.get([])).toEqual([]);
      });

      it('accepts an empty batch', async () => {
        await store.upsert([]);
        expect(await store.count()).toBe(0);
      });
    });

    describe('writes', () => {
      it('round-trips text, payload and ts exactly; get keeps the order asked and leaves out missing ids', async () => {
        await store.upsert(DOCS);
        const asked = ['news:nflx:1', 'no-such-id', 'news:aapl:1', 'facts:msft:1'];
        expect(await store.get(asked)).toEqual([stored(DOCS[5]!), stored(DOCS[0]!), stored(DOCS[4]!)]);
        expect(await store.get(['no-such-id'])).toEqual([]);
      });

      it('takes Float32Array vectors as well as arrays', async () => {
        await store.upsert([{ ...DOCS[1]!, embedding: Float32Array.from(unitAt(30)) }]);
        const [hit] = await store.query({ embedding: Float32Array.from(Q) });
        expect(hit?.id).toBe('news:aapl:2');
        expect(hit?.score).toBeCloseTo(Math.cos(Math.PI / 6), 4);
      });

      it('is idempotent on id: a replay leaves the same documents, and the latest write wins', async () => {
        await store.upsert(DOCS);
        await store.upsert(DOCS);
        expect(await store.count()).toBe(6);
        const revised = { ...DOCS[0]!, text: 'Apple shares rise 2% on iPhone X demand', embedding: unitAt(150) };
        await store.upsert([revised]);
        expect(await store.count()).toBe(6);
        expect(await store.get([revised.id])).toEqual([stored(revised)]);
        // The vector was replaced too: the document now ranks by its new one.
        const hits = await store.query({ embedding: Q });
        expect(ids(hits).at(-2)).toBe(revised.id);
      });

      it('keeps the last of two documents with the same id inside one batch', async () => {
        const first = DOCS[2]!;
        const second = { ...first, text: 'Microsoft cloud revenue beats estimates (updated)' };
        await store.upsert([first, DOCS[3]!, second]);
        expect(await store.count()).toBe(2);
        expect(await store.get([first.id])).toEqual([stored(second)]);
      });

      it('lets concurrent upserts land in call order', async () => {
        const texts = ['v1', 'v2', 'v3', 'v4', 'v5'];
        await Promise.all(texts.map((text) => store.upsert([{ ...DOCS[0]!, text }, DOCS[1]!])));
        expect(await store.count()).toBe(2);
        expect((await store.get([DOCS[0]!.id]))[0]?.text).toBe('v5');
      });

      it('stores a batch of thousands (larger than a backend batch limit) in one call', async () => {
        const many = Array.from({ length: 6_000 }, (_, i) => ({
          ...DOCS[i % DOCS.length]!,
          id: `bulk:${i}`,
          ts: at('2018-01-02T00:00:00Z') + i * 60_000,
          embedding: unitAt(i % 360),
        }));
        await store.upsert(many);
        expect(await store.count()).toBe(6_000);
        expect(await store.count('facts')).toBe(2_000);
        expect(await store.get(['bulk:5999', 'bulk:0'])).toEqual([stored(many[5999]!), stored(many[0]!)]);
      });

      it('counts the documents of each kind', async () => {
        await store.upsert(DOCS);
        expect(await store.count()).toBe(6);
        expect(await store.count('news')).toBe(4);
        expect(await store.count('facts')).toBe(2);
      });
    });

    describe('query', () => {
      beforeEach(async () => {
        await store.upsert([...DOCS].reverse());
      });

      it('ranks by cosine similarity, best first, with the similarity as score', async () => {
        const hits = await store.query({ embedding: Q });
        expect(ids(hits)).toEqual(ids(DOCS));
        const expected = [0, 30, 60, 90, 120, 180].map((d) => Math.cos((d * Math.PI) / 180));
        hits.forEach((hit, i) => {
          expect(hit.score).toBeCloseTo(expected[i]!, 4);
        });
        expect(hits[0]).toMatchObject(stored(DOCS[0]!));
        // From the other side of the circle the order reverses.
        expect(ids(await store.query({ embedding: unitAt(180) }))).toEqual(ids(DOCS).reverse());
      });

      it('keeps the best `limit` hits; 10 by default', async () => {
        expect(ids(await store.query({ embedding: Q, limit: 2 }))).toEqual(['news:aapl:1', 'news:aapl:2']);
        expect(await store.query({ embedding: Q, limit: 0 })).toEqual([]);
        await store.upsert(
          Array.from({ length: 12 }, (_, i) => ({ ...DOCS[5]!, id: `more:${i}`, embedding: unitAt(170) })),
        );
        expect(await store.query({ embedding: Q })).toHaveLength(10);
      });

      it('filters by kind', async () => {
        expect(ids(await store.query({ embedding: Q, kind: 'facts' }))).toEqual(['facts:aapl:1', 'facts:msft:1']);
        expect(ids(await store.query({ embedding: Q, kind: 'news', limit: 3 }))).toEqual([
          'news:aapl:1',
          'news:aapl:2',
          'news:msft:1',
        ]);
      });

      it('filters by symbols; an empty list matches nothing', async () => {
        expect(ids(await store.query({ embedding: Q, symbols: ['MSFT'] }))).toEqual(['news:msft:1', 'facts:msft:1']);
        expect(ids(await store.query({ embedding: Q, symbols: ['NFLX', 'MSFT', 'TSLA'] }))).toEqual([
          'news:msft:1',
          'facts:msft:1',
          'news:nflx:1',
        ]);
        expect(await store.query({ embedding: Q, symbols: ['TSLA'] })).toEqual([]);
        expect(await store.query({ embedding: Q, symbols: [] })).toEqual([]);
      });

      it('reads ts in [from, to): a document at exactly `to` is not returned (no look-ahead)', async () => {
        const facts = at('2018-01-04T21:00:00Z');
        // Asked as of the fact sheets' time, they are not known yet.
        expect(ids(await store.query({ embedding: Q, to: facts }))).toEqual([
          'news:aapl:1',
          'news:aapl:2',
          'news:msft:1',
        ]);
        expect(ids(await store.query({ embedding: Q, to: facts + 1, kind: 'facts' }))).toEqual([
          'facts:aapl:1',
          'facts:msft:1',
        ]);
        // from is included, to the millisecond.
        expect(ids(await store.query({ embedding: Q, from: at('2018-01-02T14:30:05.123Z'), to: facts }))).toEqual([
          'news:aapl:1',
          'news:aapl:2',
          'news:msft:1',
        ]);
        expect(ids(await store.query({ embedding: Q, from: at('2018-01-02T14:30:05.124Z'), to: facts }))).toEqual([
          'news:aapl:2',
          'news:msft:1',
        ]);
        expect(ids(await store.query({ embedding: Q, from: at('2018-01-05T00:00:00Z') }))).toEqual(['news:nflx:1']);
        expect(await store.query({ embedding: Q, from: facts, to: facts })).toEqual([]);
      });

      it('combines every filter', async () => {
        const hits = await store.query({
          embedding: unitAt(180),
          kind: 'news',
          symbols: ['AAPL', 'MSFT'],
          from: at('2018-01-03T00:00:00Z'),
          to: at('2018-01-05T00:00:00Z'),
          limit: 1,
        });
        expect(ids(hits)).toEqual(['news:msft:1']);
        expect(hits[0]?.score).toBeCloseTo(Math.cos((120 * Math.PI) / 180), 4);
      });

      it.each(["O'X", "AAPL' OR '1'='1", "'; DROP TABLE documents; --", '$in', '%', ''])(
        'treats symbol %j like any other: no hits, no error',
        async (symbol) => {
          expect(await store.query({ embedding: Q, symbols: [symbol] })).toEqual([]);
          expect(ids(await store.query({ embedding: Q, symbols: [symbol, 'NFLX'] }))).toEqual(['news:nflx:1']);
          expect(await store.get([symbol])).toEqual([]);
          expect(await store.count()).toBe(6);
        },
      );

      it('stores and finds a document whose symbol and id have quotes in them', async () => {
        const odd = { ...DOCS[0]!, id: "news:o'x:1", symbol: "O'X" };
        await store.upsert([odd]);
        expect(ids(await store.query({ embedding: Q, symbols: ["O'X"] }))).toEqual([odd.id]);
        expect(await store.get([odd.id])).toEqual([stored(odd)]);
      });
    });

    describe('refusals', () => {
      it('rejects a vector of another length, and keeps none of its batch', async () => {
        const short = { ...DOCS[1]!, embedding: [1, 0, 0] };
        await expect(store.upsert([DOCS[0]!, short])).rejects.toThrow(RangeError);
        await expect(store.upsert([DOCS[0]!, short])).rejects.toThrow(/news:aapl:2.*3 numbers.*4/);
        expect(await store.count()).toBe(0);
        await expect(store.query({ embedding: [1, 0, 0, 0, 0] })).rejects.toThrow(RangeError);
        // The store keeps working after a refused batch.
        await store.upsert(DOCS);
        expect(await store.count()).toBe(6);
      });

      it('rejects a vector with a number that is not finite', async () => {
        await expect(store.upsert([{ ...DOCS[0]!, embedding: [Number.NaN, 0, 0, 1] }])).rejects.toThrow(RangeError);
        await expect(store.query({ embedding: [0, Number.POSITIVE_INFINITY, 0, 0] })).rejects.toThrow(RangeError);
        expect(await store.count()).toBe(0);
      });

      it('rejects a batch tagged with another embedder, and keeps none of it', async () => {
        const foreign = { ...DOCS[1]!, embedder: 'test:other-4d' };
        const err = await store.upsert([DOCS[0]!, foreign]).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(EmbedderMismatchError);
        expect((err as Error).message).toMatch(/test:other-4d/);
        expect(await store.count()).toBe(0);
      });

      it('rejects a bad kind, ts, limit or time bound', async () => {
        const badKind = { ...DOCS[0]!, kind: 'tweets' } as unknown as EmbeddedDocument;
        await expect(store.upsert([badKind])).rejects.toThrow(RangeError);
        await expect(store.upsert([{ ...DOCS[0]!, ts: 1.5 }])).rejects.toThrow(RangeError);
        await expect(store.query({ embedding: Q, limit: -1 })).rejects.toThrow(RangeError);
        await expect(store.query({ embedding: Q, limit: 2.5 })).rejects.toThrow(RangeError);
        await expect(store.query({ embedding: Q, to: Number.NaN })).rejects.toThrow(RangeError);
        expect(await store.count()).toBe(0);
      });
    });

    describe('lifecycle', () => {
      it('says what it is and which embedder it holds', () => {
        expect(store.kind).toMatch(/\w+/);
        expect(store.embedder).toEqual(TEST_EMBEDDER);
      });

      it('keeps the documents across close and reopen', async () => {
        await store.upsert(DOCS);
        await store.close();
        store = await place.open(TEST_EMBEDDER);
        expect(await store.count()).toBe(6);
        expect(ids(await store.query({ embedding: Q, limit: 1 }))).toEqual(['news:aapl:1']);
        // Replays after a reopen still replace.
        await store.upsert(DOCS);
        expect(await store.count()).toBe(6);
      });

      it('refuses to reopen with another embedder, and opens again with its own', async () => {
        await store.upsert(DOCS);
        await store.close();
        await expect(place.open({ id: 'test:other-4d', dimension: 4 })).rejects.toThrow(EmbedderMismatchError);
        await expect(place.open({ id: TEST_EMBEDDER.id, dimension: 8 })).rejects.toThrow(EmbedderMismatchError);
        await expect(place.open({ id: 'test:other-4d', dimension: 4 })).rejects.toThrow(/test:plane-4d.*test:other-4d/);
        store = await place.open(TEST_EMBEDDER);
        expect(await store.count()).toBe(6);
      });

      it('answers ping while open and not after close; closing twice is fine', async () => {
        expect(await store.ping()).toBe(true);
        await store.close();
        expect(await store.ping()).toBe(false);
        await store.close();
      });
    });
  });
}
