// The live source's state in the API: /healthz is degraded while a Yahoo breaker is open, GraphQL
// `marketData` names the source, its state and breakers, and /metrics carries the yahoo series.
// Against the Yahoo fixture server (recorded real responses, a fault injected), the real client.
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLiveHub, type PipelineDescription, PipelineMetrics, TestDriver } from '../engine/index.js';
import { createYahooFeed } from '../operators/sources/yahoo.js';
import { createYahooClient } from '../operators/sources/yahoo-client.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import { startYahooFixtureServer, type YahooFixtureServer } from '../test/support/yahoo-fixture-server.js';
import { type ApiServer, startServer } from './server.js';

let yahooServer: YahooFixtureServer;
let api: ApiServer;
let store: TimeSeriesStore;
beforeEach(async () => {
  yahooServer = await startYahooFixtureServer();
  store = await openDuckDbStore({ path: ':memory:' });
});
afterEach(async () => {
  await api?.close();
  await store.close();
  await yahooServer.close();
});

const graphql = async (query: string) =>
  (await (
    await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    })
  ).json()) as { data: { marketData: Record<string, unknown> } };

describe('market data in the API', () => {
  it('healthz degraded while a breaker is open, marketData and /metrics say why; ok again after recovery', async () => {
    const client = createYahooClient({
      baseUrl: yahooServer.url,
      requestsPerMinute: 0,
      retries: 0,
      breakerThreshold: 1,
      breakerHalfOpenAfterMs: 50,
      log: () => {},
    });
    const registry = new Registry();
    const feed = createYahooFeed({ client, symbols: ['AAPL', 'MSFT'], pollMs: 60_000, registry });
    const description: PipelineDescription = { name: 'test', nodes: [], topics: [], edges: [] } as never;
    api = await startServer({
      running: { pipeline: { describe: () => description }, metrics: new PipelineMetrics('test') },
      store,
      hub: createLiveHub(),
      host: '127.0.0.1',
      port: 0,
      marketData: feed.status,
      registries: [registry],
    });
    const healthz = async () => (await (await fetch(`${api.url}/healthz`)).json()) as Record<string, unknown>;
    expect(await healthz()).toMatchObject({ status: 'ok', marketData: { source: 'yahoo', state: 'starting' } });

    yahooServer.inject({ endpoint: 'quote', times: Infinity, fault: { kind: 'status', status: 503 } });
    expect((await client.quotes(['AAPL'])).failed).toHaveLength(1);
    const degraded = await healthz();
    expect(degraded.status).toBe('degraded');
    expect(degraded.marketData).toMatchObject({ state: 'degraded' });
    const { data } = await graphql(
      '{ marketData { source state marketOpen symbols staleSymbols breakers { endpoint state } } }',
    );
    expect(data.marketData).toMatchObject({ source: 'yahoo', state: 'degraded', symbols: 2, staleSymbols: 0 });
    expect(data.marketData.breakers).toContainEqual({ endpoint: 'quote', state: 'open' });
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(/tickcast_yahoo_breaker_state\{endpoint="quote"\} 2/);
    expect(metrics).toMatch(/tickcast_yahoo_requests_total\{endpoint="quote",status="503"\} 1/);

    yahooServer.clearFaults();
    // Calls fail fast until the breaker's half-open delay has passed; then the probe closes it.
    await vi.waitFor(async () => expect((await client.quotes(['AAPL'])).quotes.size).toBe(1), {
      timeout: 5000,
      interval: 20,
    });
    expect((await healthz()).status).toBe('ok');
  });

  it('marketData.stalest(limit): the symbols with the oldest data, oldest first, never-answered first; bounded', async () => {
    // Tuesday 2025-02-18, market open: a cycle a minute; the source stops after three.
    let t = Date.parse('2025-02-18T15:00:00Z');
    const stop = new AbortController();
    let cycles = 0;
    const clock = {
      now: () => t,
      sleep: async (ms: number) => {
        t += ms;
        cycles++;
        if (cycles === 1) yahooServer.inject({ endpoint: 'quote', fault: { kind: 'dropSymbols', symbols: ['MSFT'] } });
        if (cycles === 2) yahooServer.inject({ endpoint: 'quote', fault: { kind: 'status', status: 503 } });
        if (cycles === 3) stop.abort();
      },
    };
    const client = createYahooClient({ baseUrl: yahooServer.url, requestsPerMinute: 0, retries: 0, log: () => {} });
    const feed = createYahooFeed({ client, symbols: ['AAPL', 'MSFT', 'NONEXIST'], pollMs: 60_000, clock });
    const d = await TestDriver.forOperator(feed.quotes);
    await d.runSource(undefined, { signal: stop.signal });
    const description: PipelineDescription = { name: 'test', nodes: [], topics: [], edges: [] } as never;
    api = await startServer({
      running: { pipeline: { describe: () => description }, metrics: new PipelineMetrics('test') },
      store,
      hub: createLiveHub(),
      host: '127.0.0.1',
      port: 0,
      marketData: feed.status,
    });
    // 15:00 all answered but NONEXIST (unknown to Yahoo); 15:01 MSFT left out; 15:02 the batch failed
    // (all stale); now 15:03.
    const { data } = await graphql('{ marketData { stalest { symbol ageSeconds stale } } }');
    expect(data.marketData.stalest).toEqual([
      { symbol: 'NONEXIST', ageSeconds: null, stale: true },
      { symbol: 'MSFT', ageSeconds: 180, stale: true },
      { symbol: 'AAPL', ageSeconds: 120, stale: true },
    ]);
    const two = await graphql('{ marketData { stalest(limit: 2) { symbol } } }');
    expect(two.data.marketData.stalest).toEqual([{ symbol: 'NONEXIST' }, { symbol: 'MSFT' }]);
    const tooMany = (await graphql('{ marketData { stalest(limit: 21) { symbol } } }')) as unknown as {
      errors: Array<{ extensions: { code: string } }>;
    };
    expect(tooMany.errors[0]!.extensions.code).toBe('BAD_ARGUMENT');
  });
});
