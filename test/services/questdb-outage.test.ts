// QuestDB down under a running sink: the timeseries sink retries with backoff until the server
// is back, and every row lands once (nothing dropped, nothing doubled). Real QuestDB, with a
// TCP relay in front of it that is cut for a few seconds. Run by `npm run test:services`.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import { timeseries } from '../../operators/sinks/timeseries.js';
import { openQuestDbStore } from '../../storage/questdb-store.js';
import { AAPL, MSFT } from '../../storage/timeseries-store.contract.js';
import { QUESTDB_PG, QUESTDB_URL } from '../support/service-addresses.js';
import { Relay } from '../tcp-relay.js';

const prefix = `outage${Date.now().toString(36)}_`;

afterAll(async () => {
  const client = new pg.Client({ connectionString: QUESTDB_PG });
  await client.connect();
  for (const table of ['bars', 'predictions']) await client.query(`DROP TABLE IF EXISTS "${prefix}${table}"`);
  await client.end();
});

describe('QuestDB outage under the timeseries sink', () => {
  it('retries while QuestDB is unreachable and stores every bar once when it is back', async () => {
    const relay = new Relay(new URL(QUESTDB_URL));
    await relay.up();
    const store = await openQuestDbStore({
      url: relay.url,
      pg: QUESTDB_PG,
      tablePrefix: prefix,
      writeTimeoutMs: 2_000,
    });
    try {
      const d = await TestDriver.forOperator(timeseries({ store, table: 'bars' }));
      await d.pipe('input', AAPL);
      await d.run();

      await relay.down();
      const outageMs = 3_000;
      const back = sleep(outageMs).then(() => relay.up());
      const started = Date.now();
      await d.pipe('input', [...MSFT, ...AAPL]); // MSFT is new; AAPL again is a re-delivery
      await d.run();
      await back;

      expect(Date.now() - started).toBeGreaterThanOrEqual(outageMs);
      const failures = d.logs().filter((l) => l.includes(`QuestDB at ${relay.url}`));
      expect(failures.length).toBeGreaterThan(0);
      expect(await store.counts()).toEqual({ bars: 13, predictions: 0, scores: 0, symbols: 2 });
      expect(await store.bars('MSFT')).toEqual(MSFT);
      expect(await store.bars('AAPL')).toEqual(AAPL);
    } finally {
      await store.close();
      await relay.down();
    }
  });
});
