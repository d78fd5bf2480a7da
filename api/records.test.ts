// A public topic on GraphQL with no resolver written for it: the SMA-cross example's `signals`,
// declared `public` with its table, run by the app as `tickcast run --pipeline sma-cross` runs it
// (real bundled prices into a real DuckDB file), queried over HTTP and subscribed over graphql-ws.
//
// Phase 1 replays two tickers to the end (stored signals to query); phase 2 reopens the database
// and replays them again at a pace while the API serves, so the subscription sees signals live.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type App, buildApp, serve, startPipeline } from '../cli/app.js';
import { loadConfig } from '../cli/config.js';
import type { RunningPipeline } from '../engine/index.js';
import { signalsTopic } from '../pipelines/sma-cross.js';
import { type SmaSignal, schemas } from '../schemas/index.js';
import { schema, schemaFor } from './schema/index.js';
import { RecordSchemaError } from './schema/records.js';
import type { ApiServer } from './server.js';

const ROOT = new URL('..', import.meta.url).pathname;
const TICKERS = ['KO', 'XOM'];
const dir = mkdtempSync(join(tmpdir(), 'tickcast-records-'));

let app: App;
let running: RunningPipeline;
let api: ApiServer;
/** Signals of KO as phase 1 stored them. */
let stored: SmaSignal[];

interface GqlResponse<T> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<GqlResponse<T>> {
  const res = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GqlResponse<T>;
}

beforeAll(async () => {
  mkdirSync(join(dir, 'csv'));
  for (const t of TICKERS) {
    copyFileSync(join(ROOT, 'data/sp500-daily', `${t}_data.csv`), join(dir, 'csv', `${t}_data.csv`));
  }
  const config = loadConfig({
    TICKCAST_PIPELINE: 'sma-cross',
    TICKCAST_DATA_DIR: join(dir, 'csv'),
    TICKCAST_DB: join(dir, 'store.duckdb'),
    TICKCAST_MODEL: 'persistence',
    TICKCAST_EXPLAIN: 'off',
    TICKCAST_HOST: '127.0.0.1',
    TICKCAST_PORT: '0',
  });
  const first = await buildApp(config);
  await (await startPipeline(first)).done;
  stored = await first.store.records(signalsTopic, { symbol: 'KO' });
  await first.store.close();
  // Phase 2: the same days again, one per 4 ms, served as `tickcast run` serves them.
  app = await buildApp(config, { paceMs: 4 });
  running = await startPipeline(app);
  api = await serve(app, running);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await running?.stop();
  await app?.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const SIGNALS = `query($symbol: String!, $from: DateTime, $to: DateTime, $last: Int) {
  signals(symbol: $symbol, from: $from, to: $to, last: $last) { symbol ts direction close fast slow fastBars slowBars }
}`;

describe('a public topic (signals of the sma-cross pipeline)', () => {
  it('is queryable by key and time range, as stored, oldest first', async () => {
    expect(stored.length).toBeGreaterThan(3);
    const all = await gql<{ signals: unknown[] }>(SIGNALS, { symbol: 'KO', last: 1000 });
    const iso = (s: SmaSignal) => ({ ...s, ts: new Date(s.ts).toISOString() });
    expect(all.data?.signals).toEqual(stored.map(iso));
    // [from, to) and the newest `last` of it.
    const from = new Date(stored[1]!.ts).toISOString();
    const to = new Date(stored[3]!.ts).toISOString();
    const some = await gql<{ signals: unknown[] }>(SIGNALS, { symbol: 'KO', from, to, last: 1 });
    expect(some.data?.signals).toEqual([iso(stored[2]!)]);
    const none = await gql<{ signals: unknown[] }>(SIGNALS, { symbol: 'NOPE' });
    expect(none.data?.signals).toEqual([]);
  });

  it('answers bad arguments with coded GraphQL errors', async () => {
    const code = async (variables: Record<string, unknown>) =>
      (await gql(SIGNALS, { symbol: 'KO', ...variables })).errors?.map((e) => e.extensions?.code);
    expect(await code({ last: 5000 })).toEqual(['BAD_ARGUMENT']);
    expect(await code({ last: -1 })).toEqual(['BAD_ARGUMENT']);
    expect(await code({ from: '2016-02-01', to: '2016-01-01' })).toEqual(['BAD_DATE']);
    expect(await code({ from: '2016-02-30' })).toEqual(['BAD_DATE']);
  });

  it('is subscribable: signals arrive live from the pipeline, only of the symbols asked for', async () => {
    const client = createClient({
      url: `${api.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    try {
      const updates = client.iterate<{ signals: Array<{ symbol: string; direction: string; ts: string }> }>({
        query: 'subscription { signals(symbol: ["KO"]) { symbol direction ts } }',
      });
      const { value } = await updates.next();
      const batch = value?.data?.signals ?? [];
      expect(batch.length).toBeGreaterThan(0);
      for (const s of batch) {
        expect(s.symbol).toBe('KO');
        // Each one is a signal the pipeline stores too (phase 1 stored the same days).
        expect(stored.map((x) => new Date(x.ts).toISOString())).toContain(s.ts);
      }
      await updates.return?.();
      const bad = client.iterate({ query: 'subscription { signals(symbol: []) { symbol } }' });
      const { value: refused } = await bad.next();
      expect(refused?.errors?.map((e: { extensions?: { code?: unknown } }) => e.extensions?.code)).toEqual([
        'BAD_ARGUMENT',
      ]);
    } finally {
      await client.dispose();
    }
  }, 30_000);
});

describe('generated types at start-up', () => {
  it('refuses a public topic whose field or type is already in the schema', () => {
    const quotes = { ...signalsTopic, name: 'quotes' };
    expect(() => schemaFor([quotes])).toThrow(RecordSchemaError);
    expect(() => schemaFor([quotes])).toThrow('public topic quotes: Subscription.quotes already exists in the schema');
    expect(() => schemaFor([{ ...signalsTopic, name: 'symbols' }])).toThrow(
      'public topic symbols: Query.symbols already',
    );
    const predictions = {
      name: 'predictions-public',
      schema: schemas.Prediction,
      table: { key: ['symbol'], time: 'ts' },
    };
    expect(() => schemaFor([predictions])).toThrow(
      'public topic predictions-public: its GraphQL type Prediction (from its Avro schema) is already in the schema',
    );
    // The fixed schema stays as it was.
    expect(schema.getQueryType()?.getFields().signals).toBeUndefined();
  });
});
