// A run serves its API as soon as the store is open (serveStarting), before the models and the
// pipeline load: a restarted tickcast answers from what it stored while the rest starts, and what
// reads the pipeline waits for it (pipelineStarted).
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineOperator, definePipeline } from '../engine/index.js';
import { PIPELINES, type PipelineModule } from '../pipelines/modules.js';
import { type Quote, schemas } from '../schemas/index.js';
import {
  buildApp,
  completeApp,
  kafkaRunOptions,
  openApp,
  openStore,
  pipelineStarted,
  serveStarting,
  startPipeline,
  topicsBeforeBuild,
} from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';

const ROOT = new URL('..', import.meta.url).pathname;

async function gql(url: string, query: string): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

describe('a run serves the store before its pipeline starts', () => {
  let dir: string;
  let config: Config;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tickcast-serve-starting-'));
    mkdirSync(join(dir, 'csv'));
    copyFileSync(join(ROOT, 'data/sp500-daily/KO_data.csv'), join(dir, 'csv/KO_data.csv'));
    config = loadConfig({
      TICKCAST_DATA_DIR: join(dir, 'csv'),
      TICKCAST_DB: join(dir, 'store.duckdb'),
      TICKCAST_MODEL: 'persistence',
      TICKCAST_NEWS: 'none',
      TICKCAST_EXPLAIN: 'off',
      TICKCAST_HOST: '127.0.0.1',
      TICKCAST_PORT: '0',
      TICKCAST_LOG_LEVEL: 'warn',
    });
    // A first run stored KO's predictions, then stopped.
    const first = await buildApp(config);
    const running = await startPipeline(first);
    await running.done;
    await running.transport.close();
    await first.store.close();
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers stored predictions and /healthz "starting" at once; the pipeline query waits until it runs', async () => {
    // The restart: the store is open and the API listens; no model is loaded, no pipeline built.
    const base = await openApp(config);
    const server = (await serveStarting(base))!;
    expect(server).not.toBeNull();
    try {
      const starting = await fetch(`${server.url}/healthz`);
      expect(starting.status).toBe(200);
      expect(await starting.json()).toEqual({ status: 'starting', store: { kind: 'duckdb', ok: true }, nodes: [] });
      const stored = await gql(server.url, '{ prediction(symbol: "KO") { symbol horizon } }');
      expect(stored).toEqual({ data: { prediction: { symbol: 'KO', horizon: 1 } } });

      // Asked now, the DAG is answered once the pipeline runs, not before.
      let answered = false;
      const dag = gql(server.url, '{ pipeline { name } model { normal { name } } }').finally(() => {
        answered = true;
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(answered).toBe(false);

      const app = await completeApp(base);
      const running = await startPipeline(app);
      pipelineStarted(server, app, running);
      expect(await dag).toEqual({
        data: { pipeline: { name: 'price-prediction' }, model: { normal: { name: 'persistence' } } },
      });
      await running.done;
      const ok = await fetch(`${server.url}/healthz`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ status: 'ok', store: { ok: true } });
      // The engine's series join /metrics once the pipeline runs.
      expect(await (await fetch(`${server.url}/metrics`)).text()).toContain(
        'tickcast_records_in_total{node="store-bars"}',
      );
      await running.transport.close();
    } finally {
      await server.close();
      await base.store.close();
    }
  }, 120_000);
});

describe('topicsBeforeBuild: the public topics an API can serve before the pipeline is built', () => {
  const bundledTopics = PIPELINES.flatMap((m) => m.publicTopics ?? []).map((t) => t.name);
  const build = PIPELINES[0]!.build;

  it('a bundled pipeline: the bundled pipelines’ public topics (as servedTopics gives a running one)', () => {
    for (const m of PIPELINES) expect(topicsBeforeBuild(m)?.map((t) => t.name)).toEqual(bundledTopics);
  });

  it('a module file: its declared publicTopics beside the bundled ones; none declared: not known (served once built)', () => {
    const file: PipelineModule = { name: 'mine', file: 'mine.ts', description: 'a module file', build };
    expect(topicsBeforeBuild(file)).toBeNull();
    const declared = { ...file, publicTopics: [] };
    expect(topicsBeforeBuild(declared)?.map((t) => t.name)).toEqual(bundledTopics);
  });
});

describe('the embedded database, held by another process', () => {
  it("names TICKCAST_DB and the process that holds it, instead of DuckDB's lock error", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tickcast-lock-')), 'held.duckdb');
    // Another process with the file open, as a tickcast left running in another terminal would be.
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { DuckDBInstance } = await import('@duckdb/node-api');
         const db = await DuckDBInstance.create(${JSON.stringify(path)});
         await db.connect();
         console.log('open');
         setInterval(() => {}, 1000);`,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once('data', () => resolve());
        holder.once('exit', (code) => reject(new Error(`the holder exited (${code})`)));
      });
      const config = loadConfig({ TICKCAST_DB: path });
      const refused = await openStore(config).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(ConfigError);
      expect(String(refused)).toContain(
        `TICKCAST_DB=${path}: the database is open in another process (PID ${holder.pid}`,
      );
    } finally {
      holder.kill();
    }
  });
});

describe('kafkaRunOptions', () => {
  // A pipeline of a source and a sink is enough to see what each role runs.
  const source = defineOperator({
    kind: 'source',
    name: 'quotes',
    outputs: { quotes: schemas.Quote },
    async run() {},
  });
  const sink = defineOperator<Quote>({ kind: 'sink', name: 'store', input: schemas.Quote, async write() {} });
  const pipeline = definePipeline({
    name: 'small',
    topics: { quotes: { schema: schemas.Quote, partitions: 2 } },
    nodes: [
      { id: 'source', operator: source, writes: { quotes: 'quotes' } },
      { id: 'store', operator: sink, reads: 'quotes' },
    ],
  });

  it('hands the run the Kafka settings a user gave: commit interval, exactly-once, chaining, batch size', () => {
    const c = loadConfig({
      TICKCAST_TRANSPORT: 'kafka',
      KAFKA_BROKERS: '127.0.0.1:1',
      TICKCAST_ROLE: 'worker',
      KAFKA_TOPIC_PREFIX: 'team-a.',
      KAFKA_COMMIT_INTERVAL: '5s',
      KAFKA_EXACTLY_ONCE: 'off',
      TICKCAST_CHAINING: 'off',
      TICKCAST_BATCH_SIZE: '500',
    });
    expect(kafkaRunOptions(c, pipeline)).toEqual({
      batchSize: 500,
      groupPrefix: 'team-a.small',
      nodes: ['store'],
      exactlyOnce: false,
      commitIntervalMs: 5000,
      chaining: false,
    });
    expect(
      kafkaRunOptions(loadConfig({ TICKCAST_TRANSPORT: 'kafka', KAFKA_BROKERS: '127.0.0.1:1' }), pipeline),
    ).toMatchObject({
      commitIntervalMs: 1000,
      nodes: ['source', 'store'],
    });
  });
});
