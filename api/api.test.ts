// The GraphQL API end to end, as an analyst uses it: real HTTP (fetch), real WebSockets
// (the graphql-ws client), a real pipeline replaying bundled data into a real DuckDB file.
//
// Phase 1 replays three tickers to the end (history for the queries); phase 2 reopens the same
// database and replays it again at a pace, so subscriptions see live predictions and bars.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { earlyAddress, listenEarly } from '../bin/early-listen.js';
import { type App, buildApp, startPipeline } from '../cli/app.js';
import { loadConfig } from '../cli/config.js';
import { createLiveHub, type LiveHub, type RunningPipeline } from '../engine/index.js';
import { ollamaExplainer } from '../explain/ollama-explainer.js';
import { live } from '../operators/sinks/live.js';
import { bundledPublicTopics } from '../pipelines/modules.js';
import { type Prediction, schemas } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { faithfulExplanation } from '../test/support/faithful-model.js';
import { freePort } from '../test/support/free-port.js';
import { type OllamaTestDouble, replyText, startOllamaTestDouble } from '../test/support/ollama-test-double.js';
import { takeEarlyServer } from './early-server.js';
import { hubFeed } from './pubsub.js';
import { shortestFloat32 } from './schema/features.js';
import { printedSchema } from './schema/index.js';
import { type ApiServer, type ServerOptions, startServer } from './server.js';

const ROOT = new URL('..', import.meta.url).pathname;
const TICKERS = ['AAPL', 'KO', 'MSFT'];
const dir = mkdtempSync(join(tmpdir(), 'tickcast-api-'));

interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string; [k: string]: unknown } }>;
}

let app: App;
let ollama: OllamaTestDouble;
let running: RunningPipeline;
let api: ApiServer;
const extra: ApiServer[] = [];
const clients: Client[] = [];

