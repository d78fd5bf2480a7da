// TICKCAST_SOURCE=yahoo end to end, as a user runs it: `tickcast run` and `tickcast backfill` as
// child processes, YAHOO_BASE_URL pointed at the Yahoo fixture server (a TEST DOUBLE: recorded
// real Yahoo responses; the daily history before the recorded quotes' day is SYNTHETIC, see
// test/support/yahoo-fixture-server.ts). The run backfills history, takes the recorded quotes of
// 2025-02-14 as the live day, closes that day's bar, and predicts from it: bars and predictions
// in the store and on the API, headlines from Yahoo into the news path, the source's state in
// GraphQL, its series in /metrics.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionsBetween } from '../models/market-calendar.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { startYahooFixtureServer, type YahooFixtureServer } from './support/yahoo-fixture-server.js';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/tickcast.js');
const SYMBOLS = ['AAPL', 'MSFT', 'GOOG', 'AMZN', 'ABBV'];
const FROM = '2024-09-03';
/** History days (SYNTHETIC, up to 2025-02-13) plus the live day of the recorded quotes. */
const DAYS = sessionsBetween(FROM, '2025-02-13').length + 1;

let yahoo: YahooFixtureServer;
beforeAll(async () => {
  yahoo = await startYahooFixtureServer({ syntheticCharts: { test: () => true } });
});
afterAll(() => yahoo.close());

function env(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CI: 'true',
    TICKCAST_SOURCE: 'yahoo',
    YAHOO_BASE_URL: yahoo.url,
    YAHOO_RATE: '0',
    TICKCAST_SYMBOLS: SYMBOLS.join(','),
    TICKCAST_BACKFILL_FROM: FROM,
    TICKCAST_DB: join(dir, 'store.duckdb'),
    ...extra,
  };
}

async function counts(db: string) {
  const store = await openDuckDbStore({ path: db });
  try {
    return await store.counts();
  } finally {
    await store.close();
  }
}

const run = promisify(execFile);
async function tickcast(args: string[], environment: NodeJS.ProcessEnv) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: environment,
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('TICKCAST_SOURCE=yahoo against the Yahoo fixture server', () => {
  it('tickcast run: backfill, the live day, bars and predictions in the store and on the API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-yahoo-'));
    const port = 43_000 + Math.floor(Math.random() * 2000);
    const child = spawn(process.execPath, [BIN, 'run'], {
      cwd: ROOT,
      env: env(dir, { TICKCAST_PORT: String(port) }),
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const url = `http://127.0.0.1:${port}`;
    const graphql = async (query: string) => {
      const r = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
      return ((await r.json()) as { data: Record<string, unknown> }).data;
    };
    try {
      // Until the live day's prediction is served.
      type Served = { inputTime: string; lastClose: number; model: string };
      let prediction: Served | null = null;
      for (const started = Date.now(); !prediction; await new Promise((r) => setTimeout(r, 250))) {
        if (child.exitCode !== null) throw new Error(`exited early: ${stderr}`);
        if (Date.now() - started > 90_000) throw new Error(`no live prediction within 90 s: ${stderr}`);
        if (!stderr.includes('GraphQL on')) continue;
        const data = await graphql('{ prediction(symbol: "AAPL") { inputTime lastClose model } }').catch(() => null);
        const p = data?.prediction as Served | null | undefined;
        if (p?.inputTime === '2025-02-14T00:00:00.000Z') prediction = p;
      }
      expect(prediction.lastClose).toBe(244.6); // the recorded quote closed the live day's bar
      expect(stderr).toMatch(/yahoo: backfill 2024-09-03 … \d{4}-\d{2}-\d{2}: [\d,]+ daily quotes of 5\/5 symbols/);

      // The prediction is served from the live feed; the bars query reads the store, whose sink may
      // still be writing the live day's bar: wait for it (with a deadline), not for a fixed time.
      const QUERY =
        '{ quote(symbol: "MSFT") { time close source } bars(symbol: "AAPL", first: 1000) { edges { node { time source } } } marketData { source state marketOpen newestQuoteTime symbols staleSymbols breakers { endpoint state } } }';
      let data = await graphql(QUERY);
      for (const started = Date.now(); (data.bars as { edges: unknown[] }).edges.length < DAYS; ) {
        if (Date.now() - started > 30_000) break; // the assertions below say what is missing
        await new Promise((r) => setTimeout(r, 250));
        data = await graphql(QUERY);
      }
      expect(data.quote).toEqual({ time: '2025-02-14T00:00:00.000Z', close: 408.43, source: 'yahoo' });
      const bars = (data.bars as { edges: Array<{ node: { time: string; source: string } }> }).edges.map((e) => e.node);
      expect(bars).toHaveLength(DAYS);
      expect(bars.at(-2)!.source).toBe('yahoo-history');
      expect(data.marketData).toMatchObject({
        source: 'yahoo',
        state: 'live',
        newestQuoteTime: '2025-02-14T21:00:02.000Z', // GOOG's recorded regularMarketTime
        symbols: 5,
        staleSymbols: 0,
      });
      const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string };
      expect(health.status).toBe('ok');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/tickcast_yahoo_requests_total\{endpoint="quote",status="200"\} \d+/);
      expect(metrics).toMatch(/tickcast_yahoo_requests_total\{endpoint="chart",status="200"\} 5/);
      expect(metrics).toMatch(/tickcast_yahoo_breaker_state\{endpoint="quote"\} 0/);
      // Yahoo's AAPL headlines (3 of 4 about AAPL) went into the news path and were embedded.
      for (const started = Date.now(); ; await new Promise((r) => setTimeout(r, 250))) {
        const text = await (await fetch(`${url}/metrics`)).text();
        const embedded = Number(/tickcast_records_in_total\{[^}]*node="embed-news"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
        if (embedded >= 3) break;
        if (Date.now() - started > 30_000) throw new Error(`headlines not embedded: ${text.slice(0, 500)}`);
      }
      expect(yahoo.requestsTo('search').length).toBeGreaterThan(0);
      expect(yahoo.requestsTo('quoteSummary').length).toBeGreaterThan(0); // the earnings calendar
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    const stored = await counts(join(dir, 'store.duckdb'));
    expect(stored.bars).toBe(5 * DAYS);
    expect(stored.symbols).toBe(5);
    expect(stored.predictions).toBeGreaterThanOrEqual(5 * 3 * (DAYS - 60));
  }, 150_000);

  it('tickcast backfill: history into the store, idempotent (a second run adds no rows)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-backfill-'));
    const e = env(dir, { TICKCAST_EXPLAIN: 'off' });
    const first = await tickcast(['backfill', '--symbols', 'AAPL,MSFT', '--from', FROM], e);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/backfill: 2\/2 symbols fetched/);
    const after = await counts(join(dir, 'store.duckdb'));
    expect(after.bars).toBe(2 * (DAYS - 1));
    expect(after.predictions).toBeGreaterThan(0);
    const second = await tickcast(['backfill', '--symbols', 'AAPL,MSFT', '--from', FROM], e);
    expect(second.code, second.stderr).toBe(0);
    expect(await counts(join(dir, 'store.duckdb'))).toEqual(after);
  }, 150_000);
  // Bad yahoo settings (exit 2, naming the variable): cli/program.test.ts, in-process.
});
