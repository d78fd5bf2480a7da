// The TimeSeriesStore contract against a real QuestDB server, plus its faults.
// Plain `npm test` skips the server suites when QuestDB is not running (it says so);
// `npm run test:services` starts QuestDB and sets TICKCAST_SERVICES=1, which turns a
// missing server into a failure instead.
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { QUESTDB_PG, QUESTDB_URL } from '../test/support/service-addresses.js';
import { Relay } from '../test/tcp-relay.js';
import { openQuestDbStore, type QuestDbStoreOptions } from './questdb-store.js';
import { AAPL, MSFT, PREDICTIONS, SCORES, timeSeriesStoreContract } from './timeseries-store.contract.js';

const required = process.env.TICKCAST_SERVICES === '1';

async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('/ping', url), { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

const running = await reachable(QUESTDB_URL);
if (!running) {
  if (required) throw new Error(`QuestDB is not running at ${QUESTDB_URL} (npm run services:up starts it)`);
  console.warn(
    `questdb-store.test: QuestDB not running at ${QUESTDB_URL}: server suites skipped (npm run test:services)`,
  );
}

/** Every test store gets its own tables, dropped at the end. */
const RUN = `t${Date.now().toString(36)}`;
const prefixes: string[] = [];
const newPrefix = (): string => {
  const prefix = `${RUN}_${prefixes.length}_`;
  prefixes.push(prefix);
  return prefix;
};
const open = (extra: Partial<QuestDbStoreOptions> = {}) =>
  openQuestDbStore({ url: QUESTDB_URL, pg: QUESTDB_PG, tablePrefix: newPrefix(), ...extra });

afterAll(async () => {
  if (!running || prefixes.length === 0) return;
  const client = new pg.Client({ connectionString: QUESTDB_PG });
  await client.connect();
  try {
    for (const prefix of prefixes) {
      for (const table of ['bars', 'predictions', 'scores', 'topic_signals', 'topic_test_samples_v1'])
        await client.query(`DROP TABLE IF EXISTS "${prefix}${table}"`);
    }
  } finally {
    await client.end();
  }
});

/** A port on 127.0.0.1 that nothing listens on (taken, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!running)('QuestDB store (server at QUESTDB_URL)', () => {
  timeSeriesStoreContract('questdb', () => open());

  it('keeps the data across close and reopen on the same tables, and replays still replace', async () => {
    const tablePrefix = newPrefix();
    const first = await openQuestDbStore({ url: QUESTDB_URL, pg: QUESTDB_PG, tablePrefix });
    await first.upsertBars([...AAPL, ...MSFT]);
    await first.upsertPredictions(PREDICTIONS);
    await first.close();

    const second = await openQuestDbStore({ url: QUESTDB_URL, pg: QUESTDB_PG, tablePrefix });
    try {
      await second.upsertBars(AAPL);
      expect(await second.counts()).toEqual({ bars: 13, predictions: 7, scores: 0, symbols: 2 });
      expect(await second.latestPredictions(['MSFT'])).toEqual([PREDICTIONS[6]]);
    } finally {
      await second.close();
    }
  });

  it('sees its own writes at once, though a write resolves before QuestDB applies it', async () => {
    // Writes run up to MAX_APPLY_LAG transactions ahead of QuestDB's apply (so it can squash
    // them); a read through the same store waits for them, and close() lets the next reader see them.
    const tablePrefix = newPrefix();
    const writer = await openQuestDbStore({ url: QUESTDB_URL, pg: QUESTDB_PG, tablePrefix });
    // 20 batches of 2,000 symbols each, all at one time: every batch after the first is an
    // out-of-order merge for QuestDB, which takes it a while to apply.
    const batch = (k: number, symbol: string) =>
      Array.from({ length: 2_000 }, (_, i) => ({ ...AAPL[0]!, symbol: `${symbol}${k * 2_000 + i}` }));
    const written = (symbol: string) =>
      Promise.all(Array.from({ length: 20 }, (_, k) => writer.upsertBars(batch(k, symbol))));
    await written('A');
    expect((await writer.counts()).bars).toBe(40_000);
    // Queued when close() is called: close lets them finish, and they resolve.
    const queued = written('B');
    await writer.close();
    await queued;
    const reader = await openQuestDbStore({ url: QUESTDB_URL, pg: QUESTDB_PG, tablePrefix });
    try {
      expect((await reader.counts()).bars).toBe(80_000);
    } finally {
      await reader.close();
    }
  });

  it('opens tables created before they were derived from the schemas, and adds a new nullable field', async () => {
    // The tables as the store created them by hand until then, without any field added since.
    const tablePrefix = newPrefix();
    const client = new pg.Client({ connectionString: QUESTDB_PG });
    await client.connect();
    try {
      const create = (name: string, columns: string, keys: string) =>
        client.query(`CREATE TABLE "${tablePrefix}${name}" (${columns})
          TIMESTAMP(ts) PARTITION BY MONTH WAL DEDUP UPSERT KEYS(${keys})`);
      await create(
        'bars',
        `symbol SYMBOL, "interval" SYMBOL, ts TIMESTAMP, "open" DOUBLE, high DOUBLE, low DOUBLE,
         "close" DOUBLE, volume DOUBLE, quotes INT, source SYMBOL`,
        `ts, symbol, "interval"`,
      );
      await create(
        'predictions',
        `id VARCHAR, symbol SYMBOL, ts TIMESTAMP, horizon INT, target_ts TIMESTAMP, last_close DOUBLE,
         predicted_close DOUBLE, predicted_return DOUBLE, "lower" DOUBLE, "upper" DOUBLE, model SYMBOL,
         model_version VARCHAR, regime SYMBOL, created_at TIMESTAMP`,
        'ts, symbol, horizon',
      );
      await create(
        'scores',
        `id VARCHAR, symbol SYMBOL, ts TIMESTAMP, horizon INT, target_ts TIMESTAMP, last_close DOUBLE,
         predicted_close DOUBLE, "lower" DOUBLE, "upper" DOUBLE, model SYMBOL, model_version VARCHAR,
         regime SYMBOL, realised_close DOUBLE`,
        'ts, symbol, horizon',
      );
    } finally {
      await client.end();
    }
    const store = await openQuestDbStore({ url: QUESTDB_URL, pg: QUESTDB_PG, tablePrefix });
    try {
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

  it('rejects a batch with a time that is not whole epoch ms, and keeps none of it', async () => {
    const store = await open();
    try {
      await expect(store.upsertBars([AAPL[0]!, { ...AAPL[1]!, ts: Number.NaN }])).rejects.toThrow(RangeError);
      expect(await store.counts()).toEqual({ bars: 0, predictions: 0, scores: 0, symbols: 0 });
      await store.upsertBars(AAPL);
      expect(await store.counts()).toMatchObject({ bars: 9 });
    } finally {
      await store.close();
    }
  });

  it('rejects use after close', async () => {
    const store = await open();
    await store.close();
    await expect(store.upsertBars(AAPL)).rejects.toThrow(/closed/);
    await expect(store.bars('AAPL')).rejects.toThrow(/closed/);
  });

  it('fails a write within seconds when QuestDB goes down, and writes again once it is back', async () => {
    const relay = new Relay(new URL(QUESTDB_URL));
    await relay.up();
    const store = await open({ url: relay.url, writeTimeoutMs: 3_000 });
    try {
      await store.upsertBars(AAPL.slice(0, 3));
      await relay.down();
      const started = Date.now();
      await expect(store.upsertBars(MSFT)).rejects.toThrow(new RegExp(`QuestDB at ${relay.url}`));
      expect(Date.now() - started).toBeLessThan(5_000);
      // Back on the same port: the same store writes again, and nothing of the failed batch is doubled.
      await relay.up();
      await store.upsertBars([...AAPL, ...MSFT]);
      expect(await store.counts()).toEqual({ bars: 13, predictions: 0, scores: 0, symbols: 2 });
    } finally {
      await store.close();
      await relay.down();
    }
  });

  it('fails a write within its timeout when QuestDB accepts the connection but never answers', async () => {
    const relay = new Relay(new URL(QUESTDB_URL));
    await relay.up();
    const store = await open({ url: relay.url, writeTimeoutMs: 2_000 });
    try {
      relay.stall();
      const started = Date.now();
      await expect(store.upsertBars(AAPL)).rejects.toThrow(
        /^QuestDB at http:\/\/127\.0\.0\.1:\d+: writing 9 rows to \w+bars (failed|took over)/,
      );
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      await relay.down();
      await store.close();
    }
  });
});

describe('QuestDB store without a server', () => {
  it('fails to open within seconds, naming the address, when nothing listens there', async () => {
    const port = await deadPort();
    const url = `http://127.0.0.1:${port}`;
    const started = Date.now();
    await expect(
      openQuestDbStore({ url, pg: `postgres://admin:quest@127.0.0.1:${port}/qdb`, connectTimeoutMs: 2_000 }),
    ).rejects.toThrow(`QuestDB at ${url}: not reachable`);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('refuses a table prefix that is not a plain identifier', async () => {
    await expect(openQuestDbStore({ url: QUESTDB_URL, pg: QUESTDB_PG, tablePrefix: 'x"; DROP' })).rejects.toThrow(
      RangeError,
    );
  });
});
