// npm run bench:kafka — the price-prediction pipeline at 5,000 symbols through a REAL Kafka
// broker (KAFKA_BROKERS, default 127.0.0.1:19092; npm run services:up) against the memory
// transport, in the same run with the same ticks. Inputs are SYNTHETIC (simulator). Records on
// Kafka are in the Confluent wire format; the registry is SCHEMA_REGISTRY_URL when set, else the
// in-process TEST DOUBLE (test/support/), which only serves ids at start-up. One worker process.
// Prints a table, then one JSON line last.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLiveHub,
  defineOperator,
  MemoryTransport,
  type RunningPipeline,
  runPipeline,
  type Serde,
  type Transport,
  topicSpecs,
} from '../engine/index.js';
import { createKafkaTransport, type KafkaTransport } from '../engine/kafka-transport.js';
import { RegistrySerde } from '../engine/registry-serde.js';
import { persistenceModel } from '../models/baselines.js';
import { emptyEarningsCalendar } from '../models/earnings-calendar.js';
import { seededRandom, simulateTick } from '../operators/sources/simulator.js';
import { pricePrediction } from '../pipelines/price-prediction.js';
import { type Quote, schemas } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { startSchemaRegistryTestDouble } from '../test/support/schema-registry-test-double.js';
import { counting, median } from './counting-store.js';

const SYMBOLS = Number(process.env.BENCH_SYMBOLS ?? 5000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 12);
const WARM_TICKS = Number(process.env.BENCH_WARM_TICKS ?? 5);
const MEASURED = Number(process.env.BENCH_RUNS ?? 9);
const THROUGHPUT_TICKS = Number(process.env.BENCH_THROUGHPUT_TICKS ?? 10);
/** BENCH_EXACTLY_ONCE=1: the Kafka DAG's transforms run exactly-once (transactions); default at-least-once. */
const EXACTLY_ONCE = process.env.BENCH_EXACTLY_ONCE === '1';
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const HORIZONS = [1, 5, 21];
const DAY = 86_400_000;
const START = Date.UTC(2018, 0, 1);

type Tick = { quotes: Quote[]; day: number };

