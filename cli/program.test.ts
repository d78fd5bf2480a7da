// The tickcast command line in-process: each command's output, exit code and error messages, with
// settings from an injected environment (test/cli.test.ts runs the real process for what only a
// process shows: exit codes on the way out, signals, an orphaned child).
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NodeSnapshot } from '../engine/cluster-metrics.js';
import type { RunSummary } from '../engine/index.js';
import { PipelineMetrics } from '../engine/metrics.js';
import { ExplainError } from '../explain/explanation-service.js';
import { sessionsBetween } from '../models/market-calendar.js';
import { QuestDbError } from '../storage/questdb-store.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { VectorStore } from '../storage/vector-store.js';
import { tickcast } from '../test/support/cli-in-process.js';
import { freePort } from '../test/support/free-port.js';
import { startYahooFixtureServer, type YahooFixtureServer } from '../test/support/yahoo-fixture-server.js';
import { exitCodeOf } from './program.js';
import { pipelineStatuses, printStatus } from './status.js';
import { printSummary } from './summary.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** A port nothing listens on: one just freed by a throwaway server. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A stand-in tickcast API: answers every POST /graphql with `answer(query, variables)`. */
const servers: Array<{ close(): void }> = [];
async function fakeApi(answer: (body: { query: string; variables?: Record<string, unknown> }) => unknown) {
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (b: Buffer) => {
      text += b.toString();
    });
    req.on('end', () => {
      const reply = answer(JSON.parse(text));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(typeof reply === 'string' ? reply : JSON.stringify(reply));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { TICKCAST_HOST: '127.0.0.1', TICKCAST_PORT: String((server.address() as { port: number }).port) };
}

afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe('tickcast (in-process)', () => {
  it('says what is wrong with the configuration, naming each variable, and exits 2', async () => {
    const r = await tickcast(['run', '--until-end'], { TICKCAST_TRANSPORT: 'carrier-pigeon', TICKCAST_PACE: 'soon' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TICKCAST_TRANSPORT="carrier-pigeon"');
    expect(r.stderr).toContain('TICKCAST_PACE="soon": a duration such as 500ms, 1s or 2m');
    const exactly = await tickcast(['run', '--until-end'], { KAFKA_EXACTLY_ONCE: 'yes please' });
    expect(exactly.code).toBe(2);
    expect(exactly.stderr).toContain('KAFKA_EXACTLY_ONCE="yes please": on, off, or comma-separated node ids');
    const twice = await tickcast(['run', '--until-end'], { TICKCAST_HORIZONS: '1,1' });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('TICKCAST_HORIZONS="1,1": each horizon once');
  });

  it('names every problem in one message, one line each: the settings, the options, the folders, the pipeline', async () => {
    const run = await tickcast(['run', '--pace', 'soon'], {
      TICKCAST_PORT: 'abc',
      TICKCAST_POLL: 'zzz',
      TICKCAST_DATA_DIR: '/nonexistent/prices',
      TICKCAST_ROLE: 'worker',
      TICKCAST_PIPELINE: 'no-such',
    });
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')).toEqual([
      'tickcast: bad configuration',
      '  - TICKCAST_POLL="zzz": a duration such as 500ms, 1s or 2m (plain numbers are ms)',
      '  - TICKCAST_PORT="abc": a port number: 0 (any free one) to 65535',
      '  - --pace "soon": a duration such as 500ms, 1s or 2m',
      '  - TICKCAST_DATA_DIR="/nonexistent/prices": no such folder (point it at per-ticker daily CSVs)',
      expect.stringMatching(/^ {2}- TICKCAST_PIPELINE="no-such" \(--pipeline\): no pipeline named "no-such"/),
      '  - TICKCAST_ROLE=worker: the source, worker and api roles need TICKCAST_TRANSPORT=kafka',
    ]);
    const evaluate = await tickcast(['evaluate', '--from', '2017-99-01'], { TICKCAST_MODEL: 'best' });
    expect(evaluate.code).toBe(2);
    expect(evaluate.stderr.split('\n')).toEqual([
      'tickcast: bad configuration',
      '  - TICKCAST_MODEL="best": shipped, persistence or drift',
      '  - --from "2017-99-01": a date YYYY-MM-DD',
    ]);
    const dag = await tickcast(['dag'], { TICKCAST_PIPELINE: 'no-such', TICKCAST_PARTITIONS: 'many' });
    expect(dag.code).toBe(2);
    expect(dag.stderr).toContain('TICKCAST_PARTITIONS="many": a whole number from 1 to 1024');
    expect(dag.stderr).toContain('TICKCAST_PIPELINE="no-such" (--pipeline): no pipeline named "no-such"');
  });

  it('checks only the settings a command reads: a bad API port stops what serves or asks the API, nothing else', async () => {
    const env = { TICKCAST_PORT: 'abc' };
    const dag = await tickcast(['dag', '--format', 'mermaid'], env);
    expect(dag.code).toBe(0);
    expect(dag.stdout).toMatch(/^flowchart/);
    // Each stops at its own option (checked before any work), not at the port.
    for (const args of [
      ['evaluate', '--from', 'soon'],
      ['train', '--train-end', 'soon'],
      ['calibration', '--from', 'soon'],
      ['run', '--until-end', '--pace', 'soon'],
      ['backfill', '--from', 'none'],
      ['explain', 'KO', '--db', '/nonexistent/tickcast.duckdb'],
    ]) {
      const r = await tickcast(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).not.toContain('TICKCAST_PORT');
    }
    // What asks the API does read the port.
    const status = await tickcast(['status'], env);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('TICKCAST_PORT="abc": a port number');
    // doctor reports a bad setting among its findings (exit 1, as for any), and checks the rest.
    const doctor = await tickcast(['doctor'], { ...env, TICKCAST_LOG_LEVEL: 'loud' });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/FAIL\s+TICKCAST_PORT\s+"abc": a port number: 0 \(any free one\) to 65535/);
    expect(doctor.stdout).toMatch(/FAIL\s+TICKCAST_LOG_LEVEL\s+"loud": debug, info, warn, error or silent/);
    expect(doctor.stdout).toMatch(/ok\s+Node\.js/);
    expect(doctor.stdout).not.toContain('API port');
    expect(doctor.stdout).toContain(
      'to fix TICKCAST_PORT: set TICKCAST_PORT to what is allowed, or unset it for the default',
    );
  });

  it('refuses a bad --pace, a missing data folder and an unknown pipeline before opening anything', async () => {
    const pace = await tickcast(['run', '--until-end', '--pace', 'soon']);
    expect(pace.code).toBe(2);
    expect(pace.stderr).toBe('tickcast: bad configuration\n  - --pace "soon": a duration such as 500ms, 1s or 2m');
    const data = await tickcast(['run', '--until-end'], { TICKCAST_DATA_DIR: '/nonexistent/prices' });
    expect(data.code).toBe(2);
    expect(data.stderr).toContain('TICKCAST_DATA_DIR="/nonexistent/prices": no such folder');
    // A news folder without headline CSVs is refused at start-up too (it stopped the run mid-replay).
    const empty = mkdtempSync(join(tmpdir(), 'tickcast-no-news-'));
    const news = await tickcast(['run', '--until-end'], { TICKCAST_NEWS: empty });
    expect(news.code).toBe(2);
    expect(news.stderr).toContain(
      `TICKCAST_NEWS="${empty}": holds no .csv files (point it at headline CSVs, or set it to none)`,
    );
    rmSync(empty, { recursive: true });
    const pipeline = await tickcast(['run', '--pipeline', 'no-such', '--until-end']);
    expect(pipeline.code).toBe(2);
    expect(pipeline.stderr).toContain('no pipeline named "no-such"');
    const backfill = await tickcast(['backfill', '--from', 'none']);
    expect(backfill.code).toBe(2);
    expect(backfill.stderr).toContain('--from none: give a first day such as 2024-01-02, or days back such as 400d');
  });

  it('stops with the QuestDB address, not a stack trace, when that store is unreachable (exit 1)', async () => {
    const port = await deadPort();
    const url = `http://127.0.0.1:${port}`;
    const r = await tickcast(['run', '--until-end'], {
      TICKCAST_STORE: 'questdb',
      TICKCAST_EXPLAIN: 'off',
      QUESTDB_URL: url,
      QUESTDB_PG: `postgres://admin:quest@127.0.0.1:${port}/qdb`,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`tickcast: QuestDB at ${url}: not reachable`);
    expect(r.stderr).toContain('(TICKCAST_STORE=questdb: check QUESTDB_URL and QUESTDB_PG)');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('maps each kind of error to its exit code: the user’s input 2, a server down 1, a bug 1 with its stack', () => {
    const lines: string[] = [];
    const io = { err: (l: string) => void lines.push(l) };
    expect(exitCodeOf(new ExplainError('UNKNOWN_SYMBOL', 'unknown symbol "ZZZZ"'), io)).toBe(2);
    expect(exitCodeOf(new QuestDbError('QuestDB at http://q: not reachable'), io)).toBe(1);
    expect(exitCodeOf(new Error('a bug'), io)).toBe(1);
    expect(exitCodeOf('thrown text', io)).toBe(1);
    expect(lines[0]).toBe('tickcast: unknown symbol "ZZZZ"');
    expect(lines[2]).toMatch(/^tickcast: Error: a bug\n\s+at /);
    expect(lines[3]).toBe('tickcast: thrown text');
  });

  it('answers a usage error with the command’s help (exit 2, as a bad setting) and --help with 0', async () => {
    const bad = await tickcast(['dag', '--format', 'xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("argument 'xml' is invalid. Allowed choices are json, mermaid.");
    expect(bad.stderr).toContain('Usage: tickcast dag [options]');
    const unknown = await tickcast(['forecast']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'forecast'");
    const option = await tickcast(['dag', '--colour']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--colour'");
    const missing = await tickcast(['explain']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'symbol'");
    const help = await tickcast(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: tickcast \[options\] \[command\]/);
    expect(help.stdout).toMatch(/^\s+calibration \[options\]/m);
  });

  it('lists the pipelines as a table and as JSON', async () => {
    const table = await tickcast(['pipelines']);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^name\s+file\s+description$/);
    expect(lines[1]).toMatch(/^-+\s+-+\s+-+$/);
    expect(lines[2]).toMatch(/^price-prediction\s+pipelines\/price-prediction\.ts\s+quotes → bars/);
    expect(lines[3]).toMatch(/^sma-cross\s+pipelines\/sma-cross\.ts\s+/);
    const json = await tickcast(['pipelines', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ name: 'price-prediction', file: 'pipelines/price-prediction.ts' }),
      expect.objectContaining({ name: 'sma-cross', file: 'pipelines/sma-cross.ts' }),
    ]);
  });

  it('prints the DAG as JSON and Mermaid, of the default pipeline or the one named', async () => {
    const json = await tickcast(['dag', '--format', 'json']);
    expect(json.code).toBe(0);
    const dag = JSON.parse(json.stdout) as { nodes: Array<{ id: string }>; edges: unknown[] };
    expect(dag.nodes.map((n) => n.id)).toEqual(expect.arrayContaining(['bars', 'predict-earnings', 'embed-news']));
    expect(dag.edges.length).toBeGreaterThan(0);
    // Without explanations, no explanation nodes.
    const off = JSON.parse((await tickcast(['dag'], { TICKCAST_EXPLAIN: 'off' })).stdout) as typeof dag;
    expect(off.nodes.map((n) => n.id)).not.toContain('embed-news');
    const mermaid = await tickcast(['dag', '--format', 'mermaid']);
    expect(mermaid.stdout).toMatch(/^flowchart LR/);
    const sma = await tickcast(['dag', '--pipeline', 'sma-cross']);
    expect(JSON.parse(sma.stdout).nodes.map((n: { id: string }) => n.id)).toContain('sma-cross');
  });

  it('dag shows the chains a run would use: bars → … → predict and the store sinks, and none with chaining off', async () => {
    type Chains = { chains: Array<{ head: string; nodes: string[]; fused: string[] }> };
    const on = JSON.parse((await tickcast(['dag'], { TICKCAST_EXPLAIN: 'off' })).stdout) as Chains;
    expect(on.chains).toEqual([
      expect.objectContaining({
        head: 'bars',
        // The store sinks write in the chain's step; the live fan-out stays apart (chain: false).
        nodes: ['bars', 'features', 'store-bars', 'router', 'predict-normal', 'predict-earnings', 'store-predictions'],
      }),
    ]);
    // Without the explanation path nobody else reads features.normal/earnings: they are fused too.
    expect(on.chains[0]!.fused).toEqual(['features', 'features.normal', 'features.earnings']);
    const off = JSON.parse(
      (await tickcast(['dag'], { TICKCAST_EXPLAIN: 'off', TICKCAST_CHAINING: 'off' })).stdout,
    ) as Chains;
    expect(off.chains).toEqual([]);
    const mermaid = await tickcast(['dag', '--format', 'mermaid'], { TICKCAST_CHAINING: 'off' });
    expect(mermaid.stdout).not.toContain('subgraph');
  });

  it('doctor: ok on embedded defaults; a taken API port fails it (exit 1) with the fix', async () => {
    const ok = await tickcast(['doctor'], { TICKCAST_PORT: '0' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok\s+Node\.js\s+\d+\.\d+\.\d+$/m);
    expect(ok.stdout).toMatch(/TensorFlow\.js backend/);
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await tickcast(['doctor'], { TICKCAST_HOST: '127.0.0.1', TICKCAST_PORT: String(port) });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        new RegExp(`^FAIL\\s+API port 127\\.0\\.0\\.1:${port} \\(TICKCAST_PORT\\)\\s+in use`, 'm'),
      );
      expect(r.stdout).toContain(
        `to fix API port 127.0.0.1:${port} (TICKCAST_PORT): stop what holds it, or set TICKCAST_PORT (0: any free port)`,
      );
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});

describe('tickcast status (in-process)', () => {
  const answer = {
    data: {
      pipeline: {
        name: 'price-prediction',
        nodes: [
          {
            id: 'market-data',
            metrics: { status: 'ended', recordsIn: 0, recordsOut: 12_345, deadLetters: 1, lag: 0, stateKeys: null },
          },
          {
            id: 'bars',
            metrics: {
              status: 'running',
              recordsIn: 12_000,
              recordsOut: 11_990,
              deadLetters: 0,
              lag: 345,
              stateKeys: 50,
            },
          },
          { id: 'store-bars', metrics: null },
        ],
      },
    },
  };

  it('with the memory transport, shows the serving process’s nodes as a table', async () => {
    const api = await fakeApi(() => answer);
    const r = await tickcast(['status'], api);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(
      `price-prediction: one process (memory transport), from http://127.0.0.1:${api.TICKCAST_PORT}/graphql`,
    );
    expect(lines[1]).toMatch(/^node\s+status\s+in\s+out\s+dlq\s+lag\s+state keys$/);
    expect(lines[3]).toMatch(/^market-data\s+ended\s+0\s+12,345\s+1\s+0\s+-$/);
    expect(lines[4]).toMatch(/^bars\s+running\s+12,000\s+11,990\s+0\s+345\s+50$/);
    // A node without figures yet: idle, zeros.
    expect(lines[5]).toMatch(/^store-bars\s+idle\s+0\s+0\s+0\s+0\s+-$/);
    expect(lines).toHaveLength(6);
  });

  it('--json: one array with the pipeline, ended when every node has', async () => {
    const api = await fakeApi(() => answer);
    const r = await tickcast(['status', '--json'], api);
    const [s] = JSON.parse(r.stdout) as Array<{ pipeline: string; ended: boolean; nodes: unknown[] }>;
    expect(s).toMatchObject({ pipeline: 'price-prediction', ended: false, processes: [] });
    expect(s!.nodes[2]).toEqual({
      node: 'store-bars',
      status: 'idle',
      recordsIn: 0,
      recordsOut: 0,
      deadLetters: 0,
      lag: 0,
      stateKeys: null,
      instances: [],
    });
  });

  it('says there is nothing to inspect (exit 1) when nothing answers, or the answer is not a pipeline', async () => {
    const none = await tickcast(['status'], { TICKCAST_HOST: '127.0.0.1', TICKCAST_PORT: String(await deadPort()) });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/nothing to inspect.*TICKCAST_TRANSPORT=memory/s);
    const api = await fakeApi(() => 'not json');
    const garbled = await tickcast(['status'], api);
    expect(garbled.code).toBe(1);
    expect(garbled.stderr).toContain('nothing to inspect');
  });

  it('--json with nothing serving prints JSON too: running false and the reason (exit 1)', async () => {
    const port = await deadPort();
    const r = await tickcast(['status', '--json'], { TICKCAST_HOST: '127.0.0.1', TICKCAST_PORT: String(port) });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      running: false,
      reason: `nothing to inspect. TICKCAST_TRANSPORT=memory runs a pipeline in one process, and none answers on http://127.0.0.1:${port}/graphql.`,
    });
    expect(r.stderr).toBe('');
  });

  it('scaled out: each node with the processes that run it and the partitions they own, then the processes', () => {
    const snapshot = (proc: string, role: string, node: string, over: Partial<NodeSnapshot['node']>) => ({
      pipeline: 'price-prediction',
      process: { id: proc, role, host: 'h', pid: 1, startedAt: 0 },
      node: { ...new PipelineMetrics('p').node(node), ...over },
      at: 1000,
      intervalMs: 1000,
      exited: true,
    });
    const [s] = pipelineStatuses(
      [
        snapshot('w1', 'worker', 'bars', { status: 'ended', group: 'g', partitions: ['quotes/0', 'quotes/1'] }),
        snapshot('w2', 'worker', 'bars', { status: 'ended', group: 'g', partitions: ['quotes/2'], recordsIn: 7 }),
        snapshot('src', 'source', 'market-data', { status: 'ended', recordsOut: 1234 }),
      ],
      2000,
    );
    const lines: string[] = [];
    printStatus(s!, { out: (l) => void lines.push(l) });
    expect(lines[0]).toBe('price-prediction: ended — 3 processes (0 live, 3 exited or gone)');
    expect(lines[1]).toMatch(/^node\s+status\s+in\s+out\s+dlq\s+lag\s+state keys\s+processes \(partitions owned\)$/);
    expect(lines[3]).toMatch(/^market-data\s+ended\s+0\s+1,234\s+0\s+0\s+-\s+src \(exited\)$/);
    expect(lines[4]).toMatch(/^bars\s+ended\s+7\s+.*w1 \(exited\) \[quotes 0-1\], w2 \(exited\) \[quotes 2\]$/);
    expect(lines[5]).toBe('');
    expect(lines[6]).toMatch(/^process\s+role\s+state\s+last seen$/);
    expect(lines.slice(8)).toEqual([
      expect.stringMatching(/^src\s+source\s+exited\s+1970-01-01T00:00:01\.000Z$/),
      expect.stringMatching(/^w1\s+worker\s+exited/),
      expect.stringMatching(/^w2\s+worker\s+exited/),
    ]);
  });
});

describe('tickcast explain (in-process)', () => {
  const explanation = {
    predictionId: 'KO-2017-12-29-1',
    symbol: 'KO',
    horizon: 5,
    text: 'The model expects KO to rise 0.4% [F1].\n\nA headline says so [N1].',
    explainer: 'template',
    requestedExplainer: 'ollama',
    grounded: true,
    fallbackReason: 'ollama unreachable',
    firstTextMs: 3,
    latencyMs: 12.4,
    cached: true,
    generatedAt: '2026-01-02T03:04:05.000Z',
    citations: [
      {
        ref: 'F1',
        id: 'f1',
        kind: 'FACT',
        title: '20-day return',
        detail: '+2.1%',
        time: '2017-12-29T21:00:00.000Z',
        score: null,
        url: null,
      },
      {
        ref: 'N1',
        id: 'n1',
        kind: 'NEWS',
        title: 'Coke beats',
        detail: 'Reuters',
        time: '2017-12-28T15:00:00.000Z',
        score: 0.8,
        url: 'https://example.com/ko',
      },
    ],
  };

  it('refuses a horizon that is not a whole number of days (exit 2) before asking anyone', async () => {
    for (const h of ['0', 'abc', '1.5']) {
      const r = await tickcast(['explain', 'KO', '--horizon', h]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--horizon ${JSON.stringify(h)}: a whole number of trading days, such as 1`);
    }
  });

  it('prints the running server’s explanation, wrapped, with its citations and who wrote it', async () => {
    let asked: Record<string, unknown> | undefined;
    const api = await fakeApi((body) => {
      asked = body.variables;
      return { data: { explanation } };
    });
    const r = await tickcast(['explain', ' ko ', '--horizon', '5'], api);
    expect(r.code, r.stderr).toBe(0);
    expect(asked).toEqual({ symbol: 'KO', horizon: 5 });
    expect(r.stdout.split('\n')).toEqual([
      'KO, 5 trading days ahead (prediction KO-2017-12-29-1)',
      '',
      'The model expects KO to rise 0.4% [F1].',
      '',
      'A headline says so [N1].',
      '',
      '  [F1] 20-day return: +2.1%',
      expect.stringMatching(/^ {2}\[N1\] "Coke beats" \(Reuters, .*2017.*\) https:\/\/example\.com\/ko$/),
      '',
      'written by template (fallback from ollama: ollama unreachable); grounded; 12 ms (cached)',
    ]);
    const json = await tickcast(['explain', 'KO', '--json'], api);
    expect(JSON.parse(json.stdout)).toMatchObject({
      symbol: 'KO',
      generatedAt: Date.parse('2026-01-02T03:04:05.000Z'),
      citations: [
        { kind: 'fact', ts: Date.parse('2017-12-29T21:00:00.000Z') },
        { kind: 'news', ts: Date.parse('2017-12-28T15:00:00.000Z') },
      ],
    });
  });

  it('a symbol the server does not know is the user’s input (exit 2); other server errors exit 1', async () => {
    const unknown = await fakeApi(() => ({
      errors: [{ message: 'unknown symbol "ZZZZ": no data for it', extensions: { code: 'UNKNOWN_SYMBOL' } }],
    }));
    const r = await tickcast(['explain', 'zzzz'], unknown);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('tickcast: unknown symbol "ZZZZ": no data for it');
    const failing = await fakeApi(() => ({ errors: [{ message: 'boom', extensions: { code: 'INTERNAL' } }] }));
    const f = await tickcast(['explain', 'KO'], failing);
    expect(f.code).toBe(1);
    expect(f.stderr).toContain(`http://127.0.0.1:${failing.TICKCAST_PORT}/graphql: boom`);
    const empty = await fakeApi(() => ({ data: { explanation: null } }));
    expect((await tickcast(['explain', 'KO'], empty)).stderr).toContain('no explanation in the answer');
    const garbled = await fakeApi(() => '<html>');
    expect((await tickcast(['explain', 'KO'], garbled)).stderr).toContain('answered 200 without a GraphQL body');
  });
});

describe('tickcast evaluate, calibration and train: argument errors (in-process)', () => {
  it('evaluate names every bad argument at once (exit 2)', async () => {
    const r = await tickcast(['evaluate', '--from', 'last tuesday', '--horizon', '2', '--to', '2017-02-30x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--from "last tuesday": a date YYYY-MM-DD');
    expect(r.stderr).toContain('--horizon 2: one of 1, 5, 21');
    expect(r.stderr).toContain('--to "2017-02-30x": a date YYYY-MM-DD');
    const data = await tickcast(['evaluate', '--data', 'no/such/folder']);
    expect(data.code).toBe(2);
    expect(data.stderr).toContain('--data "no/such/folder": no such folder (point it at per-ticker daily CSVs)');
  });

  it('calibration refuses a step size out of range and a missing folder, without a stack trace (exit 2)', async () => {
    const r = await tickcast(['calibration', '--eta', 'lots', '--data', 'no/such/folder', '--from', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--eta "lots": a step size from 0 (off) to 10');
    expect(r.stderr).toContain('--data "no/such/folder": no such folder (point it at per-ticker daily CSVs)');
    expect(r.stderr).toContain('--from "soon": a date YYYY-MM-DD');
    expect(r.stderr).not.toContain('ENOENT');
    const eta = await tickcast(['calibration', '--eta', '11']);
    expect(eta.stderr).toContain('--eta "11": a step size from 0 (off) to 10');
  });

  it('train refuses a bad last training day, too few validation days and a missing earnings file (exit 2)', async () => {
    const r = await tickcast([
      'train',
      '--train-end',
      '2016-12',
      '--validation-days',
      '5',
      '--earnings',
      'no/such/earnings.csv',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--train-end "2016-12": a date YYYY-MM-DD');
    expect(r.stderr).toContain('--validation-days 5: a whole number of trading days >= 20');
    expect(r.stderr).toContain('no/such/earnings.csv');
  });
});

describe('tickcast run --until-end (in-process)', () => {
  it('replays a folder to the end and prints the summary: nodes, the store, dead letters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-inproc-'));
    mkdirSync(join(dir, 'csv'));
    copyFileSync(join(ROOT, 'data/sp500-daily/KO_data.csv'), join(dir, 'csv/KO_data.csv'));
    const handlers = process.listenerCount('SIGTERM');
    const r = await tickcast(['run', '--until-end', '--db', join(dir, 'store.duckdb')], {
      TICKCAST_DATA_DIR: join(dir, 'csv'),
      TICKCAST_EXPLAIN: 'off',
      TICKCAST_MODEL: 'persistence',
      TICKCAST_LOG_LEVEL: 'warn',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^tickcast: replay → memory transport → duckdb \(.*store\.duckdb\); models persistence@/);
    expect(r.stdout).toMatch(/^price-prediction: finished in \d+\.\d s$/m);
    expect(r.stdout).toMatch(/^node\s+status\s+in\s+out\s+dlq\s+ms\/batch$/m);
    expect(r.stdout).toMatch(/^store-bars\s+ended\s+1,259\s/m);
    // 1,259 bars, 3 horizons each; all but the last 1 + 5 + 21 scored.
    expect(r.stdout).toContain('store (duckdb): 1,259 bars, 3,777 predictions, 3,750 scored, 1 symbols');
    expect(r.stdout).toMatch(/^dead letters: 0$/m);
    // Its signal handlers are gone with it: nothing is left to stop.
    expect(process.listenerCount('SIGTERM')).toBe(handlers);

    // Nothing serving: `explain --db` reads the stores the run wrote.
    const db = join(dir, 'store.duckdb');
    const e = await tickcast(['explain', 'ko', '--db', db], { TICKCAST_NEWS: 'none' });
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^KO, 1 trading day ahead \(prediction \S+\)$/m);
    expect(e.stdout).toMatch(/written by template; grounded; \d+ ms$/);
    const unknown = await tickcast(['explain', 'ZZZZ', '--db', db], { TICKCAST_NEWS: 'none' });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('tickcast: unknown symbol "ZZZZ"');
  });
});

describe('the end-of-run summary', () => {
  const node = (name: string, over: Partial<RunSummary['nodes'][number]> = {}) => ({
    ...new PipelineMetrics('p').node(name),
    status: 'ended' as const,
    ...over,
  });
  const store = {
    kind: 'duckdb',
    counts: async () => ({ bars: 3776, predictions: 11_328, scores: 11_247, symbols: 3 }),
  } as unknown as TimeSeriesStore;
  const vectors = {
    kind: 'duckdb',
    embedder: { id: 'transformers.js:all-MiniLM-L6-v2@q8' },
    count: async (c: string) => (c === 'news' ? 297 : 3),
  } as unknown as VectorStore;

  it('prints the nodes, the stores, and the dead letters grouped, saying when the topics count differently', async () => {
    const lines: string[] = [];
    await printSummary(
      {
        pipeline: 'price-prediction',
        durationMs: 12_345,
        stopped: false,
        nodes: [
          node('market-data', { recordsOut: 3777, deadLetters: 1 }),
          node('bars', { recordsIn: 3776, recordsOut: 3776, batches: 4, processingMs: 10 }),
        ],
        deadLetters: 1,
      },
      store,
      [{ topic: 'quotes', reason: 'source: open is empty', count: 2, examples: ['REGN_data.csv:588', 'X.csv:1'] }],
      (l) => void lines.push(l),
      vectors,
    );
    expect(lines[0]).toBe('\nprice-prediction: finished in 12.3 s');
    expect(lines[1]).toMatch(/^node\s+status\s+in\s+out\s+dlq\s+ms\/batch$/);
    expect(lines[3]).toMatch(/^market-data\s+ended\s+0\s+3,777\s+1\s+-$/);
    expect(lines[4]).toMatch(/^bars\s+ended\s+3,776\s+3,776\s+0\s+2\.50$/);
    expect(lines[5]).toBe('store (duckdb): 3,776 bars, 11,328 predictions, 11,247 scored, 3 symbols');
    expect(lines[6]).toBe('vector store (duckdb, transformers.js:all-MiniLM-L6-v2@q8): 297 headlines, 3 fact sheets');
    expect(lines[7]).toMatch(/^dead letters: 1 counted by the nodes, 2 in the dead-letter topics \(redeliveries/);
    expect(lines[8]).toMatch(/^topic\s+count\s+reason\s+first at$/);
    expect(lines[10]).toMatch(/^quotes\s+2\s+source: open is empty\s+REGN_data\.csv:588, X\.csv:1$/);
  });

  it('says a stopped run stopped, and no more than the count when the topics agree', async () => {
    const lines: string[] = [];
    await printSummary(
      { pipeline: 'sma-cross', durationMs: 500, stopped: true, nodes: [node('sma-cross')], deadLetters: 0 },
      store,
      [],
      (l) => void lines.push(l),
    );
    expect(lines[0]).toBe('\nsma-cross: stopped in 0.5 s');
    expect(lines.at(-1)).toBe('dead letters: 0');
    expect(lines.some((l) => l.startsWith('vector store'))).toBe(false);
  });
});

describe('tickcast evaluate and calibration on a small folder (in-process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-eval-'));
  for (const t of ['AAPL', 'KO', 'MSFT', 'XOM', 'JPM']) {
    copyFileSync(join(ROOT, 'data/sp500-daily', `${t}_data.csv`), join(dir, `${t}_data.csv`));
  }

  it('evaluate: the tables, then one JSON line of the shipped model against the baselines', async () => {
    const r = await tickcast(['evaluate', '--data', dir, '--horizon', '5', '--to', '2017-12-29', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^evaluate: 5 symbols, [\d,]+ examples \(0 broken rows skipped\), horizon 5, from 2017-02-08 to 2017-12-29$/m,
    );
    expect(r.stdout).toMatch(
      /^model\s+days\s+n\s+MAE %\s+MAE\/persist\s+MAE\/best\s+hit rate\s+rank IC\s+IC t\s+cov80\s+pinball$/m,
    );
    expect(r.stdout).toMatch(/^persistence@1\s+normal\s+[\d,]+\s/m);
    expect(r.stdout).toMatch(/\(shipped\)\s+earnings/);
    expect(r.stdout).toMatch(
      /^best baseline by MAE: \w+ \(all\), \w+ \(normal\), \w+ \(earnings\); always-up hit rate/m,
    );
    expect(r.stdout).toMatch(/^constantDrift: median 5-day log return [+-]\d\.\d{3}% of [\d,]+ training examples/m);
    expect(r.stdout).toMatch(/earnings coverage 100\.0%/);
    // Horizon 5: rank IC over 1 date in 5, then per year.
    expect(r.stdout).toMatch(/^model\s+days\s+IC 1 date in 5\s+t\s+dates\s+2017$/m);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(last).toMatchObject({
      horizon: 5,
      n: expect.any(Number),
      earnings: { n: expect.any(Number) },
      all: { n: expect.any(Number) },
      earningsCoverage: 1,
      constantDriftTraining: { n: expect.any(Number), to: expect.stringMatching(/^2017-/) },
    });
  });

  it('calibration: coverage per horizon and regime, per quarter, one JSON line; the exit code says whether all are in band', async () => {
    const r = await tickcast(['calibration', '--data', dir, '--from', '2017-07-03', '--to', '2017-12-29', '--json']);
    expect(r.stdout).toMatch(/^horizon\s+days\s+n\s+models' own\s+calibrated\s+band$/m);
    expect(r.stdout).toMatch(/^h1\s+normal\s+[\d,]+\s+[\d.]+%\s+[\d.]+%\s+78%–82%\s+(ok|OUT)$/m);
    expect(r.stdout).toMatch(/^quarter\s+h1\s+h5\s+h21$/m);
    expect(r.stdout).toMatch(/^2017 Q3\s+[\d.]+%\s+[\d.]+%\s+[\d.]+%$/m);
    expect(r.stdout).toMatch(/^2017 Q4\s/m);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      command: string;
      from: string;
      groups: Array<{ horizon: number; regime: string; inBand: boolean }>;
      allInBand: boolean;
    };
    expect(last).toMatchObject({ command: 'calibration', from: '2017-07-03' });
    expect(last.groups.map((g) => `${g.horizon}:${g.regime}`)).toEqual([
      '1:earnings',
      '1:normal',
      '5:earnings',
      '5:normal',
      '21:earnings',
      '21:normal',
    ]);
    expect(r.code).toBe(last.allInBand ? 0 : 1);
    if (!last.allInBand)
      expect(r.stderr).toMatch(/tickcast calibration: coverage out of band in \d of 6 groups: h\d+ \w+ /);
  });
});

describe('tickcast train on a small folder (in-process)', () => {
  it('fits the candidates, prints the validation table and what it ships, and writes the artifacts where asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-train-'));
    mkdirSync(join(dir, 'csv'));
    for (const t of ['AAPL', 'KO']) {
      copyFileSync(join(ROOT, 'data/sp500-daily', `${t}_data.csv`), join(dir, 'csv', `${t}_data.csv`));
    }
    const artifacts = join(dir, 'artifacts');
    const r = await tickcast([
      'train',
      '--data',
      join(dir, 'csv'),
      '--validation-days',
      '60',
      '--artifacts',
      artifacts,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^validation \(horizon 1\): [\d,]+ examples$/m);
    expect(r.stdout).toMatch(/^model\s+days\s+n\s+MAE %/m);
    expect(r.stdout).toMatch(/^linear@2016-12-31-\w+( \(shipped\))?\s+all\s+\d+\s/m);
    expect(r.stdout).toMatch(/^point forecast at h21: /m);
    expect(r.stdout).toMatch(
      /^shipped \S+@2016-12-31-\w+, earnings median × [\d.]+, interval × [\d.]+; \d+ s in all$/m,
    );
    expect(readdirSync(artifacts)).toEqual(expect.arrayContaining(['shipped.json', 'linear', 'mlp']));
  });
});

describe('tickcast backfill from the Yahoo fixture server (in-process)', () => {
  const FROM = '2024-09-03';
  /** History days up to the fixture's SYNTHETIC charts' last day, 2025-02-13. */
  const DAYS = sessionsBetween(FROM, '2025-02-13').length;
  let yahoo: YahooFixtureServer;
  beforeAll(async () => {
    yahoo = await startYahooFixtureServer({ syntheticCharts: { test: () => true } });
  });
  afterAll(() => yahoo.close());
  const env = (dir: string, extra: Record<string, string> = {}) => ({
    TICKCAST_SOURCE: 'yahoo',
    YAHOO_BASE_URL: yahoo.url,
    YAHOO_RATE: '0',
    TICKCAST_SYMBOLS: 'AAPL,MSFT',
    TICKCAST_BACKFILL_FROM: FROM,
    TICKCAST_DB: join(dir, 'store.duckdb'),
    TICKCAST_EXPLAIN: 'off',
    TICKCAST_LOG_LEVEL: 'warn',
    ...extra,
  });

  it('writes the history through the pipeline into the store, and a second run adds no rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-backfill-'));
    const first = await tickcast(['backfill', '--symbols', 'aapl,MSFT', '--from', FROM], env(dir));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/^tickcast: backfill of 2 symbols from 2024-09-03 \(Yahoo, daily\) → duckdb/m);
    expect(first.stdout).toMatch(/^price-prediction: finished in/m);
    expect(first.stdout).toContain(`store (duckdb): ${(2 * DAYS).toLocaleString('en-US')} bars,`);
    const second = await tickcast(['backfill', '--symbols', 'AAPL,MSFT', '--from', FROM], env(dir));
    expect(second.code, second.stderr).toBe(0);
    const store = (text: string) => /^store \(duckdb\): .*$/m.exec(text)?.[0];
    expect(store(second.stdout)).toBe(store(first.stdout));
  });

  it('bad yahoo settings stop start-up with exit 2, naming the variable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-yahoo-bad-'));
    const bad = await tickcast(
      ['run', '--until-end'],
      env(dir, { TICKCAST_SYMBOLS: 'AAPL,not a ticker', YAHOO_RATE: '-5' }),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('YAHOO_RATE="-5"');
    const symbols = await tickcast(['run', '--until-end'], env(dir, { TICKCAST_SYMBOLS: 'AAPL,not a ticker' }));
    expect(symbols.code).toBe(2);
    expect(symbols.stderr).toContain('TICKCAST_SYMBOLS="AAPL,not a ticker": not tickers: "not a ticker"');
    const from = await tickcast(['backfill', '--from', '2025-02-30'], env(dir));
    expect(from.code).toBe(2);
    expect(from.stderr).toContain('TICKCAST_BACKFILL_FROM="2025-02-30": not a calendar day');
  });
});

