import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Registry } from 'prom-client';
import { nodesFor } from '../cli/app.js';
import {
  createLiveHub,
  MemoryTransport,
  type Pipeline,
  type RunningPipeline,
  runPipeline,
  type Serde,
  type Transport,
  topicSpecs,
} from '../engine/index.js';
import { createKafkaTransport, type KafkaTransport } from '../engine/transports/kafka/kafka-transport.js';
import { RegistrySerde } from '../engine/transports/kafka/registry-serde.js';
import { persistenceModel } from '../models/baselines.js';
import { emptyEarningsCalendar } from '../models/earnings-calendar.js';
import { seededRandom, simulateTick } from '../operators/sources/simulator.js';
import { pricePrediction } from '../pipelines/price-prediction.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { openQuestDbStore } from '../storage/questdb-store.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import { describeGroups } from '../test/services/consumer-groups.js';
import { logsOf, type Proc, startTickcast, until } from '../test/services/processes.js';
import { startSchemaRegistryTestDouble } from '../test/support/schema-registry-test-double.js';
import { KAFKA_BROKERS, QUESTDB_PG, QUESTDB_URL } from '../test/support/service-addresses.js';
import { counting, median } from './counting-store.js';
import { printMetrics, round } from './report.js';
import { type Tick, tickFeed } from './tick-feed.js';

const SYMBOLS = Number(process.env.BENCH_SYMBOLS ?? 5000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 12);
const WARM_TICKS = Number(process.env.BENCH_WARM_TICKS ?? 5);
const MEASURED = Number(process.env.BENCH_RUNS ?? 9);
const THROUGHPUT_TICKS = Number(process.env.BENCH_THROUGHPUT_TICKS ?? 10);
/** Worker processes (`tickcast run --role worker`, storing into QuestDB); 0 runs the DAG in this process. */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
/** BENCH_EXACTLY_ONCE=1: the Kafka DAG's transforms run exactly-once (transactions); default at-least-once. */
const EXACTLY_ONCE = process.env.BENCH_EXACTLY_ONCE === '1';
/** How long one update (or one sustained run) may take before the bench gives up and says where it stood. */
const WAIT_S = Number(process.env.BENCH_WAIT_SECONDS ?? 300);
const BROKERS = KAFKA_BROKERS.split(',');
const HORIZONS = [1, 5, 21];
const DAY = 86_400_000;
const START = Date.UTC(2018, 0, 1);

/**
 * Where a DAG's predictions are counted: in this process (a DuckDB store it writes), or, when
 * worker processes run the DAG, in the QuestDB tables they write, polled.
 */
interface Counter {
  store: TimeSeriesStore;
  stored(): number;
  until(target: number): Promise<void>;
  close(): Promise<void>;
}

async function localCounter(path: string): Promise<Counter> {
  const store = await openDuckDbStore({ path });
  const counted = counting(store);
  return { ...counted, close: () => store.close() };
}

/**
 * Counts what the workers stored in QuestDB, every 20 ms (the polling adds up to that to each figure), with one
 * `count()` of the predictions table: QuestDB answers it from the table's metadata. (The store's `counts()` also
 * counts distinct symbols over all bars: polled every 20 ms at 5,000 symbols it kept QuestDB's JVM at ~70% of a
 * core, on the two cores the workers measured here share.) The tables are dropped at the end.
 */
