// npm run bench:pipeline — the price-prediction pipeline at 5,000 symbols.
// Inputs are SYNTHETIC (operators/sources/simulator.ts): the real set has 404 tickers, and
// this measures scale, not forecasts. Prints a table, then one JSON line last.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLiveHub, MemoryTransport, runPipeline } from '../engine/index.js';
import { persistenceModel } from '../models/baselines.js';
import { barOf } from '../models/daily-csv.js';
import { emptyEarningsCalendar } from '../models/earnings-calendar.js';
import { createFeatureState, FEATURE_SPEC, type FeatureState, updateFeatures } from '../models/features.js';
import { predictRecords } from '../models/predictions.js';
import { seededRandom, simulateTick } from '../operators/sources/simulator.js';
import { pricePrediction } from '../pipelines/price-prediction.js';
import type { Bar, Features, Quote } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import { counting, median } from './counting-store.js';
import { printMetrics, round } from './report.js';
import { tickFeed } from './tick-feed.js';

const SYMBOLS = Number(process.env.BENCH_SYMBOLS ?? 5000);
const WARM_TICKS = Number(process.env.BENCH_WARM_TICKS ?? 30);
const MEASURED = Number(process.env.BENCH_RUNS ?? 15);
const THROUGHPUT_TICKS = Number(process.env.BENCH_THROUGHPUT_TICKS ?? 20);
const HORIZONS = [1, 5, 21];
const DAY = 86_400_000;
const START = Date.UTC(2018, 0, 1);

/** The same work as the DAG, written as one plain loop: the engine-overhead baseline. */
function handWritten(store: TimeSeriesStore) {
  const model = persistenceModel({ horizons: HORIZONS });
  const calendar = emptyEarningsCalendar();
  const state = new Map<string, FeatureState>();
  return async (quotes: Quote[], day: number) => {
    const bars: Bar[] = [];
    const normal: Features[] = [];
    for (const q of quotes) {
      const bar = barOf({ day, quote: q });
      bars.push(bar);
      let s = state.get(q.symbol);
      if (!s) {
        s = createFeatureState();
        state.set(q.symbol, s);
      }
      const values = updateFeatures(s, bar);
      if (!values) continue;
      const f: Features = {
        symbol: bar.symbol,
        ts: bar.ts,
        close: bar.close,
        spec: FEATURE_SPEC.id,
        values,
        history: s.count,
      };
      if (!calendar.isEarningsWindow(f.symbol, f.ts)) normal.push(f);
    }
    const predictions = await predictRecords(model, normal, 'normal', Date.now());
    await Promise.all([store.upsertBars(bars), store.upsertPredictions(predictions)]);
  };
}