async function gql<T = Record<string, unknown>>(
  query: string,
  variables: Record<string, unknown> = {},
  opts: { url?: string; headers?: Record<string, string> } = {},
): Promise<GqlResponse<T>> {
  const res = await fetch(`${opts.url ?? api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as Omit<GqlResponse<T>, 'status'>) };
}

const codes = (r: GqlResponse) => r.errors?.map((e) => e.extensions?.code);

function wsClient(url = api.url, connectionParams?: Record<string, unknown>, keepOpen = false): Client {
  const client = createClient({
    // Lazy clients close the socket when nothing is subscribed; keepOpen keeps one connection.
    lazyCloseTimeout: keepOpen ? 60_000 : 0,
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(client);
  return client;
}

/** Another server on the same pipeline and store, with other options (limits, keys, CORS). */
async function serverWith(opts: Partial<ServerOptions>): Promise<ApiServer> {
  const s = await startServer({
    running,
    store: app.store,
    hub: app.hub,
    host: '127.0.0.1',
    port: 0,
    horizons: app.config.TICKCAST_HORIZONS,
    ...opts,
  });
  extra.push(s);
  return s;
}

beforeAll(async () => {
  mkdirSync(join(dir, 'csv'));
  for (const t of TICKERS)
    copyFileSync(join(ROOT, 'data/sp500-daily', `${t}_data.csv`), join(dir, 'csv', `${t}_data.csv`));
  // Real headlines of the three tickers (Finviz rows, unchanged) for the explanations.
  mkdirSync(join(dir, 'news'));
  const [header, ...rows] = readFileSync(join(ROOT, 'data/news/finviz_headlines_2016_texas-ucf.csv'), 'utf8').split(
    '\n',
  );
  const kept = rows.filter((r) => TICKERS.includes(r.split(',').at(-1) ?? ''));
  writeFileSync(join(dir, 'news/finviz.csv'), `${[header, ...kept].join('\n')}\n`);
  // Embeddings (and, in one test, explanations) from the Ollama protocol TEST DOUBLE: fast and stable.
  ollama = await startOllamaTestDouble({ models: ['llama3.2:3b', 'nomic-embed-text'] });
  const config = loadConfig({
    TICKCAST_DATA_DIR: join(dir, 'csv'),
    TICKCAST_DB: join(dir, 'store.duckdb'),
    TICKCAST_MODEL: 'persistence',
    TICKCAST_NEWS: join(dir, 'news'),
    TICKCAST_EMBEDDER: 'ollama',
    OLLAMA_HOST: ollama.url,
    TICKCAST_EXPLAINER: 'template',
  });
  // Phase 1: history.
  const first = await buildApp(config);
  await (await startPipeline(first)).done;
  await first.explain?.close();
  await first.store.close();
  // Phase 2: the same data again, one trading day per 4 ms, while the API serves.
  app = await buildApp(config, { paceMs: 4 });
  running = await startPipeline(app);
  api = await startServer({
    running,
    store: app.store,
    hub: app.hub,
    host: '127.0.0.1',
    port: 0,
    horizons: config.TICKCAST_HORIZONS,
    serving: { normal: app.models.normal, earnings: app.models.earnings },
    calendar: app.calendar,
    explain: explainOptions(),
  });
}, 120_000);

function explainOptions(explainer = app.explain!.explainer): NonNullable<ServerOptions['explain']> {
  return {
    sources: { store: app.store, vectors: app.explain!.vectors, embedder: app.explain!.embedder },
    ...(explainer ? { explainer } : {}),
  };
}

afterAll(async () => {
  for (const c of clients) await c.dispose();
  for (const s of extra) await s.close();
  await api?.close();
  await running?.stop();
  await app?.explain?.close();
  await app?.store.close();
  await ollama?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('schema', () => {
  it('matches the committed api/schema.graphql (run `npm run api:schema` after a change)', () => {
    expect(printedSchema(bundledPublicTopics())).toBe(readFileSync(join(ROOT, 'api/schema.graphql'), 'utf8'));
  });
});

describe('queries', () => {
  it('symbols: search and cursor pages', async () => {
    const q = `query($search: String, $first: Int, $after: String) {
      symbols(search: $search, first: $first, after: $after) {
        edges { cursor node { symbol quote { close time } } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    type Symbols = {
      symbols: {
        edges: Array<{ cursor: string; node: { symbol: string; quote: { close: number } | null } }>;
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    };
    const page1 = await gql<Symbols>(q, { first: 2 });
    expect(page1.data?.symbols.edges.map((e) => e.node.symbol)).toEqual(['AAPL', 'KO']);
    expect(page1.data?.symbols.pageInfo.hasNextPage).toBe(true);
    const page2 = await gql<Symbols>(q, { first: 2, after: page1.data?.symbols.pageInfo.endCursor });
    expect(page2.data?.symbols.edges.map((e) => e.node.symbol)).toEqual(['MSFT']);
    expect(page2.data?.symbols.pageInfo.hasNextPage).toBe(false);
    const search = await gql<Symbols>(q, { search: 'ms' });
    expect(search.data?.symbols.edges.map((e) => e.node.symbol)).toEqual(['MSFT']);
    expect(search.data?.symbols.edges[0]?.node.quote?.close).toBeGreaterThan(0);
  });

  it('latestBar: the latest bar (quote, its deprecated old name, answers the same)', async () => {
    type Latest = { symbol: string; interval: string; close: number; time: string; __typename: string };
    const r = await gql<{ latestBar: Latest; quote: Latest }>(
      '{ latestBar(symbol: "aapl") { symbol interval close time __typename } quote(symbol: "AAPL") { symbol interval close time __typename } }',
    );
    expect(r.data?.latestBar.symbol).toBe('AAPL');
    expect(r.data?.latestBar.interval).toBe('1d');
    expect(r.data?.latestBar.time).toMatch(/^20\d\d-\d\d-\d\dT00:00:00.000Z$/);
    expect(r.data?.latestBar.__typename).toBe('Bar');
    expect(r.data?.quote).toEqual(r.data?.latestBar);
  });

  it('bars: a date range, paged forward with cursors', async () => {
    const q = `query($after: String) {
      bars(symbol: "KO", from: "2018-01-02", to: "2018-02-01", first: 10, after: $after) {
        edges { cursor node { time open high low close volume } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    type Bars = {
      bars: {
        edges: Array<{ node: { time: string; close: number } }>;
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    };
    const times: string[] = [];
    let after: string | null = null;
    for (;;) {
      const r: GqlResponse<Bars> = await gql<Bars>(q, { after });
      times.push(...(r.data?.bars.edges.map((e) => e.node.time) ?? []));
      if (!r.data?.bars.pageInfo.hasNextPage) break;
      after = r.data.bars.pageInfo.endCursor;
    }
    // January 2018 had 21 NYSE trading days (1 and 15 January were holidays).
    expect(times).toHaveLength(21);
    expect(times[0]).toBe('2018-01-02T00:00:00.000Z');
    expect([...times].sort()).toEqual(times);
  });

  it('prediction and predictions: latest, with interval, model version and input time', async () => {
    const one = await gql<{
      prediction: {
        symbol: string;
        horizon: number;
        inputTime: string;
        targetTime: string;
        predictedClose: number;
        interval: { lower: number; upper: number; level: number };
        modelVersion: string;
      };
    }>(
      '{ prediction(symbol: "MSFT", horizon: 5) { symbol horizon inputTime targetTime predictedClose interval { lower upper level } model modelVersion regime } }',
    );
    const p = one.data?.prediction;
    expect(p?.horizon).toBe(5);
    expect(p?.interval.level).toBe(0.8);
    expect(p!.interval.lower).toBeLessThanOrEqual(p!.predictedClose);
    expect(p!.interval.upper).toBeGreaterThanOrEqual(p!.predictedClose);
    expect(Date.parse(p!.targetTime)).toBeGreaterThan(Date.parse(p!.inputTime));
    expect(p?.modelVersion).toBeTruthy();

    const many = await gql<{ predictions: Array<{ symbol: string; horizon: number; rankScore: number | null }> }>(
      '{ predictions(symbols: ["KO", "AAPL"]) { symbol horizon rankScore } }',
    );
    // A baseline (persistence) ships here: no net, so no rank score.
    expect(many.data?.predictions).toEqual([
      { symbol: 'KO', horizon: 1, rankScore: null },
      { symbol: 'AAPL', horizon: 1, rankScore: null },
    ]);
  });

  it('predictionHistory: each prediction beside the realised close and its error', async () => {
    const r = await gql<{
      predictionHistory: {
        edges: Array<{
          node: {
            prediction: { inputTime: string; targetTime: string; predictedClose: number };
            realisedClose: number | null;
            error: number | null;
            withinInterval: boolean | null;
          };
        }>;
      };
    }>(`{
      predictionHistory(symbol: "AAPL", from: "2017-03-01", to: "2017-04-01", horizon: 1, first: 50) {
        edges { node { prediction { inputTime targetTime predictedClose } realisedClose error withinInterval } }
      }
    }`);
    const rows = r.data!.predictionHistory.edges.map((e) => e.node);
    expect(rows.length).toBe(23);
    const realised = rows.filter((x) => x.realisedClose !== null);
    expect(realised.length).toBeGreaterThan(20);
    // The realised close is the target day's bar close: check one against `bars`.
    const row = realised[0]!;
    const bar = await gql<{ bars: { edges: Array<{ node: { close: number } }> } }>(
      `query($from: DateTime!) { bars(symbol: "AAPL", from: $from, first: 1) { edges { node { close } } } }`,
      { from: row.prediction.targetTime },
    );
    expect(row.realisedClose).toBe(bar.data?.bars.edges[0]?.node.close);
    expect(row.error).toBeCloseTo(row.realisedClose! - row.prediction.predictedClose, 9);
  });

  it('model: what is served, and the shipped model with its validation metrics', async () => {
    const r = await gql<{
      model: {
        normal: { name: string };
        shipped: { version: string; nets: Array<{ validation: Array<{ segment: string; maeRatio: number }> }> };
      };
    }>(`{ model {
      normal { name version }
      shipped { name version featureSpec horizons selection { model maeRatio skillVsBest } bestBaseline
        nets { name version trainingWindow { from to } validation { segment horizon n maeRatio hitRate coverage80
          rankIcT bestBaseline skillVsBest maeConstantDrift hitRateConstantDrift hitRateAlwaysUp } } }
    } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data?.model.normal.name).toBe('persistence');
    const shipped = JSON.parse(readFileSync(join(ROOT, 'models/artifacts/shipped.json'), 'utf8')) as {
      normal: { version: string };
    };
    expect(r.data?.model.shipped.version).toBe(shipped.normal.version);
    expect(r.data?.model.shipped.nets[0]?.validation.map((v) => v.segment)).toContain('all');
  });

  it('pipeline: nodes, edges and per-node metrics; health', async () => {
    type PipelineAnswer = {
      pipeline: {
        nodes: Array<{ id: string; metrics: { recordsIn: number; deadLetters: number; lag: number } }>;
        edges: Array<{ from: string; to: string; topic: string }>;
      };
      health: { status: string; store: { ok: boolean } };
    };
    const q = `{
      pipeline { name nodes { id kind reads writes metrics { status recordsIn recordsOut recordsInPerSec avgBatchMs lag deadLetters watermark } }
        edges { from to topic } topics { name partitions deadLetterTopic } }
      health { status store { kind ok } nodes { node status } }
    }`;
    // Metrics are sampled once a second: wait (at most 10 s) for a sample with records in it.
    const r = await vi.waitFor(
      async () => {
        const answer = await gql<PipelineAnswer>(q);
        expect(answer.data?.pipeline.nodes.find((n) => n.id === 'bars')?.metrics.recordsIn).toBeGreaterThan(0);
        return answer;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(r.data?.pipeline.nodes.map((n) => n.id)).toContain('live-predictions');
    expect(r.data?.pipeline.edges).toContainEqual({ from: 'bars', to: 'features', topic: 'bars' });
    expect(r.data?.pipeline.nodes.find((n) => n.id === 'bars')?.metrics.recordsIn).toBeGreaterThan(0);
    expect(r.data?.health).toMatchObject({ status: 'ok', store: { ok: true } });
  });

  it('/healthz and /metrics are on the same server', async () => {
    const h = await fetch(`${api.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', store: { kind: 'duckdb', ok: true } });
    const m = await (await fetch(`${api.url}/metrics`)).text();
    expect(m).toContain('tickcast_records_in_total{node="bars"}');
    expect(m).toContain('tickcast_api_websocket_connections');
  });

  it('earnings: announcement dates of a symbol in a range', async () => {
    const r = await gql<{ earnings: Array<{ date: string; epsActual: number | null }> }>(
      '{ earnings(symbol: "AAPL", from: "2016-01-01", to: "2017-01-01") { date epsActual } }',
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.earnings.length).toBe(4);
    expect(r.data?.earnings.every((e) => e.date.startsWith('2016-'))).toBe(true);
    expect(codes(await gql('{ earnings(symbol: "NOPE") { date } }'))).toEqual(['UNKNOWN_SYMBOL']);
  });

  it('features: the values behind the latest prediction, recomputed from the stored bars', async () => {
    const r = await gql<{
      prediction: { inputTime: string };
      features: { time: string; spec: string; values: Array<{ name: string; value: number | null }> } | null;
    }>('{ prediction(symbol: "KO") { inputTime } features(symbol: "KO") { time spec values { name value } } }');
    expect(r.errors).toBeUndefined();
    expect(r.data?.features?.spec).toMatch(/^basic@/);
    expect(r.data?.features?.values.length).toBeGreaterThan(10);
    expect(r.data?.features?.values.some((v) => v.value !== null)).toBe(true);
    // Float32 values written as the shortest decimal that is that float32: 0.2, not 0.20000000298023224.
    for (const { value } of r.data?.features?.values ?? []) {
      if (value !== null) expect(shortestFloat32(Math.fround(value))).toBe(value);
    }
    expect(shortestFloat32(Math.fround(0.2))).toBe(0.2);
    expect(shortestFloat32(Math.fround(-7.87))).toBe(-7.87);
    expect(shortestFloat32(Math.fround(1 / 3))).toBe(0.33333334);
    const old = await gql<{ features: { time: string } | null }>(
      '{ features(symbol: "KO", time: "2016-03-01") { time } }',
    );
    expect(old.data?.features?.time).toBe('2016-03-01T00:00:00.000Z');
  });

  it('pipeline topics carry their Avro schema', async () => {
    const r = await gql<{ pipeline: { topics: Array<{ name: string; schema: string; avro: string | null }> } }>(
      '{ pipeline { topics { name schema avro } } }',
    );
    const bars = r.data?.pipeline.topics.find((t) => t.name === 'bars');
    expect(bars?.schema).toBe('tickcast.Bar');
    expect(JSON.parse(bars?.avro ?? '{}')).toMatchObject({ type: 'record', name: 'Bar' });
  });

  it('serves the built dashboard at / with a fallback to index.html, beside /graphql and /healthz', async () => {
    const ui = join(dir, 'ui');
    mkdirSync(join(ui, 'assets'), { recursive: true });
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(ui, 'assets', 'app-1.js'), 'export {};');
    writeFileSync(join(dir, 'secret.txt'), 'no');
    const s = await serverWith({ uiDir: ui });
    const index = await fetch(`${s.url}/`);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('<title>t</title>');
    const js = await fetch(`${s.url}/assets/app-1.js`);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${s.url}/assets/gone-2.js`)).status).toBe(404);
    expect(await (await fetch(`${s.url}/pipeline`)).text()).toContain('<title>t</title>');
    expect(await (await fetch(`${s.url}/..%2Fsecret.txt`)).text()).not.toContain('no');
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    expect((await gql('{ health { status } }', {}, { url: s.url })).data).toBeDefined();
    // Without the folder built: a page that says how to build it.
    const bare = await serverWith({ uiDir: join(dir, 'not-built') });
    expect(await (await fetch(`${bare.url}/`)).text()).toContain('npm run build');
  });
});

/** A hand-made prediction for the tests that publish their own updates. */
function madePrediction(symbol: string, horizon: number, close: number, ts: number): Prediction {
  return {
    id: `${symbol}:${ts}:${horizon}`,
    symbol,
    ts,
    horizon,
    targetTs: ts + horizon * 86_400_000,
    lastClose: close,
    predictedClose: close + horizon,
    predictedReturn: 0,
    lower: close - 1,
    upper: close + 1,
    model: 'test',
    modelVersion: '1',
    regime: 'normal',
    createdAt: ts,
    rankScore: null,
  };
}

/** Through the real `live` sink, as the pipeline publishes. */
async function publishPredictions(hub: LiveHub, update: Prediction[]): Promise<void> {
  await live({ hub, schema: schemas.Prediction, channel: 'predictions' }).write(
    update.map((value) => ({ key: value.symbol, value, timestamp: value.ts })),
    { node: 'live-predictions' },
  );
}

/** A graphql-ws client by hand on a raw `ws` socket: the exact text of every frame the server sends. */
async function rawSubscriber(url: string, id: string, payload: { query: string; variables?: Record<string, unknown> }) {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const frames: string[] = [];
  let arrived = () => {};
  socket.on('message', (data) => {
    frames.push(String(data));
    arrived();
  });
  /** Resolves once `n` frames after the acknowledgement have arrived. */
  const received = (n: number) =>
    new Promise<string[]>((resolve) => {
      arrived = () => {
        if (frames.length > n) resolve(frames.slice(1, n + 1));
      };
      arrived();
    });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init' }));
  await received(0);
  expect(JSON.parse(frames[0]!)).toEqual({ type: 'connection_ack' });
  socket.send(JSON.stringify({ id, type: 'subscribe', payload }));
  return { socket, frames: () => frames.slice(1), received };
}

async function directMessages(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^tickcast_api_direct_messages_total (\d+)/m.exec(text)?.[1]);
}

/** Waits until `condition` holds (checked every 20 ms); fails after 10 s saying what it waited for. */
const until = (condition: () => boolean): Promise<void> =>
  vi.waitFor(
    () => {
      if (!condition()) throw new Error(`still waiting for ${condition.toString()}`);
    },
    { timeout: 10_000, interval: 20 },
  );

describe('subscriptions (graphql-ws)', () => {
  it('predictions(symbols): live batches, only the symbols and horizon asked for', async () => {
    const it = wsClient().iterate<{ predictions: Array<{ symbol: string; horizon: number }> }>({
      query:
        'subscription { predictions(symbols: ["AAPL", "KO"], horizon: 1) { symbol horizon predictedClose inputTime } }',
    });
    const seen: Array<{ symbol: string; horizon: number }> = [];
    for await (const msg of it) {
      seen.push(...(msg.data?.predictions ?? []));
      if (seen.length >= 6) break;
    }
    expect(new Set(seen.map((p) => p.symbol))).toEqual(new Set(['AAPL', 'KO']));
    expect(seen.every((p) => p.horizon === 1)).toBe(true);
  });

  it('shared execution: each subscriber gets exactly its own symbols, in its own selection', async () => {
    // A hub of its own, so exactly one hand-made update is published while these listen.
    const hub = createLiveHub();
    const s = await serverWith({ hub });
    const one =
      'subscription($s: [String!]!) { predictions(symbols: $s, horizon: 1) { symbol horizon predictedClose } }';
    const withVariable =
      'subscription($s: [String!]!, $iv: Boolean!) { p: predictions(symbols: $s) { id interval @include(if: $iv) { lower } } }';
    // A directive on the root field is left to graphql's own execute: the reference for the shared path.
    const unshared =
      'subscription($s: [String!]!) { predictions(symbols: $s, horizon: 1) @include(if: true) { symbol horizon predictedClose } }';
    const subscriptions = [
      { query: one, variables: { s: ['AAPL', 'KO'] } },
      { query: one, variables: { s: ['MSFT'] } },
      { query: one, variables: { s: ['ko'] } },
      { query: withVariable, variables: { s: ['KO'], iv: true } },
      { query: withVariable, variables: { s: ['KO'], iv: false } },
      { query: unshared, variables: { s: ['AAPL', 'KO'] } },
    ];
    const firsts = subscriptions.map((sub) =>
      wsClient(s.url).iterate<Record<string, Array<Record<string, unknown>>>>(sub).next(),
    );
    const feed = hubFeed(hub);
    const listening = () => ['AAPL', 'KO', 'MSFT'].map((symbol) => feed.listeners('predictions', symbol));
    await until(() => listening().join() === '2,5,1');

    const ts = Date.UTC(2019, 0, 2);
    const prediction = (symbol: string, horizon: number, close: number) => madePrediction(symbol, horizon, close, ts);
    const update = [
      prediction('MSFT', 1, 100),
      prediction('KO', 1, 50),
      prediction('KO', 5, 50),
      prediction('AAPL', 1, 200),
      prediction('AAPL', 5, 200),
    ];
    await publishPredictions(hub, update);
    const got = (await Promise.all(firsts)).map((r) => r.value?.data);
    expect(got[0]).toEqual({
      predictions: [
        { symbol: 'KO', horizon: 1, predictedClose: 51 },
        { symbol: 'AAPL', horizon: 1, predictedClose: 201 },
      ],
    });
    expect(got[1]).toEqual({ predictions: [{ symbol: 'MSFT', horizon: 1, predictedClose: 101 }] });
    expect(got[2]).toEqual({ predictions: [{ symbol: 'KO', horizon: 1, predictedClose: 51 }] });
    expect(got[3]).toEqual({
      p: [
        { id: `KO:${ts}:1`, interval: { lower: 49 } },
        { id: `KO:${ts}:5`, interval: { lower: 49 } },
      ],
    });
    expect(got[4]).toEqual({ p: [{ id: `KO:${ts}:1` }, { id: `KO:${ts}:5` }] });
    expect(got[5]).toEqual(got[0]);
  });

  it('shared subscriptions are written pre-serialized: the same bytes as graphql-ws sends', async () => {
    const hub = createLiveHub();
    const s = await serverWith({ hub });
    const selection = 'symbol horizon predictedClose band: interval { lower upper level } modelVersion inputTime';
    const shared = `subscription($s: [String!]!) { p: predictions(symbols: $s, horizon: 1) { ${selection} } }`;
    // A directive on the root field takes graphql-ws's own path: the reference.
    const reference = `subscription($s: [String!]!) { p: predictions(symbols: $s, horizon: 1) @include(if: true) { ${selection} } }`;
    const variables = { s: ['KO', 'AAPL'] };
    const direct = await rawSubscriber(s.url, 'sub "1"', { query: shared, variables });
    const viaGraphqlWs = await rawSubscriber(s.url, 'sub "1"', { query: reference, variables });
    const feed = hubFeed(hub);
    await until(() => feed.listeners('predictions', 'KO') === 2 && feed.listeners('predictions', 'AAPL') === 2);
    const before = await directMessages(s.url);

    const ts = Date.UTC(2019, 0, 3);
    await publishPredictions(hub, [
      madePrediction('AAPL', 1, 200.125, ts),
      madePrediction('KO', 5, 50, ts),
      { ...madePrediction('KO', 1, 1e21, ts), modelVersion: 'v"2"\u2028é' },
    ]);
    const [a] = await direct.received(1);
    const [b] = await viaGraphqlWs.received(1);
    expect(a).toBe(b);
    expect(JSON.parse(a!).payload.data.p.map((p: { symbol: string }) => p.symbol)).toEqual(['AAPL', 'KO']);
    // Exactly one of the two messages went out pre-serialized.
    expect((await directMessages(s.url)) - before).toBe(1);
    direct.socket.close();
    viaGraphqlWs.socket.close();
  });

  it('over HTTP (server-sent events) shared subscriptions are assembled as objects: the same payload as over graphql-ws', async () => {
    const hub = createLiveHub();
    const s = await serverWith({ hub });
    const query =
      'subscription { p: predictions(symbols: ["KO", "AAPL"], horizon: 1) { symbol predictedClose interval { lower } } }';
    const stop = new AbortController();
    const sse = await fetch(`${s.url}/graphql`, {
      method: 'POST',
      signal: stop.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query }),
    });
    expect(sse.status).toBe(200);
    const ws = await rawSubscriber(s.url, '1', { query });
    await until(() => hubFeed(hub).listeners('predictions', 'KO') === 2);
    const ts = Date.UTC(2019, 0, 7);
    await publishPredictions(hub, [madePrediction('AAPL', 1, 200, ts), madePrediction('KO', 1, 50, ts)]);
    const [frame] = await ws.received(1);
    const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    let payload: unknown;
    while (payload === undefined) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const line = text.split('\n').find((l) => l.startsWith('data: {"data"'));
      if (line) payload = JSON.parse(line.slice('data: '.length));
    }
    // Not the direct path (no WebSocket): graphql-ws's frame and Yoga's event carry the same result.
    expect(payload).toEqual(JSON.parse(frame!).payload);
    expect(payload).toEqual({
      data: {
        p: [
          { symbol: 'AAPL', predictedClose: 201, interval: { lower: 199 } },
          { symbol: 'KO', predictedClose: 51, interval: { lower: 49 } },
        ],
      },
    });
    stop.abort();
    ws.socket.close();
  });

  it('an event whose execution fails still arrives as a GraphQL error; the next one is shared again', async () => {
    const hub = createLiveHub();
    const s = await serverWith({ hub });
    const sub = await rawSubscriber(s.url, '1', {
      query: 'subscription { predictions(symbols: ["MSFT"]) { symbol predictedClose } }',
    });
    await until(() => hubFeed(hub).listeners('predictions', 'MSFT') === 1);
    const ts = Date.UTC(2019, 0, 4);
    // NaN is no GraphQL Float: graphql's execution reports an error for this record.
    await publishPredictions(hub, [{ ...madePrediction('MSFT', 1, 10, ts), predictedClose: Number.NaN }]);
    const [failed] = await sub.received(1);
    await publishPredictions(hub, [madePrediction('MSFT', 1, 10, ts + 86_400_000)]);
    const [ok] = await sub.received(2).then((f) => f.slice(1));
    const error = JSON.parse(failed!) as { id: string; type: string; payload: { errors?: Array<{ message: string }> } };
    expect(error.id).toBe('1');
    expect(error.type).toBe('next');
    expect(error.payload.errors?.[0]?.message).toMatch(/Float cannot represent/);
    expect(JSON.parse(ok!)).toEqual({
      id: '1',
      type: 'next',
      payload: { data: { predictions: [{ symbol: 'MSFT', predictedClose: 11 }] } },
    });
    sub.socket.close();
  });

  it('a client that stops reading loses its oldest updates, not the server memory; closing it unsubscribes', async () => {
    const hub = createLiveHub();
    const s = await serverWith({ hub });
    const feed = hubFeed(hub);
    const query = 'subscription { predictions(symbols: ["KO"]) { modelVersion inputTime } }';
    const slow = await rawSubscriber(s.url, '1', { query });
    const reader = await rawSubscriber(s.url, '1', { query });
    await until(() => feed.listeners('predictions', 'KO') === 2);
    slow.socket.pause();
    // ~100 KB a message, 300 updates: far more than the kernel's socket buffers hold.
    const UPDATES = 300;
    const big = 'x'.repeat(10_000);
    const day = (i: number) => Date.UTC(2019, 0, 1) + i * 86_400_000;
    for (let i = 0; i < UPDATES; i++) {
      const update = Array.from({ length: 10 }, (_, k) => ({
        ...madePrediction('KO', 1, 50, day(i)),
        id: `KO:${i}:${k}`,
        modelVersion: big,
      }));
      await publishPredictions(hub, update);
      // One update a turn of the event loop: each is its own message.
      await new Promise((r) => setImmediate(r));
    }
    const inputDay = (frame: string) =>
      Date.parse(
        (JSON.parse(frame) as { payload: { data: { predictions: Array<{ inputTime: string }> } } }).payload.data
          .predictions[0]!.inputTime,
      );
    // A client that reads gets every update, in order.
    expect((await reader.received(UPDATES)).map(inputDay)).toEqual(Array.from({ length: UPDATES }, (_, i) => day(i)));

    slow.socket.resume();
    await until(() => slow.frames().length > 0 && inputDay(slow.frames().at(-1)!) === day(UPDATES - 1));
    const days = slow.frames().map(inputDay);
    // What the socket buffers held, then the newest 64 kept for it: some dropped, order kept, the last one there.
    expect(days.length).toBeLessThan(UPDATES);
    expect(days.length).toBeGreaterThan(64);
    expect(days.every((d, i) => i === 0 || d > days[i - 1]!)).toBe(true);

    slow.socket.terminate();
    reader.socket.close();
    await until(() => feed.listeners('predictions', 'KO') === 0);
    expect(s.connections()).toBeLessThanOrEqual(1);
  });

  it('bars(symbols): new bars as they close (and quotes, its deprecated old name)', async () => {
    for (const field of ['bars', 'quotes'] as const) {
      const it = wsClient().iterate<Record<string, Array<{ symbol: string; close: number }>>>({
        query: `subscription { ${field}(symbols: ["MSFT"]) { symbol time close } }`,
      });
      const first = await it.next();
      expect(first.value?.data?.[field]?.[0]?.symbol, field).toBe('MSFT');
      await it.return?.();
    }
  });

  it('pipelineMetrics: the current sample first, then one a second', async () => {
    const it = wsClient().iterate<{ pipelineMetrics: { at: string; nodes: Array<{ node: string }> } }>({
      query: 'subscription { pipelineMetrics { at nodes { node status recordsInPerSec lag deadLetters } } }',
    });
    const a = await it.next();
    const b = await it.next();
    expect(a.value?.data?.pipelineMetrics.nodes.length).toBeGreaterThan(5);
    expect(Date.parse(b.value!.data!.pipelineMetrics.at)).toBeGreaterThan(
      Date.parse(a.value!.data!.pipelineMetrics.at),
    );
    await it.return?.();
  });

  it('subscription errors carry codes: unknown symbol, too many symbols, bad horizon', async () => {
    const client = wsClient();
    const errorOf = async (query: string) => {
      try {
        for await (const msg of client.iterate({ query })) return msg.errors?.[0];
      } catch (err) {
        return (err as Array<{ extensions?: { code?: string } }>)[0];
      }
    };
    expect((await errorOf('subscription { quotes(symbols: ["NOPE"]) { close } }'))?.extensions?.code).toBe(
      'UNKNOWN_SYMBOL',
    );
    const many = JSON.stringify(Array.from({ length: 101 }, (_, i) => `S${i}`));
    expect((await errorOf(`subscription { quotes(symbols: ${many}) { close } }`))?.extensions?.code).toBe(
      'TOO_MANY_SYMBOLS',
    );
    expect((await errorOf('subscription { predictions(symbols: ["KO"], horizon: 2) { id } }'))?.extensions?.code).toBe(
      'BAD_HORIZON',
    );
  });
});

