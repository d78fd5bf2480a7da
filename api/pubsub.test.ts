// watchSymbols: batching per turn of the event loop, the bounded buffer, and clean stops.
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLiveHub } from '../engine/index.js';
import type { Bar } from '../schemas/index.js';
import { hubFeed, watchedSymbols, watchSymbols } from './pubsub.js';

const bar = (symbol: string, ts: number): Bar => ({
  symbol,
  ts,
  interval: '1d',
  open: 1,
  high: 1,
  low: 1,
  close: 1,
  volume: 1,
  quotes: 1,
  source: 'simulator',
});

describe('watchSymbols', () => {
  it('batches what arrives in one turn, for its symbols only', async () => {
    const hub = createLiveHub();
    const feed = hubFeed(hub);
    const it = watchSymbols(feed, 'bars', ['A', 'B']);
    for (const s of ['A', 'C', 'B']) hub.publish(`bars:${s}`, bar(s, 1));
    const first = await it.next();
    expect((first.value as Bar[]).map((b) => b.symbol)).toEqual(['A', 'B']);
    hub.publish('bars:B', bar('B', 2));
    expect(((await it.next()).value as Bar[]).map((b) => b.ts)).toEqual([2]);
    await it.return?.();
  });

  it('keeps the newest 64 undelivered batches of a slow reader', async () => {
    const hub = createLiveHub();
    const it = watchSymbols(hubFeed(hub), 'bars', ['A']);
    for (let ts = 0; ts < 70; ts++) {
      hub.publish('bars:A', bar('A', ts));
      await tick();
    }
    expect((await it.next()).value?.[0]?.ts).toBe(6);
    await it.return?.();
  });

  it('return() unsubscribes at once and ends a waiting read', async () => {
    const hub = createLiveHub();
    const feed = hubFeed(hub);
    const it = watchSymbols(feed, 'bars', ['A', 'B']);
    expect(feed.listeners('bars', 'A')).toBe(1);
    const waiting = it.next();
    await it.return?.();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(feed.listeners('bars', 'A') + feed.listeners('bars', 'B')).toBe(0);
    hub.publish('bars:A', bar('A', 1));
    expect((await it.next()).done).toBe(true);
  });
});

describe('watchedSymbols', () => {
  it('is the symbols with a subscriber on their predictions or bars channel', () => {
    const hub = createLiveHub();
    const feed = hubFeed(hub);
    const a = feed.subscribe('predictions', 'AAPL', () => {});
    const b = feed.subscribe('bars', 'MSFT', () => {});
    const all = feed.subscribeAll('predictions', () => {});
    expect([...watchedSymbols(hub)].sort()).toEqual(['AAPL', 'MSFT']);
    a();
    b();
    all();
    expect(watchedSymbols(hub).size).toBe(0);
  });
});