async function questDbCounter(tablePrefix: string): Promise<Counter> {
  const store = await openQuestDbStore({ url: QUESTDB_URL, pg: QUESTDB_PG, tablePrefix });
  const pool = new pg.Pool({ connectionString: QUESTDB_PG, max: 1 });
  const count = async () => {
    try {
      const { rows } = await pool.query<{ count: string }>(`SELECT count() AS count FROM "${tablePrefix}predictions"`);
      return Number(rows[0]?.count ?? 0);
    } catch (err) {
      // Not created yet: the workers create it with their first write.
      if (/does not exist/.test(String(err))) return 0;
      throw err;
    }
  };
  let stored = 0;
  return {
    store,
    stored: () => stored,
    until: async (target) => {
      while (stored < target) {
        stored = await count();
        if (stored < target) await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: async () => {
      for (const t of ['bars', 'predictions', 'scores']) {
        await pool.query(`DROP TABLE IF EXISTS "${tablePrefix}${t}"`).catch(() => undefined);
      }
      await pool.end();
      await store.close();
    },
  };
}

interface DagOptions {
  serde?: Serde;
  /** Runs just these nodes here (the rest run in the workers); default all. */
  nodes?: string[];
  /** CPU ms used so far by the processes that run the DAG besides this one (the workers). */
  othersCpuMs?: () => number;
  exactlyOnce?: boolean;
  chaining?: boolean;
  /** What to print when an update does not finish in time (the workers' last lines). */
  diagnose?: () => string;
}

/** One DAG on one transport, fed a tick at a time. */
async function dag(name: string, counted: Counter, transport: Transport, opts: DagOptions = {}) {
  const { serde, nodes, othersCpuMs = () => 0, exactlyOnce = false, chaining = true, diagnose = () => '' } = opts;
  const feed = tickFeed();
  const push = feed.push;
  const model = persistenceModel({ horizons: HORIZONS });
  const pipeline = pricePrediction({
    source: feed.source,
    calendar: emptyEarningsCalendar(),
    models: { normal: model, earnings: model },
    store: counted.store,
    hub: createLiveHub(),
    partitions: PARTITIONS,
    // Live scoring, as `tickcast run` builds it (cli/app.ts) and so as the workers run it: the
    // memory DAG does the same work. (Until 2026-12-07 it did not, and the Kafka DAGs paid for
    // scoring alone: about half their CPU on the updates that realise scores.)
    scoring: { registry: new Registry() },
  });
  const running: RunningPipeline = await runPipeline(pipeline, {
    transport,
    serde,
    batchSize: 20_000,
    pollTimeoutMs: 50,
    groupPrefix: `bench-${name}-${Date.now().toString(36)}`,
    changelogs: process.env.BENCH_CHANGELOGS !== '0',
    nodes,
    exactlyOnce,
    chaining,
  });
  // A failed node ends the run with its error instead of leaving the bench waiting forever
  // for predictions that will not come (what "hangs at 5,000 symbols" was: a lag query timed
  // out under load and failed its node, and the bench waited on the store).
  const failed = running.done.then(
    () => Promise.reject(new Error(`${name}: the pipeline ended`)),
    (err: unknown) => Promise.reject(err),
  );
  failed.catch(() => {});
  // A deadline too, so a stall (a worker alive but stuck) fails with where it stood, not a CI timeout.
  const stored = async (target: number) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(async () => {
        const counts = await counted.store.counts().catch((err: unknown) => String(err));
        reject(
          new Error(
            `${name}: ${counted.stored()}/${target} predictions stored after ${WAIT_S} s ` +
              `(BENCH_WAIT_SECONDS); store counts now ${JSON.stringify(counts)}\n${diagnose()}`,
          ),
        );
      }, WAIT_S * 1000);
    });
    try {
      await Promise.race([counted.until(target), failed, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  const perUpdate = SYMBOLS * HORIZONS.length;
  return {
    pipeline,
    /**
     * Pushes a tick and resolves when all its predictions are stored: the ms it took, and this
     * process's CPU ms meanwhile (steadier than wall time on a shared machine; the broker's own
     * CPU is not in it).
     */
    update: async (tick: Tick) => {
      const target = counted.stored() + perUpdate;
      const t = performance.now();
      const cpu0 = process.cpuUsage();
      const others0 = othersCpuMs();
      push(tick);
      await stored(target);
      const cpu = process.cpuUsage(cpu0);
      const othersMs = othersCpuMs() - others0;
      return { ms: performance.now() - t, cpuMs: (cpu.user + cpu.system) / 1000 + othersMs, othersCpuMs: othersMs };
    },
    /** Pushes ticks back to back; resolves when all are stored; returns the ms it took. */
    sustained: async (ticks: Tick[]) => {
      const target = counted.stored() + perUpdate * ticks.length;
      const t = performance.now();
      for (const tick of ticks) push(tick);
      await stored(target);
      return performance.now() - t;
    },
    stop: async () => {
      feed.end(0);
      await running.stop();
      await counted.close();
      return topicSpecs(pipeline).map((s) => s.name);
    },
  };
}

/** One scaled-out DAG: its topics (own prefix), its workers, and the source in this process. */
async function kafkaSetup(chaining: boolean, registryUrl: string, dir: string) {
  const name = chaining ? 'chained' : 'unchained';
  const run = `bench${Date.now().toString(36)}${name[0]}`;
  const transport: KafkaTransport = await createKafkaTransport({ brokers: BROKERS, topicPrefix: `${run}.` });
  const serde = new RegistrySerde({ url: registryUrl });
  let stopping = false;
  const workers: Proc[] = [];
  // With workers, this process only feeds the quotes (the DAG's source node); the workers run the
  // rest from the same pipeline definition, as `tickcast run --role worker` does in production.
  const workerCpuMs = () => workers.reduce((ms, w) => ms + cpuMsOf(w.child.pid), 0);
  const d =
    WORKERS > 0
      ? await dag(`kafka-${name}`, await questDbCounter(`${run}_`), transport, {
          serde,
          nodes: ['market-data'],
          // The topics it creates are the workers' (unchained: the fused ones too).
          chaining,
          othersCpuMs: workerCpuMs,
          diagnose: () => logsOf(workers, 30),
        })
      : await dag(`kafka-${name}`, await localCounter(join(dir, `kafka-${name}.duckdb`)), transport, {
          serde,
          exactlyOnce: EXACTLY_ONCE,
          chaining,
        });
  for (let i = 0; i < WORKERS; i++) {
    workers.push(
      startWorker(`${name} worker ${i}`, () => stopping, {
        ...process.env,
        TICKCAST_TRANSPORT: 'kafka',
        TICKCAST_ROLE: 'worker',
        TICKCAST_STORE: 'questdb',
        TICKCAST_EXPLAIN: 'off',
        TICKCAST_SOURCE: 'simulator',
        TICKCAST_PARTITIONS: String(PARTITIONS),
        TICKCAST_MODEL: 'persistence',
        TICKCAST_HORIZONS: HORIZONS.join(','),
        TICKCAST_EARNINGS_FILE: 'none',
        TICKCAST_CHAINING: chaining ? 'on' : 'off',
        KAFKA_BROKERS: BROKERS.join(','),
        KAFKA_TOPIC_PREFIX: `${run}.`,
        SCHEMA_REGISTRY_URL: registryUrl,
        QUESTDB_URL,
        QUESTDB_PG,
        QUESTDB_TABLE_PREFIX: `${run}_`,
        KAFKA_EXACTLY_ONCE: EXACTLY_ONCE ? 'on' : 'off',
      }),
    );
  }
  process.on('exit', () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  });
  if (WORKERS > 0) await untilWorkersJoined(run, d.pipeline, chaining, workers);
  const runs: Array<{ ms: number; cpuMs: number; othersCpuMs: number }> = [];
  return {
    name,
    chaining,
    dag: d,
    runs,
    /** Records in this setup's topics now (end offsets summed), per topic. */
    offsets: () => transport.endOffsets(),
    stop: async () => {
      const topics = await d.stop();
      stopping = true;
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      const all = [...(await transport.endOffsets()).keys()];
      await transport.deleteTopics([...new Set([...topics, ...all])]).catch(() => {});
      await transport.close();
    },
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-kafka-bench-'));
  const double = process.env.SCHEMA_REGISTRY_URL ? null : await startSchemaRegistryTestDouble();
  const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? double!.url;
  // Chained (the default) and unchained side by side, on the same ticks, in the same run.
  const kafkas = [await kafkaSetup(true, registryUrl, dir), await kafkaSetup(false, registryUrl, dir)];
  const memory = await dag('memory', await localCounter(join(dir, 'memory.duckdb')), new MemoryTransport());
  const memoryRuns: Array<{ ms: number; cpuMs: number; othersCpuMs: number }> = [];

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  // The same synthetic ticks go to all, so they do identical work.
  const random = seededRandom(42);
  const prices = Float64Array.from({ length: SYMBOLS }, () => 20 + 180 * random());
  let tickNo = 0;
  const nextTick = (): Tick => {
    const day = START + tickNo++ * DAY;
    return { quotes: simulateTick(prices, day + DAY / 2, random), day };
  };

  process.stderr.write(`warming up: ${WARM_TICKS} updates of ${SYMBOLS} symbols on every DAG\n`);
  for (let i = 0; i < WARM_TICKS; i++) {
    const tick = nextTick();
    for (const k of kafkas) await k.dag.update(tick);
    await memory.update(tick);
    process.stderr.write(`\r  ${i + 1}/${WARM_TICKS}`);
  }
  process.stderr.write('\n');

  const before = await Promise.all(kafkas.map((k) => k.offsets()));
  for (let i = 0; i < MEASURED; i++) {
    const tick = nextTick();
    // Rotate who goes first, so none always pays another's garbage collection.
    const order = [
      ...kafkas.map((k) => () => k.dag.update(tick).then((r) => k.runs.push(r))),
      () => memory.update(tick).then((r) => memoryRuns.push(r)),
    ];
    for (let j = 0; j < order.length; j++) await order[(i + j) % order.length]!();
    process.stderr.write(`\rmeasuring full updates: ${i + 1}/${MEASURED}`);
  }
  process.stderr.write('\n');
  const after = await Promise.all(kafkas.map((k) => k.offsets()));
  // Kafka records one update costs, per topic (data, control records, changelogs, dead letters).
  const perTopic = kafkas.map((_, i) => {
    const m = new Map<string, number>();
    // Changelogs are named after their consumer groups (a prefix per run): by node, here.
    for (const [topic, end] of after[i]!) {
      m.set(topic.replace(/^.*\.price-prediction\./, ''), (end - (before[i]!.get(topic) ?? 0)) / MEASURED);
    }
    return m;
  });
  const messagesPerUpdate = perTopic.map((m) => [...m.values()].reduce((a, b) => a + b, 0));

  // Sustained through Kafka: ticks queued back to back, timed until the last prediction is stored.
  const sustained: number[] = [];
  for (const k of kafkas) {
    const ticks = Array.from({ length: THROUGHPUT_TICKS }, nextTick);
    const ms = await k.dag.sustained(ticks);
    sustained.push((SYMBOLS * THROUGHPUT_TICKS) / (ms / 1000));
    for (const other of kafkas) if (other !== k) await other.dag.sustained(ticks); // same ticks everywhere
    await memory.sustained(ticks);
  }

  for (const k of kafkas) await k.stop();
  await memory.stop();
  await double?.close();
  clearInterval(sampler);
  rmSync(dir, { recursive: true, force: true });

  const [chained, unchained] = kafkas as [(typeof kafkas)[0], (typeof kafkas)[0]];
  const ms = (runs: Array<{ ms: number }>) => median(runs.map((r) => r.ms));
  const cpu = (runs: Array<{ cpuMs: number }>) => median(runs.map((r) => r.cpuMs));
  const memoryFullUpdateMs = ms(memoryRuns);
  const memoryCpuMs = cpu(memoryRuns);
  const result = {
    bench: 'kafka',
    symbols: SYMBOLS,
    partitions: PARTITIONS,
    horizons: HORIZONS.length,
    runs: MEASURED,
    workers: WORKERS > 0 ? WORKERS : 'in-process',
    kafkaStore: WORKERS > 0 ? 'questdb (polled every 20 ms)' : 'duckdb',
    delivery: EXACTLY_ONCE ? 'exactly-once' : 'at-least-once',
    kafkaFullUpdateMs: round(ms(chained.runs)),
    kafkaUnchainedFullUpdateMs: round(ms(unchained.runs)),
    memoryFullUpdateMs: round(memoryFullUpdateMs),
    ratio: round(ms(chained.runs) / memoryFullUpdateMs, 2),
    chainingSpeedup: round(ms(unchained.runs) / ms(chained.runs), 2),
    kafkaCpuMsPerUpdate: round(cpu(chained.runs)),
    kafkaWorkersCpuMsPerUpdate: round(median(chained.runs.map((r) => r.othersCpuMs))),
    kafkaUnchainedCpuMsPerUpdate: round(cpu(unchained.runs)),
    memoryCpuMsPerUpdate: round(memoryCpuMs),
    cpuRatio: round(cpu(chained.runs) / memoryCpuMs, 2),
    cpuRatioUnchained: round(cpu(unchained.runs) / memoryCpuMs, 2),
    messagesPerUpdate: Math.round(messagesPerUpdate[0]!),
    messagesPerUpdateUnchained: Math.round(messagesPerUpdate[1]!),
    loadAverage: round(loadavg()[0]!, 1),
    throughputRps: Math.round(sustained[0]!),
    throughputRpsUnchained: Math.round(sustained[1]!),
    peakRssMb: Math.round(peakRss / 1048576),
    registry: double ? 'in-process test double' : registryUrl,
    data: 'synthetic (simulator)',
  };
  const rows: Array<[string, string, string]> = [
    ['kafkaFullUpdateMs (chained, median)', String(result.kafkaFullUpdateMs), '< 2000'],
    ['kafkaUnchainedFullUpdateMs (median)', String(result.kafkaUnchainedFullUpdateMs), ''],
    ['memoryFullUpdateMs (median)', String(result.memoryFullUpdateMs), ''],
    ['chainingSpeedup (unchained ms / chained ms)', String(result.chainingSpeedup), ''],
    ['kafkaCpuMsPerUpdate (chained: this process + workers, median)', String(result.kafkaCpuMsPerUpdate), ''],
    ['  of which the workers (median)', String(result.kafkaWorkersCpuMsPerUpdate), ''],
    ['kafkaUnchainedCpuMsPerUpdate (median)', String(result.kafkaUnchainedCpuMsPerUpdate), ''],
    ['memoryCpuMsPerUpdate (median)', String(result.memoryCpuMsPerUpdate), ''],
    ['cpuRatio (chained kafka / memory)', String(result.cpuRatio), '<= 4'],
    ['cpuRatioUnchained (unchained kafka / memory)', String(result.cpuRatioUnchained), ''],
    ['messagesPerUpdate (chained)', String(result.messagesPerUpdate), ''],
    ['messagesPerUpdateUnchained', String(result.messagesPerUpdateUnchained), ''],
    ['throughputRps (quotes/s, chained, sustained)', String(result.throughputRps), ''],
    ['throughputRpsUnchained', String(result.throughputRpsUnchained), ''],
    ['peakRssMb (the DAGs in this process)', String(result.peakRssMb), ''],
  ];
  console.log(
    `\nkafka bench: ${SYMBOLS} synthetic symbols, ${PARTITIONS} partitions, ${HORIZONS.length} horizons, ${MEASURED} runs, workers: ${result.workers} per DAG, ${result.delivery}, brokers ${BROKERS.join(',')}, registry: ${result.registry}`,
  );
  // Each run's CPU too: a drift from run to run (states filling up, a broker's housekeeping) shows here.
  const each = (runs: Array<{ ms: number; cpuMs: number }>) =>
    `${runs.map((r) => r.ms.toFixed(0)).join(' ')}; CPU ms: ${runs.map((r) => r.cpuMs.toFixed(0)).join(' ')}`;
  for (const k of kafkas) console.log(`kafka ${k.name} runs (ms): ${each(k.runs)}`);
  console.log(`memory runs (ms): ${each(memoryRuns)}`);
  console.log('\nKafka records per update, by topic (chained | unchained):');
  const topicNames = [...new Set([...perTopic[0]!.keys(), ...perTopic[1]!.keys()])].sort();
  for (const t of topicNames) {
    const [c, u] = perTopic.map((m) => m.get(t));
    if ((c ?? 0) === 0 && (u ?? 0) === 0) continue;
    console.log(
      `  ${t.padEnd(40)} ${c === undefined ? '(fused)' : Math.round(c).toString().padStart(7)}  ${u === undefined ? '-' : Math.round(u).toString().padStart(7)}`,
    );
  }
  printMetrics(rows);
  console.log(JSON.stringify(result));
}

/**
 * Waits until every worker is a member of every group it runs and each group's partitions are all
 * assigned (as the broker says), so the first update is not timed across the groups' first
 * rebalances (a worker joining late takes partitions from one that started).
 */
async function untilWorkersJoined(run: string, pipeline: Pipeline, chaining: boolean, workers: readonly Proc[]) {
  const inChain = new Set(chaining ? pipeline.chains.flatMap((c) => c.nodes.slice(1)) : []);
  const worker = new Set(nodesFor(pipeline, 'worker'));
  // Nodes that read in every process have a group per process: one member each, by design.
  const nodes = pipeline.nodes.filter((n) => worker.has(n.id) && !inChain.has(n.id) && !n.everyProcess);
  const groups = nodes.map((n) => ({
    group: `${run}.${pipeline.name}.${n.id}`,
    partitions: n.reads.reduce((sum, t) => sum + (pipeline.topics.get(t)?.partitions ?? 0), 0),
  }));
  await until(
    `${WORKERS} workers in each of ${groups.length} groups, every partition assigned`,
    WAIT_S * 1000,
    async () => {
      const members = await describeGroups(
        BROKERS.join(','),
        groups.map((g) => g.group),
      );
      const short = groups.filter(({ group, partitions }) => {
        const m = members.get(group) ?? [];
        return m.length < WORKERS || m.reduce((n, x) => n + x.partitions.length, 0) < partitions;
      });
      if (short.length === 0) return true;
      throw new Error(`not yet: ${short.map((g) => g.group).join(', ')}`);
    },
    workers,
  );
}

/** CPU ms (user + system) a process has used, from /proc (Linux); 0 once it is gone. */
function cpuMsOf(pid: number | undefined): number {
  try {
    // Fields after the command name, which is in parentheses and may contain spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
/** USER_HZ: the unit of /proc/PID/stat times, 100 on Linux builds in practice. */
const CLOCK_TICKS = 100;

/**
 * A `tickcast run --role worker` process. If one dies before `stopping()`, the bench fails at
 * once with its last output, instead of waiting for predictions that will not come.
 */
function startWorker(name: string, stopping: () => boolean, env: NodeJS.ProcessEnv): Proc {
  const worker = startTickcast(name, [], env);
  void worker.exited.then((code) => {
    if (stopping()) return;
    console.error(`${worker.name} exited (${code ?? worker.child.signalCode}):\n${logsOf([worker], 20)}`);
    process.exit(1);
  });
  return worker;
}

await main();