describe('explanations', () => {
  const FIELDS = `predictionId symbol horizon text explainer requestedExplainer grounded fallbackReason cached
    citations { ref id kind title detail time score }`;

  it('explanation(symbol, horizon): grounded prose about the latest prediction, citing facts and earlier headlines', async () => {
    const r = await gql<{
      explanation: {
        predictionId: string;
        symbol: string;
        text: string;
        explainer: string;
        grounded: boolean;
        citations: Array<{ ref: string; kind: string; title: string; time: string }>;
      };
      prediction: { id: string; inputTime: string };
    }>(`query { explanation(symbol: "aapl") { ${FIELDS} } prediction(symbol: "AAPL") { id inputTime } }`);
    expect(r.errors).toBeUndefined();
    const e = r.data!.explanation;
    expect(e).toMatchObject({ symbol: 'AAPL', explainer: 'template', grounded: true });
    expect(e.text).toMatch(/^The model expects AAPL to (rise|fall|stay about flat)/);
    for (const c of e.citations) expect(e.text).toContain(`${c.ref}`);
    expect(e.citations.some((c) => c.kind === 'FACT')).toBe(true);
    // No headline after the prediction's inputs were complete (the input day's end).
    const asOf = Date.parse(r.data!.prediction.inputTime) + 86_400_000;
    for (const c of e.citations.filter((x) => x.kind === 'NEWS')) expect(Date.parse(c.time)).toBeLessThan(asOf);
  });

  it('the explanation subscription streams the text, then the explanation', async () => {
    const client = wsClient();
    const events: Array<{
      kind: string;
      delta: string | null;
      explanation: { text: string; grounded: boolean } | null;
    }> = [];
    await new Promise<void>((resolve, reject) => {
      client.subscribe(
        {
          query:
            'subscription { explanation(symbol: "MSFT", horizon: 5) { kind delta explanation { text grounded } } }',
        },
        {
          next: (m) => events.push((m.data as { explanation: (typeof events)[number] }).explanation),
          error: reject,
          complete: resolve,
        },
      );
    });
    expect(events.at(-1)!.kind).toBe('DONE');
    const done = events.at(-1)!.explanation!;
    expect(done.grounded).toBe(true);
    expect(
      events
        .filter((e) => e.kind === 'TEXT')
        .map((e) => e.delta)
        .join(''),
    ).toBe(done.text);
  });

  it('an Ollama explainer streams through the same subscription (Ollama protocol test double)', async () => {
    ollama.setResponder((req) => replyText(faithfulExplanation(req, 'KO')));
    const server = await serverWith({
      explain: explainOptions(ollamaExplainer({ host: ollama.url, model: 'llama3.2:3b' })),
    });
    const client = wsClient(server.url);
    const kinds: string[] = [];
    let final: { explainer: string; grounded: boolean } | null = null;
    await new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: 'subscription { explanation(symbol: "KO") { kind explanation { explainer grounded } } }' },
        {
          next: (m) => {
            const e = (m.data as { explanation: { kind: string; explanation: typeof final } }).explanation;
            kinds.push(e.kind);
            final = e.explanation ?? final;
          },
          error: reject,
          complete: resolve,
        },
      );
    });
    expect(kinds).toEqual(['TEXT', 'TEXT', 'DONE']);
    expect(final).toEqual({ explainer: 'ollama:llama3.2:3b', grounded: true });
  });

  it('coded errors: unknown symbol, horizon not forecast, a server without explanations', async () => {
    expect(codes(await gql('query { explanation(symbol: "ZZZZ") { text } }'))).toEqual(['UNKNOWN_SYMBOL']);
    expect(codes(await gql('query { explanation(symbol: "AAPL", horizon: 2) { text } }'))).toEqual(['BAD_HORIZON']);
    const bare = await serverWith({});
    expect(codes(await gql('query { explanation(symbol: "AAPL") { text } }', {}, { url: bare.url }))).toEqual([
      'NOT_AVAILABLE',
    ]);
  });
});

