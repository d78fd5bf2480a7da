import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDbStore } from './duckdb-store.js';
import {
  AAPL,
  MSFT,
  PREDICTIONS,
  SCORES,
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

  it('opens a file written before its tables were derived from the schemas (other column order), and keeps it', async () => {
    // The tables as the store created them by hand until then: `interval` before `ts`, scores in
    // their own order, no column for a field added to a schema since.
    const path = newFile();
    await mkdir(dirname(path), { recursive: true });
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    await c.run(`CREATE TABLE bars (symbol VARCHAR NOT NULL, "interval" VARCHAR NOT NULL, ts BIGINT NOT NULL,
      open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL,
      quotes INTEGER NOT NULL, source VARCHAR NOT NULL, batch BIGINT NOT NULL)`);
    await c.run(`CREATE TABLE predictions (id VARCHAR NOT NULL, symbol VARCHAR NOT NULL, ts BIGINT NOT NULL,
      horizon INTEGER NOT NULL, target_ts BIGINT NOT NULL, last_close DOUBLE NOT NULL, predicted_close DOUBLE NOT NULL,
      predicted_return DOUBLE NOT NULL, lower DOUBLE NOT NULL, upper DOUBLE NOT NULL, model VARCHAR NOT NULL,
      model_version VARCHAR NOT NULL, regime VARCHAR NOT NULL, created_at BIGINT NOT NULL, batch BIGINT NOT NULL)`);
    await c.run(`CREATE TABLE scores (id VARCHAR NOT NULL, symbol VARCHAR NOT NULL, ts BIGINT NOT NULL,
      horizon INTEGER NOT NULL, target_ts BIGINT NOT NULL, last_close DOUBLE NOT NULL, predicted_close DOUBLE NOT NULL,
      lower DOUBLE NOT NULL, upper DOUBLE NOT NULL, model VARCHAR NOT NULL, model_version VARCHAR NOT NULL,
      regime VARCHAR NOT NULL, realised_close DOUBLE, batch BIGINT NOT NULL)`);
    const b = AAPL[0]!;
    await c.run(
      `INSERT INTO bars VALUES ('AAPL', '1d', ${b.ts}, ${b.open}, ${b.high}, ${b.low}, ${b.close}, ${b.volume}, ${b.quotes}, '${b.source}', 7)`,
    );
    c.closeSync();
    instance.closeSync();

    const store = await openDuckDbStore({ path });
    try {
      expect(await store.bars('AAPL')).toEqual([b]);
      await store.upsertBars([...AAPL, ...MSFT]);
      await store.upsertPredictions(PREDICTIONS);
      await store.upsertScores(SCORES);
      expect(await store.counts()).toEqual({ bars: 13, predictions: 7, scores: 5, symbols: 2 });
      expect(await store.bars('AAPL')).toEqual(AAPL);
      expect(await store.latestPredictions(['MSFT'])).toEqual([PREDICTIONS[6]]);
      expect(await store.scores('MSFT')).toEqual(SCORES.filter((x) => x.symbol === 'MSFT'));
    } finally {
      await store.close();
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