/** One DAG on one transport, fed a tick at a time. */
async function dag(name: string, dir: string, transport: Transport, serde?: Serde, exactlyOnce = false) {
  const counted = counting(await openDuckDbStore({ path: join(dir, `${name}.duckdb`) }));
  const queue: Tick[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  const feed = defineOperator({
    kind: 'source',
    name: 'bench-feed',
    outputs: { quotes: schemas.Quote },
    async run(ctx) {
      for (;;) {
        const next = queue.shift();
        if (!next) {
          if (finished) return;
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        for (const q of next.quotes) await ctx.emit('quotes', q, { timestamp: q.ts });
        await ctx.watermark(next.day + DAY);
      }
    },
  });
  const push = (tick: Tick) => {
    queue.push(tick);
    wake?.();
    wake = null;
  };
  const model = persistenceModel({ horizons: HORIZONS });
  const pipeline = pricePrediction({
    source: feed,
    calendar: emptyEarningsCalendar(),
    models: { normal: model, earnings: model },
    store: counted.store,
    hub: createLiveHub(),
    partitions: PARTITIONS,
  });
  const running: RunningPipeline = await runPipeline(pipeline, {
    transport,
    serde,
    batchSize: 20_000,
    pollTimeoutMs: 50,
    groupPrefix: `bench-${name}-${Date.now().toString(36)}`,
    changelogs: process.env.BENCH_CHANGELOGS !== '0',
    exactlyOnce,
  });
  // A failed node ends the run with its error instead of leaving the bench waiting forever
  // for predictions that will not come (what "hangs at 5,000 symbols" was: a lag query timed
  // out under load and failed its node, and the bench waited on the store).
  const failed = running.done.then(
    () => Promise.reject(new Error(`${name}: the pipeline ended`)),
    (err: unknown) => Promise.reject(err),
  );
  failed.catch(() => {});
  const stored = (target: number) => Promise.race([counted.until(target), failed]);
  const perUpdate = SYMBOLS * HORIZONS.length;
  return {
    /** Pushes a tick and resolves when all its predictions are stored; returns the ms it took. */
    update: async (tick: Tick) => {
      const target = counted.stored() + perUpdate;
      const t = performance.now();
      push(tick);
      await stored(target);
      return performance.now() - t;
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
      finished = true;
      push({ quotes: [], day: 0 });
      await running.stop();
      await counted.store.close();
      return topicSpecs(pipeline).map((s) => s.name);
    },
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-kafka-bench-'));
  const double = process.env.SCHEMA_REGISTRY_URL ? null : await startSchemaRegistryTestDouble();
  const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? double!.url;
  const kafkaTransport: KafkaTransport = await createKafkaTransport({
    brokers: BROKERS,
    topicPrefix: `bench${Date.now().toString(36)}.`,
  });
  const kafka = await dag('kafka', dir, kafkaTransport, new RegistrySerde({ url: registryUrl }), EXACTLY_ONCE);
  const memory = await dag('memory', dir, new MemoryTransport());

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  // The same synthetic ticks go to both, so they do identical work.
  const random = seededRandom(42);
  const prices = Float64Array.from({ length: SYMBOLS }, () => 20 + 180 * random());
  let tickNo = 0;
  const nextTick = (): Tick => {
    const day = START + tickNo++ * DAY;
    return { quotes: simulateTick(prices, day + DAY / 2, random), day };
  };

  process.stderr.write(`warming up: ${WARM_TICKS} updates of ${SYMBOLS} symbols on both transports\n`);
  for (let i = 0; i < WARM_TICKS; i++) {
    const tick = nextTick();
    await kafka.update(tick);
    await memory.update(tick);
    process.stderr.write(`\r  ${i + 1}/${WARM_TICKS}`);
  }
  process.stderr.write('\n');

  const kafkaMs: number[] = [];
  const memoryMs: number[] = [];
  for (let i = 0; i < MEASURED; i++) {
    const tick = nextTick();
    // Alternate who goes first, so neither always pays the other's garbage collection.
    if (i % 2 === 0) {
      kafkaMs.push(await kafka.update(tick));
      memoryMs.push(await memory.update(tick));
    } else {
      memoryMs.push(await memory.update(tick));
      kafkaMs.push(await kafka.update(tick));
    }
    process.stderr.write(`\rmeasuring full updates: ${i + 1}/${MEASURED}`);
  }
  process.stderr.write('\n');

  // Sustained through Kafka: ticks queued back to back, timed until the last prediction is stored.
  const ticks = Array.from({ length: THROUGHPUT_TICKS }, nextTick);
  const sustainedMs = await kafka.sustained(ticks);
  await memory.sustained(ticks); // keeps both DAGs on the same ticks; not reported
  const throughputRps = (SYMBOLS * THROUGHPUT_TICKS) / (sustainedMs / 1000);

  const topics = await kafka.stop();
  await memory.stop();
  await kafkaTransport.deleteTopics(topics.flatMap((t) => [t, `${t}.dlq`])).catch(() => {});
  await kafkaTransport.close();
  await double?.close();
  clearInterval(sampler);
  rmSync(dir, { recursive: true, force: true });

  const kafkaFullUpdateMs = median(kafkaMs);
  const memoryFullUpdateMs = median(memoryMs);
  const result = {
    bench: 'kafka',
    symbols: SYMBOLS,
    partitions: PARTITIONS,
    horizons: HORIZONS.length,
    runs: MEASURED,
    workers: 1,
    delivery: EXACTLY_ONCE ? 'exactly-once' : 'at-least-once',
    kafkaFullUpdateMs: round(kafkaFullUpdateMs),
    memoryFullUpdateMs: round(memoryFullUpdateMs),
    ratio: round(kafkaFullUpdateMs / memoryFullUpdateMs, 2),
    throughputRps: Math.round(throughputRps),
    peakRssMb: Math.round(peakRss / 1048576),
    registry: double ? 'in-process test double' : registryUrl,
    data: 'synthetic (simulator)',
  };
  const rows: Array<[string, string, string]> = [
    ['kafkaFullUpdateMs (median)', String(result.kafkaFullUpdateMs), '< 2000'],
    ['memoryFullUpdateMs (median)', String(result.memoryFullUpdateMs), ''],
    ['ratio (kafka / memory)', String(result.ratio), ''],
    ['throughputRps (quotes/s through Kafka, sustained)', String(result.throughputRps), ''],
    ['peakRssMb (both DAGs, one process)', String(result.peakRssMb), ''],
  ];
  console.log(
    `\nkafka bench: ${SYMBOLS} synthetic symbols, ${PARTITIONS} partitions, ${HORIZONS.length} horizons, ${MEASURED} runs, 1 worker, ${result.delivery}, brokers ${BROKERS.join(',')}, registry: ${result.registry}`,
  );
  console.log(`kafka runs (ms):  ${kafkaMs.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`memory runs (ms): ${memoryMs.map((x) => x.toFixed(0)).join(' ')}`);
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'metric'.padEnd(w)}  ${'value'.padStart(10)}  target`);
  for (const [k, v, target] of rows) console.log(`${k.padEnd(w)}  ${v.padStart(10)}  ${target}`);
  console.log(JSON.stringify(result));
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

await main();