describe('errors and limits', () => {
  it('unknown symbol, bad horizon, too many symbols: coded errors', async () => {
    expect(codes(await gql('{ quote(symbol: "NOPE") { close } }'))).toEqual(['UNKNOWN_SYMBOL']);
    expect(codes(await gql('{ prediction(symbol: "KO", horizon: 2) { id } }'))).toEqual(['BAD_HORIZON']);
    const symbols = Array.from({ length: 501 }, (_, i) => `S${i}`);
    expect(codes(await gql('query($s: [String!]!) { predictions(symbols: $s) { id } }', { s: symbols }))).toEqual([
      'TOO_MANY_SYMBOLS',
    ]); // Each unknown one named as given, an empty one too.
    const unknown = await gql('query($s: [String!]!) { predictions(symbols: $s) { id } }', {
      s: ['KO', 'not a ticker', ''],
    });
    expect(unknown.errors?.[0]?.message).toBe('unknown symbol(s): "NOT A TICKER", ""');
  });

  it('bad dates: in variables, in literals, and an empty range', async () => {
    const q = 'query($from: DateTime) { bars(symbol: "KO", from: $from) { edges { cursor } } }';
    for (const bad of ['yesterday', '2018-02-30', '2018-13-01', 20180207]) {
      const r = await gql(q, { from: bad });
      expect(codes(r), String(bad)).toEqual(['BAD_DATE']);
      expect(r.errors?.[0]?.message).not.toMatch(/ at /); // no stack trace
    }
    expect(codes(await gql('{ bars(symbol: "KO", from: "soon") { edges { cursor } } }'))).toEqual(['BAD_DATE']);
    expect(
      codes(await gql('{ bars(symbol: "KO", from: "2018-02-01", to: "2018-01-01") { edges { cursor } } }')),
    ).toEqual(['BAD_DATE']);
  });

  it('bad cursors and oversized pages', async () => {
    expect(codes(await gql('{ symbols(after: "garbage") { edges { cursor } } }'))).toEqual(['BAD_ARGUMENT']);
    // A cursor of another list is refused, not read as a position in this one.
    const symbols = await gql<{ symbols: { edges: Array<{ cursor: string }> } }>(
      '{ symbols(first: 1) { edges { cursor } } }',
    );
    const foreign = await gql('query($c: String) { bars(symbol: "KO", after: $c) { edges { cursor } } }', {
      c: symbols.data!.symbols.edges[0]!.cursor,
    });
    expect(codes(foreign)).toEqual(['BAD_ARGUMENT']);
    expect(foreign.errors![0]!.message).toMatch(/not a cursor of bars/);
    // A variable, not a literal: literal page sizes are priced by the cost limit before this check.
    expect(codes(await gql('query($n: Int) { symbols(first: $n) { edges { cursor } } }', { n: 5000 }))).toEqual([
      'BAD_ARGUMENT',
    ]);
  });

  it('query depth, aliases and size are limited (graphql-armor)', async () => {
    const aliases = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: health { status }`).join(' ')} }`;
    expect(codes(await gql(aliases))).toContain('QUERY_TOO_COMPLEX');
    // Cost multiplies by literal page sizes: five pages of 1,000 bars is too much work for one query.
    const page = 'bars(symbol: "KO", first: 1000) { edges { cursor node { time open high low close volume } } }';
    expect((await gql(`{ ${page} }`)).errors).toBeUndefined();
    const five = `{ ${Array.from({ length: 5 }, (_, i) => `b${i}: ${page}`).join(' ')} }`;
    expect(codes(await gql(five))).toContain('QUERY_TOO_COMPLEX');
  });

  it('a query over the cost or token limit says which limit and what to change (QUERY_TOO_COMPLEX)', async () => {
    // A literal page size multiplies the cost: a billion symbols is over the limit of 100,000.
    const costly = await gql('{ symbols(first: 1000000000) { edges { cursor } } }');
    expect(costly.errors).toHaveLength(1);
    expect(costly.errors![0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost', max: 100_000 });
    expect(costly.errors![0]!.message).toMatch(/^Query too costly: its cost is [\d,]+, over the limit of 100,000/);
    expect(costly.errors![0]!.message).toMatch(/lower `first`\/`last`\) or fewer fields/);
    expect(costly.errors![0]!.message).not.toMatch(/Syntax Error/);
    // Over 2,000 tokens: fewer fields, or several queries.
    const long = await gql(`{ ${Array.from({ length: 700 }, () => 'health { status }').join(' ')} }`);
    expect(long.errors![0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'tokens', max: 2000 });
    expect(long.errors![0]!.message).toBe(
      'Query too long: more than 2,000 tokens. Ask for fewer fields, or split it into several queries.',
    );
  });

  it('bars of an unknown interval are refused, naming the intervals there are (BAD_INTERVAL)', async () => {
    const r = await gql('{ bars(symbol: "KO", interval: "7x") { edges { cursor } } }');
    expect(codes(r)).toEqual(['BAD_INTERVAL']);
    expect(r.errors![0]!.message).toBe('no bars of interval "7x"; intervals are 1d, 1m');
    expect(r.errors![0]!.extensions!.intervals).toEqual(['1d', '1m']);
    // The known ones answer (KO has daily bars; none of a minute in a daily replay).
    expect((await gql('{ bars(symbol: "KO", interval: "1m", first: 1) { edges { cursor } } }')).errors).toBeUndefined();
  });

  it('max depth', async () => {
    const s = await serverWith({ limits: { maxDepth: 2 } });
    const r = await gql('{ symbols { edges { node { quote { close } } } } }', {}, { url: s.url });
    expect(codes(r)).toContain('QUERY_TOO_COMPLEX');
  });

  it('payloads over the limit are refused with 413', async () => {
    const r = await gql(`{ health { status } } # ${'x'.repeat(70_000)}`);
    expect(r.status).toBe(413);
    expect(codes(r)).toEqual(['PAYLOAD_TOO_LARGE']);
    // A streamed body has no content-length to check up front: refused before Yoga reads it
    // (other methods are Yoga's 405, which does not read the body: http.test.ts).
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"query":"{ health { status } }"}'));
        c.close();
      },
    });
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(411);
    expect((await res.json()) as unknown).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  it('HTTP rate limit per client IP: 429 RATE_LIMITED', async () => {
    const s = await serverWith({ limits: { httpRatePerSecond: 1, httpBurst: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await gql('{ health { status } }', {}, { url: s.url })).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses).toContain(429);
    const r = await gql('{ health { status } }', {}, { url: s.url });
    expect(codes(r)).toEqual(['RATE_LIMITED']);
  });

  it('WebSocket rate limit per connection, and subscriptions per connection', async () => {
    const s = await serverWith({ limits: { wsRatePerSecond: 0.01, wsBurst: 2 } });
    const client = wsClient(s.url, undefined, true);
    const results: Array<string | undefined> = [];
    for (let i = 0; i < 3; i++) {
      try {
        for await (const msg of client.iterate({ query: '{ health { status } }' })) {
          results.push(msg.errors?.[0]?.extensions?.code as string | undefined);
          break;
        }
      } catch (err) {
        results.push((err as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code);
      }
    }
    expect(results).toEqual([undefined, undefined, 'RATE_LIMITED']);
  });

  it('subscriptions per connection are capped', async () => {
    const s = await serverWith({ limits: { maxSubscriptionsPerConnection: 1 } });
    const client = wsClient(s.url, undefined, true);
    const first = client.iterate({ query: 'subscription { pipelineMetrics { at } }' });
    await first.next();
    const refused = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: 'subscription { pipelineMetrics { at } }' },
        { next: resolve, error: (errors) => resolve((errors as unknown[])[0]), complete: () => {} },
      );
    });
    expect(refused).toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    await first.return?.();
  });

  it('unexpected failures are masked: no message from inside, no stack, the server keeps serving', async () => {
    // A real store that has been closed: every read fails with an internal error.
    const closed = await openDuckDbStore({ path: ':memory:' });
    await closed.close();
    const s = await serverWith({ store: closed });
    const r = await gql('{ bars(symbol: "KO") { edges { cursor } } }', {}, { url: s.url });
    expect(r.errors?.[0]?.message).toBe('Unexpected error.');
    expect(JSON.stringify(r)).not.toMatch(/closed|duckdb|\.ts:/i);
    expect((await gql('{ health { status } }', {}, { url: s.url })).data).toEqual({ health: { status: 'down' } });
  });

  it('an error over graphql-ws is the same as over HTTP: its code, none of the HTTP layer’s internals', async () => {
    const closed = await openDuckDbStore({ path: ':memory:' });
    await closed.close();
    const s = await serverWith({ store: closed });
    const client = wsClient(s.url, undefined, true);
    const overWs = async (query: string, variables: Record<string, unknown>) => {
      try {
        for await (const msg of client.iterate({ query, variables })) return msg.errors;
      } catch (err) {
        return err; // refused before it ran: an `error` message
      }
    };
    const cases: Array<[string, Record<string, unknown>]> = [
      ['{ health { status', {}], // parse
      ['{ nope }', {}], // validation
      ['query A { __typename } query B { __typename }', {}], // which operation
      ['query ($s: String!) { prediction(symbol: $s, horizon: 1) { predictedClose } }', { s: 5 }], // variables
      ['{ bars(symbol: "KO") { edges { cursor } } }', {}], // masked
    ];
    for (const [query, variables] of cases) {
      const http = (await gql(query, variables, { url: s.url })).errors;
      expect(http, query).toBeDefined();
      expect(JSON.stringify(http), query).not.toMatch(/"(http|unexpected)"/);
      expect(await overWs(query, variables), query).toEqual(http);
    }
  });

  it('API keys: off by default; when set, HTTP needs x-api-key and graphql-ws needs { apiKey }', async () => {
    const key = 'test-key-0123456789';
    const s = await serverWith({ apiKeys: [key] });
    const none = await gql('{ health { status } }', {}, { url: s.url });
    expect(none.status).toBe(401);
    expect(codes(none)).toEqual(['UNAUTHENTICATED']);
    const ok = await gql('{ health { status } }', {}, { url: s.url, headers: { 'x-api-key': key } });
    expect(ok.data).toEqual({ health: { status: 'ok' } });

    const closed = await new Promise<number>((resolve) => {
      const c = createClient({
        url: `${s.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        on: { closed: (e) => resolve((e as { code: number }).code) },
      });
      clients.push(c);
      c.subscribe({ query: '{ health { status } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    });
    expect(closed).toBe(4403);
    for await (const msg of wsClient(s.url, { apiKey: key }).iterate({ query: '{ health { status } }' })) {
      expect(msg.data).toEqual({ health: { status: 'ok' } });
      break;
    }
  });

  it('CORS: no headers by default; the configured origins when set', async () => {
    const preflight = (url: string) =>
      fetch(`${url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin: 'https://dash.example.com', 'access-control-request-method': 'POST' },
      });
    expect((await preflight(api.url)).headers.get('access-control-allow-origin')).toBeNull();
    const s = await serverWith({ corsOrigins: ['https://dash.example.com'] });
    expect((await preflight(s.url)).headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
  });
});

describe('a socket `tickcast run` listened on before it loaded (bin/early-listen.js)', () => {
  const connections = (server: { getConnections(cb: (e: Error | null, n: number) => void): void }) =>
    new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));

  it('answers the requests that arrived meanwhile once the API takes it over, and turns WebSocket upgrades away to retry', async () => {
    const port = await freePort();
    expect(await listenEarly({ host: '127.0.0.1', port })).toBe(true);
    const early = takeEarlyServer('127.0.0.1', port);
    if (!early) throw new Error('no early server');
    // Sent while no API exists yet: the early socket accepts and holds it.
    const answer = fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health { status } }' }),
    });
    await vi.waitFor(async () => expect(await connections(early.server)).toBe(1), { timeout: 10_000 });
    // A subscriber reconnecting meanwhile is told to come back (held, a thousand of them would land
    // at once on a process still loading).
    const refused = await new Promise<number | undefined>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws');
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      socket.once('error', () => resolve(undefined));
    });
    expect(refused).toBe(503);

    const s = await serverWith({ port, early });
    expect(s.url).toBe(`http://127.0.0.1:${port}`);
    expect(await (await answer).json()).toEqual({ data: { health: { status: 'ok' } } });
    // Taken over, the socket serves WebSocket clients as any API server does.
    for await (const msg of wsClient(s.url).iterate({ query: '{ health { status } }' })) {
      expect(msg.data).toEqual({ health: { status: 'ok' } });
      break;
    }
  });

  it('is closed, not left holding, when the API is to listen elsewhere', async () => {
    const port = await freePort();
    expect(await listenEarly({ host: '127.0.0.1', port })).toBe(true);
    expect(takeEarlyServer('127.0.0.1', port + 1)).toBeNull();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect(takeEarlyServer('127.0.0.1', port)).toBeNull(); // taken once
  });

  it('reads the port and host as the config does, and leaves what it cannot read to the config', () => {
    const defaults = loadConfig({});
    expect(earlyAddress({})).toEqual({ host: defaults.TICKCAST_HOST, port: defaults.TICKCAST_PORT });
    expect(earlyAddress({ TICKCAST_PORT: '0', TICKCAST_HOST: '0.0.0.0' })).toEqual({ host: '0.0.0.0', port: 0 });
    expect(earlyAddress({ TICKCAST_PORT: '', TICKCAST_HOST: '' })).toEqual(earlyAddress({}));
    for (const bad of ['abc', ' ', '70000', '-1', '4000.5']) {
      expect(earlyAddress({ TICKCAST_PORT: bad })).toBeNull();
      expect(() => loadConfig({ TICKCAST_PORT: bad })).toThrow(/TICKCAST_PORT/);
    }
  });
});
