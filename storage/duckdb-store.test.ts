import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDbStore } from './duckdb-store.js';
import {
  AAPL,
  MSFT,
  PREDICTIONS,
  SIGNAL_ROWS,
  SIGNALS,
  timeSeriesStoreContract,
  utc,
} from './timeseries-store.contract.js';

let dir: string;
let files = 0;
/** A new database file under a fresh temp directory, in a folder that does not exist yet. */
const newFile = (): string => join(dir, `run-${++files}`, 'data', 'tickcast.duckdb');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tickcast-duckdb-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

timeSeriesStoreContract('duckdb in memory', () => openDuckDbStore({ path: ':memory:' }));
timeSeriesStoreContract('duckdb file', () => openDuckDbStore({ path: newFile() }));

describe('DuckDB store on a file', () => {
  it('creates the parent directories and keeps the data across close and reopen', async () => {
    const path = newFile();
    const first = await openDuckDbStore({ path });
    await first.upsertBars([...AAPL, ...MSFT]);
    await first.upsertPredictions(PREDICTIONS);
    await first.close();
    expect((await stat(path)).isFile()).toBe(true);

    const second = await openDuckDbStore({ path });
    try {
      expect(await second.counts()).toEqual({ bars: 13, predictions: 7, scores: 0, symbols: 2 });
      expect(await second.bars('AAPL')).toEqual(AAPL);
      expect(await second.latestPredictions(['MSFT'])).toEqual([PREDICTIONS[6]]);
    } finally {
      await second.close();
    }
  });

  it('still replaces rows written before a reopen, instead of adding to them', async () => {
    const path = newFile();
    const first = await openDuckDbStore({ path });
    await first.upsertBars(AAPL);
    await first.close();

    const second = await openDuckDbStore({ path });
    try {
      const corrected = { ...AAPL[8]!, close: 177.2 };
      await second.upsertBars([corrected]);
      expect(await second.counts()).toMatchObject({ bars: 9 });
      expect(await second.bars('AAPL', { from: utc('2018-01-12') })).toEqual([corrected]);
    } finally {
      await second.close();
    }
  });

  it('still replaces topic records written before a reopen (their table numbers batches above the stored ones)', async () => {
    const path = newFile();
    const first = await openDuckDbStore({ path });
    // Many batches into the records table, none into the store's own tables.
    for (const row of SIGNAL_ROWS) await first.upsertRecords(SIGNALS, [row]);
    await first.close();

    const second = await openDuckDbStore({ path });
    try {
      const revised = { ...SIGNAL_ROWS[0]!, close: 174.4 };
      await second.upsertRecords(SIGNALS, [revised]);
      expect(await second.records(SIGNALS, { symbol: 'AAPL' })).toEqual([revised, ...SIGNAL_ROWS.slice(1, 3)]);
    } finally {
      await second.close();
    }
  });

  it('refuses to open a file that is already open in this process', async () => {
    const path = newFile();
    const store = await openDuckDbStore({ path });
    try {
      await expect(openDuckDbStore({ path })).rejects.toThrow(/already open/);
    } finally {
      await store.close();
    }
    // Once closed, it opens again.
    const again = await openDuckDbStore({ path });
    await again.close();
  });
});

describe('DuckDB store writes', () => {
  it('rejects a batch with a time that is not whole epoch ms, and keeps none of it', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    try {
      const broken = { ...AAPL[1]!, ts: Number.NaN };
      await expect(store.upsertBars([AAPL[0]!, broken])).rejects.toThrow(RangeError);
      expect(await store.counts()).toEqual({ bars: 0, predictions: 0, scores: 0, symbols: 0 });
      // The store keeps working after a rejected batch.
      await store.upsertBars(AAPL);
      expect(await store.counts()).toMatchObject({ bars: 9 });
    } finally {
      await store.close();
    }
  });

  it('rejects use after close', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    await store.close();
    await expect(store.upsertBars(AAPL)).rejects.toThrow(/closed/);
    await expect(store.bars('AAPL')).rejects.toThrow(/closed/);
  });
});
