// `deadLetters(topic, first, after)` over real HTTP, on a real pipeline that replayed broken files:
// the dead letters are read back from the `<topic>.dlq` topic through the transport.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp, startPipeline } from '../cli/app.js';
import { loadConfig } from '../cli/config.js';
import type { RunningPipeline } from '../engine/index.js';
import { type ApiServer, startServer } from './server.js';

const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tickcast-dlq-'));
const BINARY = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff, 0xfe, 0x0a]);

let app: App;
let running: RunningPipeline;
let api: ApiServer;
let bare: ApiServer;

interface Letter {
  node: string;
  kind: string;
  reason: string;
  key: string | null;
  timestamp: string | null;
  failedAt: string;
  partition: number | null;
  offset: number | null;
  payload: string;
  payloadEncoding: 'UTF8' | 'BASE64';
  payloadBytes: number;
}
interface Page {
  deadLetters: {
    edges: Array<{ cursor: string; node: Letter }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

async function gql<T>(url: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: T; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

const PAGE = `query ($topic: String!, $first: Int, $after: String) {
  deadLetters(topic: $topic, first: $first, after: $after) {
    edges { cursor node { node kind reason key timestamp failedAt partition offset payload payloadEncoding payloadBytes } }
    pageInfo { hasNextPage endCursor }
  }
}`;

beforeAll(async () => {
  const csv = join(dir, 'csv');
  mkdirSync(csv);
  // REGN's real file has one row with empty open/high/low (line 588); KO gets a stray quote on line 50.
  copyFileSync(join(ROOT, 'data/sp500-daily/REGN_data.csv'), join(csv, 'REGN_data.csv'));
  const ko = readFileSync(join(ROOT, 'data/sp500-daily/KO_data.csv'), 'utf8').split('\n');
  ko[49] = ko[49]!.replace(',', ',"');
  writeFileSync(join(csv, 'KO_data.csv'), ko.join('\n'));
  writeFileSync(join(csv, 'ZIP_data.csv'), BINARY);
  const config = loadConfig({
    TICKCAST_DATA_DIR: csv,
    TICKCAST_DB: join(dir, 'store.duckdb'),
    TICKCAST_MODEL: 'persistence',
    TICKCAST_NEWS: 'none',
    TICKCAST_EXPLAIN: 'off',
  });
  app = await buildApp(config);
  running = await startPipeline(app);
  await running.done;
  const base = { store: app.store, hub: app.hub, host: '127.0.0.1', port: 0, horizons: config.TICKCAST_HORIZONS };
  api = await startServer({ running, ...base });
  // The same pipeline seen without a transport that reads topics back.
  bare = await startServer({ running: { pipeline: running.pipeline, metrics: running.metrics }, ...base });
}, 120_000);

afterAll(async () => {
  await api?.close();
  await bare?.close();
  await running?.transport.close();
  await app?.store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('deadLetters', () => {
  it('pages through the dead letters of a topic, oldest first, with FILE:LINE reasons and the raw payload', async () => {
    const first = await gql<Page>(api.url, PAGE, { topic: 'quotes', first: 2 });
    expect(first.errors).toBeUndefined();
    const page1 = first.data!.deadLetters;
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const second = await gql<Page>(api.url, PAGE, { topic: 'quotes', first: 2, after: page1.pageInfo.endCursor });
    const page2 = second.data!.deadLetters;
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const letters = [...page1.edges, ...page2.edges].map((e) => e.node);
    // Files in name order: KO, REGN, ZIP.
    expect(letters.map((l) => l.reason)).toEqual([
      'KO_data.csv:50: has a quote that is never closed',
      'REGN_data.csv:588: open is empty; high is empty; low is empty',
      'ZIP_data.csv:1: is not a text file: it holds NUL bytes (binary data, or UTF-16 text), 8 bytes',
    ]);
    expect(letters.every((l) => l.node === 'market-data' && l.kind === 'source')).toBe(true);
    expect(letters[1]).toMatchObject({
      payload: '2015-06-09,,,,526.09,12135,REGN',
      payloadEncoding: 'UTF8',
      payloadBytes: 31,
      key: null,
      timestamp: null,
      partition: null,
      offset: null,
    });
    expect(Date.parse(letters[1]!.failedAt)).toBeGreaterThan(Date.now() - 600_000);
    // Not text: base64 of the file's bytes.
    expect(letters[2]).toMatchObject({
      payload: BINARY.toString('base64'),
      payloadEncoding: 'BASE64',
      payloadBytes: 8,
    });
  });

  it('filters by node, gives an empty page for a topic without dead letters, and coded errors', async () => {
    const empty = await gql<Page>(api.url, PAGE, { topic: 'predictions' });
    expect(empty.data!.deadLetters).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    const byNode = `query ($node: String) { deadLetters(topic: "quotes", node: $node) { edges { node { node } } } }`;
    const mine = await gql<Page>(api.url, byNode, { node: 'market-data' });
    expect(mine.data!.deadLetters.edges).toHaveLength(3);
    const others = await gql<Page>(api.url, byNode, { node: 'bars' });
    expect(others.data!.deadLetters.edges).toEqual([]);
    const unknown = await gql<Page>(api.url, PAGE, { topic: 'quotes.dlq' });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'UNKNOWN_TOPIC' });
    expect(unknown.errors?.[0]?.extensions?.topics).toContain('quotes');
    const badCursor = await gql<Page>(api.url, PAGE, { topic: 'quotes', after: 'nope' });
    expect(badCursor.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_ARGUMENT' });
    const tooMany = await gql<Page>(api.url, PAGE, { topic: 'quotes', first: 5000 });
    expect(tooMany.errors?.[0]?.extensions?.code).toMatch(/BAD_ARGUMENT|QUERY_TOO_COMPLEX/);
    const cannot = await gql<Page>(bare.url, PAGE, { topic: 'quotes' });
    expect(cannot.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_AVAILABLE' });
  });
});
