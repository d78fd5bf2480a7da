// npm run bench:pipeline — the price-prediction pipeline at 5,000 symbols.
// Inputs are SYNTHETIC (operators/sources/simulator.ts): the real set has 404 tickers, and
// this measures scale, not forecasts. Prints a table, then one JSON line last.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLiveHub, MemoryTransport, runPipeline } from '../engine/index.js';
import { persistenceModel } from '../models/baselines.js';
import { barOf } from '../models/daily-csv.js';
import { emptyEarningsCalendar } from '../models/earnings-calendar.js';
import { createFeatureState, FEATURE_SPEC, type FeatureState, updateFeatures } from '../models/features.js';
import { predictionsFrom } from '../models/predictions.js';
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
    const predictions = predictionsFrom(model, normal, await model.predictBatch(normal), 'normal', Date.now());
    await Promise.all([store.upsertBars(bars), store.upsertPredictions(predictions)]);
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-bench-'));
  const dagStore = counting(await openDuckDbStore({ path: join(dir, 'dag.duckdb') }));
  const handStore = await openDuckDbStore({ path: join(dir, 'hand.duckdb') });
  const hand = handWritten(handStore);

  // The bench feeds the DAG's source one tick at a time.
  const feed = tickFeed();
  const push = feed.push;

  const model = persistenceModel({ horizons: HORIZONS });
  const pipeline = pricePrediction({
    source: feed.source,
    calendar: emptyEarningsCalendar(),
    models: { normal: model, earnings: model },
    store: dagStore.store,
    hub: createLiveHub(),
  });
  const running = await runPipeline(pipeline, {
    transport: new MemoryTransport(),
    batchSize: 20_000,
    pollTimeoutMs: 50,
  });

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

  // The same synthetic ticks go to both, so they do identical work.
  const random = seededRandom(42);
  const prices = Float64Array.from({ length: SYMBOLS }, () => 20 + 180 * random());
  let tickNo = 0;
  const nextTick = () => {
    const day = START + tickNo++ * DAY;
    return { quotes: simulateTick(prices, day + DAY / 2, random), day };
  };
  const perUpdate = SYMBOLS * HORIZONS.length;

  process.stderr.write(`warming up: ${WARM_TICKS} updates of ${SYMBOLS} symbols\n`);
  for (let i = 0; i < WARM_TICKS; i++) {
    const tick = nextTick();
    push(tick);
    await dagStore.until(perUpdate * (i + 1));
    await hand(tick.quotes, tick.day);
    process.stderr.write(`\r  ${i + 1}/${WARM_TICKS}`);
  }
  process.stderr.write('\n');

  const dagMs: number[] = [];
  const handMs: number[] = [];
  const runDag = async (tick: { quotes: Quote[]; day: number }) => {
    const target = dagStore.stored() + perUpdate;
    const t = performance.now();
    push(tick);
    await dagStore.until(target);
    dagMs.push(performance.now() - t);
  };
  const runHand = async (tick: { quotes: Quote[]; day: number }) => {
    const t = performance.now();
    await hand(tick.quotes, tick.day);
    handMs.push(performance.now() - t);
  };
  for (let i = 0; i < MEASURED; i++) {
    const tick = nextTick();
    // Alternate who goes first, so neither always pays the other's garbage collection.
    if (i % 2 === 0) {
      await runDag(tick);
      await runHand(tick);
    } else {
      await runHand(tick);
      await runDag(tick);
    }
    process.stderr.write(`\rmeasuring full updates: ${i + 1}/${MEASURED}`);
  }

  process.stderr.write('\n');

  // Sustained: ticks queued back to back, timed until the last prediction is stored.
  const ticks = Array.from({ length: THROUGHPUT_TICKS }, nextTick);
  const target = dagStore.stored() + perUpdate * THROUGHPUT_TICKS;
  const t0 = performance.now();
  for (const tick of ticks) push(tick);
  await dagStore.until(target);
  const sustainedMs = performance.now() - t0;
  const throughputRps = (SYMBOLS * THROUGHPUT_TICKS) / (sustainedMs / 1000);

  feed.end(START + tickNo * DAY);
  await running.stop();
  clearInterval(sampler);
  await dagStore.store.close();
  await handStore.close();
  rmSync(dir, { recursive: true, force: true });

  const fullUpdateMs = median(dagMs);
  const handMsMedian = median(handMs);
  const ratios = dagMs.map((d, i) => d / handMs[i]!);
  const result = {
    bench: 'pipeline',
    symbols: SYMBOLS,
    horizons: HORIZONS.length,
    runs: MEASURED,
    fullUpdateMs: round(fullUpdateMs),
    handWrittenMs: round(handMsMedian),
    engineOverhead: round(median(ratios), 3),
    throughputRps: Math.round(throughputRps),
    peakRssMb: Math.round(peakRss / 1048576),
    data: 'synthetic (simulator)',
  };
  const rows: Array<[string, string, string]> = [
    ['fullUpdateMs (median, DAG)', String(result.fullUpdateMs), '< 500'],
    ['handWrittenMs (median, same work)', String(result.handWrittenMs), ''],
    ['engineOverhead (median DAG/hand)', String(result.engineOverhead), '<= 1.5'],
    ['throughputRps (quotes/s, sustained)', String(result.throughputRps), ''],
    ['peakRssMb', String(result.peakRssMb), ''],
  ];
  console.log(`\npipeline bench: ${SYMBOLS} synthetic symbols, ${HORIZONS.length} horizons, ${MEASURED} runs`);
  console.log(`DAG runs (ms):  ${dagMs.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`hand runs (ms): ${handMs.map((x) => x.toFixed(0)).join(' ')}`);
  printMetrics(rows);
  console.log(JSON.stringify(result));
}

await main();