describe('tickcast run, serving (in-process)', () => {
  it('a start-up that fails once the API listens (a horizon the model does not forecast) closes it: exit 2, the port free', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-serve-fails-'));
    mkdirSync(join(dir, 'csv'));
    copyFileSync(join(ROOT, 'data/sp500-daily/KO_data.csv'), join(dir, 'csv/KO_data.csv'));
    const port = await freePort();
    const r = await tickcast(['run', '--db', join(dir, 's.duckdb')], {
      TICKCAST_DATA_DIR: join(dir, 'csv'),
      TICKCAST_EXPLAIN: 'off',
      TICKCAST_HORIZONS: '2',
      TICKCAST_HOST: '127.0.0.1',
      TICKCAST_PORT: String(port),
      TICKCAST_LOG_LEVEL: 'warn',
    });
    expect(r.code, r.stderr).toBe(2);
    // It served the store while the model loaded, then stopped with the reason, and closed.
    expect(r.stderr).toContain(`tickcast: GraphQL on http://127.0.0.1:${port}/graphql`);
    expect(r.stderr).toContain('TICKCAST_HORIZONS=2: the shipped model');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('serves the API after the replay, and stops cleanly on SIGTERM (exit 0)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-serve-inproc-'));
    mkdirSync(join(dir, 'csv'));
    copyFileSync(join(ROOT, 'data/sp500-daily/KO_data.csv'), join(dir, 'csv/KO_data.csv'));
    const before = new Set(process.listeners('SIGTERM'));
    // Its shutdown ends the process: here, it says so instead.
    const exited = new Promise<number | undefined>((resolve) => {
      vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
        resolve(code);
      }) as typeof process.exit);
    });
    try {
      const r = await tickcast(['run', '--db', join(dir, 's.duckdb')], {
        TICKCAST_DATA_DIR: join(dir, 'csv'),
        TICKCAST_EXPLAIN: 'off',
        TICKCAST_MODEL: 'persistence',
        TICKCAST_HOST: '127.0.0.1',
        TICKCAST_PORT: '0',
        TICKCAST_LOG_LEVEL: 'warn',
      });
      // The command returns once the replay is through, still serving.
      expect(r.code, r.stderr).toBe(0);
      const url = /GraphQL on (http:\/\/\S+)\/graphql/.exec(r.stderr)?.[1];
      expect(url, r.stderr).toBeDefined();
      expect(r.stderr).toContain(`tickcast: dashboard on ${url}/`);
      expect(r.stderr).toContain(`tickcast: replay finished; still serving ${url} (Ctrl-C to stop)`);
      expect(r.stdout).toContain('store (duckdb): 1,259 bars');
      const health = await fetch(`${url}/healthz`);
      expect(await health.json()).toMatchObject({ status: 'ok', store: { kind: 'duckdb', ok: true } });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('tickcast_records_in_total{node="store-bars"} 1259');
      // SIGTERM: its handler, called as the signal would.
      const handler = process.listeners('SIGTERM').find((l) => !before.has(l));
      expect(handler).toBeDefined();
      process.off('SIGTERM', handler!);
      (handler as (signal: string) => void)('SIGTERM');
      expect(await exited).toBe(0);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      vi.restoreAllMocks();
      for (const l of process.listeners('SIGINT')) if (!before.has(l)) process.off('SIGINT', l);
    }
  });
});
