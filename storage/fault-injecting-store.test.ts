import { describe, expect, it } from 'vitest';
import { openDuckDbStore } from './duckdb-store.js';
import { InjectedFault, type StoreFault, withStoreFaults } from './fault-injecting-store.js';
import {
  AAPL,
  PREDICTIONS,
  SCORES,
  SIGNAL_ROWS,
  SIGNALS,
  timeSeriesStoreContract,
} from './timeseries-store.contract.js';

const window = (atMs: number, forMs: number): StoreFault => ({ kind: 'store-writes', atMs, forMs });

// Outside its windows the wrapper is the store: the whole contract passes through it.
timeSeriesStoreContract('duckdb behind fault injection, no window open', async () =>
  withStoreFaults(await openDuckDbStore({ path: ':memory:' }), [window(1e12, 1000)]),
);

describe('withStoreFaults (TICKCAST_FAULTS, tests and soaks only)', () => {
  it('returns the store itself when there are no faults', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    try {
      expect(withStoreFaults(store, [])).toBe(store);
    } finally {
      await store.close();
    }
  });

  it('fails every kind of write inside a window, and only there; reads and ping keep working', async () => {
    let t = 0;
    const inner = await openDuckDbStore({ path: ':memory:' });
    const store = withStoreFaults(inner, [window(60_000, 20_000)], { origin: 0, now: () => t });
    try {
      t = 59_999;
      await store.upsertBars(AAPL.slice(0, 1));
      t = 60_000;
      await expect(store.upsertBars(AAPL.slice(1, 2))).rejects.toThrow(InjectedFault);
      await expect(store.upsertPredictions(PREDICTIONS)).rejects.toThrow(
        /upsertPredictions failed.*store-writes@60s\+20s/,
      );
      await expect(store.upsertScores(SCORES)).rejects.toThrow(InjectedFault);
      await expect(store.upsertRecords(SIGNALS, SIGNAL_ROWS)).rejects.toThrow(InjectedFault);
      // The store still answers: /healthz says degraded (a sink retrying), not down.
      expect(await store.ping()).toBe(true);
      expect(await store.bars('AAPL')).toEqual(AAPL.slice(0, 1));
      expect((await store.counts()).predictions).toBe(0);
      t = 79_999;
      await expect(store.upsertBars(AAPL.slice(1, 2))).rejects.toThrow(InjectedFault);
      t = 80_000;
      // The retried write lands once the window has closed.
      await store.upsertBars(AAPL.slice(1, 2));
      await store.upsertPredictions(PREDICTIONS);
      expect(await store.bars('AAPL')).toEqual(AAPL.slice(0, 2));
      expect((await store.counts()).predictions).toBe(PREDICTIONS.length);
      expect(store.kind).toBe(inner.kind);
    } finally {
      await store.close();
    }
  });

  it('counts from the process start by default, and handles several windows', async () => {
    let t = performance.timeOrigin;
    const inner = await openDuckDbStore({ path: ':memory:' });
    const store = withStoreFaults(inner, [window(1000, 500), window(5000, 1000)], { now: () => t });
    try {
      t = performance.timeOrigin + 1200;
      await expect(store.upsertBars(AAPL)).rejects.toThrow(InjectedFault);
      t = performance.timeOrigin + 3000;
      await store.upsertBars(AAPL.slice(0, 1));
      t = performance.timeOrigin + 5500;
      await expect(store.upsertBars(AAPL)).rejects.toThrow(InjectedFault);
      t = performance.timeOrigin + 6000;
      await store.upsertBars(AAPL);
      expect(await store.bars('AAPL')).toEqual(AAPL);
    } finally {
      await store.close();
    }
  });

  it('says when each window opens and closes', async () => {
    const lines: string[] = [];
    const inner = await openDuckDbStore({ path: ':memory:' });
    const origin = Date.now();
    const store = withStoreFaults(inner, [window(20, 30), window(-1000, 10)], { origin, log: (l) => lines.push(l) });
    try {
      await expect
        .poll(() => lines, { timeout: 5000 })
        .toEqual([
          'fault injection: store writes fail for 0s (TICKCAST_FAULTS)',
          'fault injection: store writes work again (TICKCAST_FAULTS)',
        ]);
    } finally {
      await store.close();
    }
  });
});
