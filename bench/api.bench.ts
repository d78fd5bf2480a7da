// npm run bench:api — the GraphQL API under load from other processes on loopback.
// Data is SYNTHETIC (5,000 made-up symbols, written to a temp DuckDB and published through the
// real `live` sink into the LiveHub): this measures the API, not forecasts.
// Prints a table, then one JSON line last. Every phase is bounded in count and time.
//
//   reads:       prediction(symbol) over HTTP at BENCH_READ_RPS for BENCH_READ_SECONDS (open loop)
//   subscribers: BENCH_SUBSCRIBERS graphql-ws clients in BENCH_CLIENT_PROCS processes, 10 symbols
//                each; BENCH_ROUNDS full 5,000-symbol updates; publish → receipt per client
//   churn:       BENCH_CHURN_SECONDS of clients connecting, subscribing and leaving; server RSS
//                before and after
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hubFeed } from '../api/pubsub.js';
import { startServer } from '../api/server.js';
import { createLiveHub, PipelineMetrics, type StreamRecord } from '../engine/index.js';
import { persistenceModel } from '../models/baselines.js';
import { emptyEarningsCalendar } from '../models/earnings-calendar.js';
import { live } from '../operators/sinks/live.js';
import { simulator } from '../operators/sources/simulator.js';
import { pricePrediction } from '../pipelines/price-prediction.js';
import { type Bar, type Prediction, schemas } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { ClientProcess } from './client-process.js';
import { printMetrics, round } from './report.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SYMBOLS = env('BENCH_SYMBOLS', 5000);
const READ_RPS = env('BENCH_READ_RPS', 1000);
const READ_SECONDS = env('BENCH_READ_SECONDS', 10);
/** A second, light read load: latency when the server is not near its capacity. */
const READ_RPS_LIGHT = env('BENCH_READ_RPS_LIGHT', 250);
const SUBSCRIBERS = env('BENCH_SUBSCRIBERS', 10_000);
const PROCS = env('BENCH_CLIENT_PROCS', 4);
const PER_CLIENT = 10;
const ROUNDS = env('BENCH_ROUNDS', 3);
const CHURN_SECONDS = env('BENCH_CHURN_SECONDS', 60);
const CHURN_CONCURRENCY = env('BENCH_CHURN_CONCURRENCY', 50);
const HORIZONS = [1, 5, 21];
const DAY = 86_400_000;
const FIRST_DAY = Math.round(Date.UTC(2018, 0, 1) / DAY);
const MB = 1024 * 1024;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = (line: string) => process.stderr.write(`\r\x1b[K${line}`);

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}
const median = (xs: number[]) => quantile(xs, 0.5);