/** The price-prediction DAG on the memory transport, fed one tick at a time; chained or not. */
async function dagRun(dir: string, chaining: boolean) {
  const counted = counting(
    await openDuckDbStore({ path: join(dir, `dag-${chaining ? 'chained' : 'unchained'}.duckdb`) }),
  );
  const feed = tickFeed();
  const model = persistenceModel({ horizons: HORIZONS });
  const pipeline = pricePrediction({
    source: feed.source,
    calendar: emptyEarningsCalendar(),
    models: { normal: model, earnings: model },
    store: counted.store,
    hub: createLiveHub(),
  });
  const running = await runPipeline(pipeline, {
    transport: new MemoryTransport(),
    batchSize: 20_000,
    pollTimeoutMs: 50,
    chaining,
  });
  const perUpdate = SYMBOLS * HORIZONS.length;
  const ms: number[] = [];
  return {
    ms,
    /** Pushes a tick; resolves when all its predictions are stored, with the ms it took. */
    update: async (tick: { quotes: Quote[]; day: number }) => {
      const target = counted.stored() + perUpdate;
      const t = performance.now();
      feed.push(tick);
      await counted.until(target);
      return performance.now() - t;
    },
    /** Pushes ticks back to back; the quotes per second until the last prediction is stored. */
    sustained: async (ticks: Array<{ quotes: Quote[]; day: number }>) => {
      const target = counted.stored() + perUpdate * ticks.length;
      const t0 = performance.now();
      for (const tick of ticks) feed.push(tick);
      await counted.until(target);
      return (SYMBOLS * ticks.length) / ((performance.now() - t0) / 1000);
    },
    stop: async (end: number) => {
      feed.end(end);
      await running.stop();
      await counted.store.close();
    },
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-bench-'));
  const handStore = await openDuckDbStore({ path: join(dir, 'hand.duckdb') });
  const hand = handWritten(handStore);
  // Chained (the default: bars → features → router → predict in one task) and unchained, side by side.
  const chained = await dagRun(dir, true);
  const unchained = await dagRun(dir, false);

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

  // The same synthetic ticks go to all three, so they do identical work.
  const random = seededRandom(42);
  const prices = Float64Array.from({ length: SYMBOLS }, () => 20 + 180 * random());
  let tickNo = 0;
  const nextTick = () => {
    const day = START + tickNo++ * DAY;
    return { quotes: simulateTick(prices, day + DAY / 2, random), day };
  };

  process.stderr.write(`warming up: ${WARM_TICKS} updates of ${SYMBOLS} symbols\n`);
  for (let i = 0; i < WARM_TICKS; i++) {
    const tick = nextTick();
    await chained.update(tick);
    await unchained.update(tick);
    await hand(tick.quotes, tick.day);
    process.stderr.write(`\r  ${i + 1}/${WARM_TICKS}`);
  }
  process.stderr.write('\n');

  const handMs: number[] = [];
  const runHand = async (tick: { quotes: Quote[]; day: number }) => {
    const t = performance.now();
    await hand(tick.quotes, tick.day);
    return performance.now() - t;
  };
  for (let i = 0; i < MEASURED; i++) {
    const tick = nextTick();
    // Rotate who goes first, so none always pays another's garbage collection.
    const steps = [
      async () => chained.ms.push(await chained.update(tick)),
      async () => unchained.ms.push(await unchained.update(tick)),
      async () => handMs.push(await runHand(tick)),
    ];
    for (let j = 0; j < steps.length; j++) await steps[(i + j) % steps.length]!();
    process.stderr.write(`\rmeasuring full updates: ${i + 1}/${MEASURED}`);
  }
  process.stderr.write('\n');

  // Sustained: ticks queued back to back, timed until the last prediction is stored.
  const ticks = Array.from({ length: THROUGHPUT_TICKS }, nextTick);
  const throughputRps = await chained.sustained(ticks);
  const throughputRpsUnchained = await unchained.sustained(ticks);

  await chained.stop(START + tickNo * DAY);
  await unchained.stop(START + tickNo * DAY);
  clearInterval(sampler);
  await handStore.close();
  rmSync(dir, { recursive: true, force: true });

  const overhead = (dag: number[]) => median(dag.map((d, i) => d / handMs[i]!));
  const result = {
    bench: 'pipeline',
    symbols: SYMBOLS,
    horizons: HORIZONS.length,
    runs: MEASURED,
    fullUpdateMs: round(median(chained.ms)),
    fullUpdateMsUnchained: round(median(unchained.ms)),
    handWrittenMs: round(median(handMs)),
    engineOverhead: round(overhead(chained.ms), 3),
    engineOverheadUnchained: round(overhead(unchained.ms), 3),
    chainingSpeedup: round(median(unchained.ms.map((u, i) => u / chained.ms[i]!)), 3),
    throughputRps: Math.round(throughputRps),
    throughputRpsUnchained: Math.round(throughputRpsUnchained),
    peakRssMb: Math.round(peakRss / 1048576),
    loadAverage: round(loadavg()[0]!, 1),
    data: 'synthetic (simulator)',
  };
  const rows: Array<[string, string, string]> = [
    ['fullUpdateMs (median, chained DAG)', String(result.fullUpdateMs), '< 500'],
    ['fullUpdateMsUnchained (median)', String(result.fullUpdateMsUnchained), ''],
    ['handWrittenMs (median, same work)', String(result.handWrittenMs), ''],
    ['engineOverhead (median chained DAG/hand)', String(result.engineOverhead), '<= 1.2'],
    ['engineOverheadUnchained (median DAG/hand)', String(result.engineOverheadUnchained), '<= 1.5'],
    ['chainingSpeedup (median unchained/chained)', String(result.chainingSpeedup), ''],
    ['throughputRps (quotes/s, sustained, chained)', String(result.throughputRps), ''],
    ['throughputRpsUnchained', String(result.throughputRpsUnchained), ''],
    ['peakRssMb (both DAGs and the loop)', String(result.peakRssMb), ''],
  ];
  console.log(`\npipeline bench: ${SYMBOLS} synthetic symbols, ${HORIZONS.length} horizons, ${MEASURED} runs`);
  console.log(`chained runs (ms):   ${chained.ms.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`unchained runs (ms): ${unchained.ms.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`hand runs (ms):      ${handMs.map((x) => x.toFixed(0)).join(' ')}`);
  printMetrics(rows);
  console.log(JSON.stringify(result));
}

await main();