/** Forces a full collection twice (weak refs and finalizers settle), then reads RSS and heap. */
async function settledMemory(): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 2; i++) {
    globalThis.gc?.();
    await sleep(200);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

async function main() {
  if (!globalThis.gc) throw new Error('run with node --expose-gc (npm run bench:api does)');
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-api-bench-'));
  const store = await openDuckDbStore({ path: join(dir, 'api.duckdb') });
  const hub = createLiveHub();
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => `S${String(i).padStart(4, '0')}`);

  // The API reads the pipeline's DAG and metrics: the real price-prediction DAG, not run here.
  const model = persistenceModel({ horizons: HORIZONS });
  const pipeline = pricePrediction({
    source: simulator({ symbols: SYMBOLS, ticks: 1 }),
    calendar: emptyEarningsCalendar(),
    models: { normal: model, earnings: model },
    store,
    hub,
  });
  const running = { pipeline, metrics: new PipelineMetrics(pipeline.name) };

  // Updates go out the way the pipeline sends them: through the `live` sinks into the hub.
  const livePredictions = live({ hub, schema: schemas.Prediction, channel: 'predictions' });
  const liveBars = live({ hub, schema: schemas.Bar, channel: 'bars' });
  const update = (day: number) => {
    const ts = day * DAY;
    const bars: Bar[] = symbols.map((symbol, i) => {
      const close = 20 + (i % 180) + (day % 7);
      return {
        symbol,
        ts,
        interval: '1d',
        open: close,
        high: close,
        low: close,
        close,
        volume: 1e6,
        quotes: 1,
        source: 'simulator',
      };
    });
    const predictions: Prediction[] = bars.flatMap((b) =>
      HORIZONS.map((horizon) => ({
        id: `${b.symbol}:${ts}:${horizon}`,
        symbol: b.symbol,
        ts,
        horizon,
        targetTs: ts + horizon * DAY,
        lastClose: b.close,
        predictedClose: b.close * 1.001,
        predictedReturn: Math.log(1.001),
        lower: b.close * 0.97,
        upper: b.close * 1.03,
        model: model.name,
        modelVersion: model.version,
        regime: 'normal',
        createdAt: Date.now(),
        rankScore: null,
      })),
    );
    const records = <T>(values: T[]): StreamRecord<T>[] =>
      values.map((value) => ({ key: (value as { symbol: string }).symbol, value, timestamp: ts }));
    return { bars, predictions, barRecords: records(bars), predictionRecords: records(predictions) };
  };
  const first = update(FIRST_DAY - 1);
  await store.upsertBars(first.bars);
  await store.upsertPredictions(first.predictions);

  const server = await startServer({
    running,
    store,
    hub,
    host: '127.0.0.1',
    port: env('BENCH_API_PORT', 0),
    horizons: HORIZONS,
    serving: { normal: model, earnings: model },
    limits: { httpRatePerSecond: 1_000_000, httpBurst: 1_000_000 },
  });
  const publish = async (day: number) => {
    const u = update(day);
    const t0 = now();
    await liveBars.write(u.barRecords, { node: 'live-bars' });
    await livePredictions.write(u.predictionRecords, { node: 'live-predictions' });
    return t0;
  };
  await publish(FIRST_DAY - 1); // warms the latest-value cache, as a running pipeline would
  const feed = hubFeed(hub);
  const listeners = () => symbols.reduce((n, s) => n + feed.listeners('predictions', s), 0);

  const procs = Array.from({ length: PROCS }, () => new ClientProcess());
  try {
    // 1. Reads.
    progress(
      `reads: prediction(symbol) at ${READ_RPS_LIGHT}/s, then ${READ_RPS}/s for ${READ_SECONDS} s, from a client process`,
    );
    const warm = await procs[0]!.ask({ cmd: 'read', url: server.url, symbols, rps: 500, seconds: 2 }, 'read');
    if (warm.errors > 0) throw new Error(`read warm-up: ${warm.errors} errors`);
    const light = await procs[0]!.ask(
      { cmd: 'read', url: server.url, symbols, rps: READ_RPS_LIGHT, seconds: Math.min(5, READ_SECONDS) },
      'read',
    );
    // Server CPU per request is what the server controls; latency on a shared machine also
    // carries other processes' load, so both are reported.
    const readCpu0 = process.cpuUsage();
    const reads = await procs[0]!.ask(
      { cmd: 'read', url: server.url, symbols, rps: READ_RPS, seconds: READ_SECONDS },
      'read',
    );
    const readCpu = process.cpuUsage(readCpu0);
    const readServerCpuUs = (readCpu.user + readCpu.system) / Math.max(1, reads.latencies.length);
    const readRps = reads.latencies.length / (reads.elapsedMs / 1000);

    // 2. Subscribers.
    const before = await settledMemory();
    const perProc = Math.ceil(SUBSCRIBERS / PROCS);
    const subscriptionsOf = (client: number) =>
      Array.from({ length: PER_CLIENT }, (_, k) => symbols[(client * PER_CLIENT + k) % SYMBOLS]!);
    const connectStarted = performance.now();
    const subscribed = await Promise.all(
      procs.map((p, i) => {
        const count = Math.max(0, Math.min(perProc, SUBSCRIBERS - i * perProc));
        const sets = Array.from({ length: count }, (_, j) => subscriptionsOf(i * perProc + j));
        return p.ask({ cmd: 'subscribe', url: server.url, clients: count, symbols: sets }, 'subscribed');
      }),
    );
    const subscribeErrors = subscribed.reduce((n, s) => n + s.errors, 0);
    if (subscribeErrors > 0) {
      const why = subscribed.map((s) => JSON.stringify(s.failures)).join(' ');
      throw new Error(`${subscribeErrors} subscriptions failed: ${why}`);
    }
    const target = SUBSCRIBERS * PER_CLIENT;
    const deadline = performance.now() + 120_000;
    while (listeners() < target && performance.now() < deadline) {
      progress(`subscribers: ${server.connections()} connections, ${listeners()}/${target} symbol subscriptions`);
      await sleep(1000);
    }
    if (listeners() < target) throw new Error(`only ${listeners()} of ${target} symbol subscriptions after 120 s`);
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    const activeSubscriptions = listeners();
    const connected = server.connections();
    const loaded = await settledMemory();
    const rssPerConnKb = (loaded.rss - before.rss) / 1024 / Math.max(1, connected);

    const fanoutP95: number[] = [];
    const fanoutP50: number[] = [];
    const fanoutMax: number[] = [];
    /** Server CPU (user + system) from publish to the last receipt: what the fan-out costs the server. */
    const fanoutCpu: number[] = [];
    /** Of which in the kernel: mostly one socket write per subscriber. */
    const fanoutSystemCpu: number[] = [];
    let delivered = 0;
    for (let r = 0; r < ROUNDS; r++) {
      progress(`fan-out: update ${r + 1}/${ROUNDS} (${SYMBOLS} symbols) to ${connected} subscribers`);
      const day = FIRST_DAY + r;
      const cpu0 = process.cpuUsage();
      const t0 = await publish(day);
      const answers = await Promise.all(
        procs.map((p, i) =>
          p.ask({ cmd: 'collect', round: day, expected: subscribed[i]!.clients, timeoutMs: 30_000 }, 'receipts'),
        ),
      );
      const cpu = process.cpuUsage(cpu0);
      fanoutCpu.push((cpu.user + cpu.system) / 1000);
      fanoutSystemCpu.push(cpu.system / 1000);
      const latencies = answers.flatMap((a) => a.times.map((t) => t - t0));
      delivered = latencies.length;
      fanoutP50.push(quantile(latencies, 0.5));
      fanoutP95.push(quantile(latencies, 0.95));
      fanoutMax.push(Math.max(...latencies));
      await sleep(500);
    }
    progress('subscribers: closing');
    await Promise.all(procs.map((p) => p.ask({ cmd: 'close' }, 'closed')));
    while (server.connections() > 0) await sleep(50);

    // 3. Churn.
    await sleep(1000);
    const churnStart = await settledMemory();
    let day = FIRST_DAY + ROUNDS;
    const publisher = setInterval(() => void publish(day++), 1000);
    const churnTicker = setInterval(
      () => progress(`churn: ${server.connections()} connections open, ${listeners()} symbol subscriptions`),
      500,
    );
    const churned = await Promise.all(
      procs.map((p, i) =>
        p.ask(
          {
            cmd: 'churn',
            url: server.url,
            seconds: CHURN_SECONDS,
            concurrency: CHURN_CONCURRENCY,
            symbols: Array.from({ length: 500 }, (_, j) => subscriptionsOf(i * 500 + j)),
          },
          'churned',
        ),
      ),
    );
    clearInterval(publisher);
    clearInterval(churnTicker);
    const settleDeadline = performance.now() + 10_000;
    while ((server.connections() > 0 || listeners() > 0) && performance.now() < settleDeadline) await sleep(50);
    await sleep(1000);
    const churnEnd = await settledMemory();
    process.stderr.write('\n');

    const result = {
      bench: 'api',
      symbols: SYMBOLS,
      readRequests: reads.latencies.length,
      readRps: Math.round(readRps),
      readErrors: reads.errors,
      readP50Ms: round(quantile(reads.latencies, 0.5), 2),
      readP95Ms: round(quantile(reads.latencies, 0.95), 2),
      readP99Ms: round(quantile(reads.latencies, 0.99), 2),
      readServerCpuUs: Math.round(readServerCpuUs),
      readLightRps: READ_RPS_LIGHT,
      readLightP50Ms: round(quantile(light.latencies, 0.5), 2),
      readLightP95Ms: round(quantile(light.latencies, 0.95), 2),
      readLightP99Ms: round(quantile(light.latencies, 0.99), 2),
      subscribers: connected,
      subscriptions: activeSubscriptions,
      subscribeErrors: subscribed.reduce((n, s) => n + s.errors, 0),
      connectSeconds: round(connectSeconds),
      rounds: ROUNDS,
      delivered,
      fanoutP50Ms: round(median(fanoutP50)),
      fanoutP95Ms: round(median(fanoutP95)),
      fanoutMaxMs: round(median(fanoutMax)),
      fanoutServerCpuMs: round(median(fanoutCpu)),
      fanoutServerSystemMs: round(median(fanoutSystemCpu)),
      rssPerConnKb: round(rssPerConnKb),
      churnSeconds: CHURN_SECONDS,
      churnCycles: churned.reduce((n, c) => n + c.cycles, 0),
      churnErrors: churned.reduce((n, c) => n + c.errors, 0),
      churnRssGrowthMb: round((churnEnd.rss - churnStart.rss) / MB),
      churnHeapGrowthMb: round((churnEnd.heap - churnStart.heap) / MB),
      connectionsLeft: server.connections(),
      clientProcesses: PROCS,
      data: 'synthetic',
    };
    const rows: Array<[string, string, string]> = [
      ['readRps (achieved, open loop)', String(result.readRps), `>= ${READ_RPS}`],
      ['readP50Ms  prediction(symbol)', String(result.readP50Ms), ''],
      ['readP95Ms', String(result.readP95Ms), '< 5'],
      ['readP99Ms', String(result.readP99Ms), ''],
      ['readErrors', String(result.readErrors), '0'],
      ['readServerCpuUs (server CPU per request)', String(result.readServerCpuUs), ''],
      [`readLightP50Ms (at ${READ_RPS_LIGHT}/s)`, String(result.readLightP50Ms), ''],
      [`readLightP95Ms (at ${READ_RPS_LIGHT}/s)`, String(result.readLightP95Ms), '< 5'],
      [`readLightP99Ms (at ${READ_RPS_LIGHT}/s)`, String(result.readLightP99Ms), ''],
      ['subscribers (graphql-ws, 10 symbols each)', String(result.subscribers), String(SUBSCRIBERS)],
      ['connectSeconds (all subscribed)', String(result.connectSeconds), ''],
      [`delivered (last update, of ${connected})`, String(result.delivered), String(connected)],
      ['fanoutP50Ms (median of rounds)', String(result.fanoutP50Ms), ''],
      ['fanoutP95Ms (median of rounds)', String(result.fanoutP95Ms), '< 1000'],
      ['fanoutMaxMs (median of rounds)', String(result.fanoutMaxMs), ''],
      ['fanoutServerCpuMs (server CPU per update)', String(result.fanoutServerCpuMs), ''],
      ['fanoutServerSystemMs (of which kernel)', String(result.fanoutServerSystemMs), ''],
      ['rssPerConnKb', String(result.rssPerConnKb), ''],
      [`churnCycles (${CHURN_SECONDS} s)`, String(result.churnCycles), ''],
      ['churnRssGrowthMb', String(result.churnRssGrowthMb), 'near 0'],
      ['churnHeapGrowthMb', String(result.churnHeapGrowthMb), 'near 0'],
    ];
    console.log(
      `\napi bench: ${SYMBOLS} synthetic symbols, ${PROCS} client processes, ${ROUNDS} fan-out rounds, loopback`,
    );
    console.log(`fan-out p95 per round (ms): ${fanoutP95.map((x) => x.toFixed(0)).join(' ')}`);
    printMetrics(rows);
    console.log(JSON.stringify(result));
  } finally {
    for (const p of procs) p.exit();
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
