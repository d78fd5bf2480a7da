// Upsert and read timings of a store at pipeline batch sizes.
// Run: npm run bench:store [-- path]   (DuckDB; default ':memory:'; a file path measures disk too)
//      BENCH_STORE=questdb npm run bench:store   (QuestDB at QUESTDB_URL / QUESTDB_PG, in new tables)
// Synthetic rows (scale, not forecasts). Prints a table, then one JSON line last.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bar, Prediction } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { openQuestDbStore } from '../storage/questdb-store.js';
import { QUESTDB_PG, QUESTDB_URL } from '../test/support/service-addresses.js';

const DAY = 86_400_000;
const SYMBOLS = 5_000; // one bar per symbol per batch: a pipeline tick over the whole universe
const HISTORY_DAYS = 120; // rows already stored before timing: 600,000 bars, 1.8 M predictions
const HORIZONS = [1, 5, 21];
const START = Date.UTC(2018, 0, 2);

const symbols = Array.from({ length: SYMBOLS }, (_, i) => `S${i.toString(36).toUpperCase().padStart(4, '0')}`);

function barsAt(day: number, revision = 0): Bar[] {
  return symbols.map((symbol, i) => {
    const close = 50 + ((i * 7 + day) % 300) + revision * 0.01;
    return {
      symbol,
      ts: START + day * DAY,
      interval: '1d',
      open: close * 0.99,
      high: close * 1.01,
      low: close * 0.98,
      close,
      volume: 1_000_000 + i,
      quotes: 1,
      source: 'replay',
    };
  });
}

function predictionsAt(day: number): Prediction[] {
  const ts = START + day * DAY;
  return symbols.flatMap((symbol, i) =>
    HORIZONS.map((horizon) => {
      const lastClose = 50 + ((i * 7 + day) % 300);
      return {
        id: `${symbol}:${ts}:${horizon}`,
        symbol,
        ts,
        horizon,
        targetTs: ts + horizon * DAY,
        lastClose,
        predictedClose: lastClose * 1.002,
        predictedReturn: Math.log(1.002),
        lower: lastClose * 0.97,
        upper: lastClose * 1.03,
        model: 'mlp-normal',
        modelVersion: '2024.05.1',
        regime: 'normal',
        createdAt: Date.now(),
        rankScore: null,
      };
    }),
  );
}

const results: { [label: string]: number } = {};

async function time(label: string, runs: number, fn: (run: number) => Promise<unknown>, pauseMs = 0): Promise<void> {
  const ms: number[] = [];
  for (let run = 0; run < runs; run++) {
    const t0 = performance.now();
    await fn(run);
    ms.push(performance.now() - t0);
    if (pauseMs > 0) await sleep(pauseMs);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number): string => (ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? Number.NaN).toFixed(1);
  results[label] = Number(at(0.5));
  console.log(`${label.padEnd(58)} median ${at(0.5).padStart(6)} ms   max ${at(1).padStart(7)} ms`);
}

const questdb = process.env.BENCH_STORE === 'questdb';
// QuestDB: fresh tables per run (bench<time>_bars, ...), left behind for a look afterwards.
const path = questdb ? QUESTDB_URL : (process.argv[2] ?? ':memory:');
const store = questdb
  ? await openQuestDbStore({
      url: path,
      pg: QUESTDB_PG,
      tablePrefix: `bench${Date.now().toString(36)}_`,
    })
  : await openDuckDbStore({ path });
console.log(`store ${store.kind} at ${path}: loading ${HISTORY_DAYS} days of history ...`);
for (let day = 0; day < HISTORY_DAYS; day++) {
  await store.upsertBars(barsAt(day));
  await store.upsertPredictions(predictionsAt(day));
}
await sleep(3_000); // a quiet moment, as between pipeline updates
console.log(await store.counts());

// Batches are built before the clock starts: only the store is timed.
const RUNS = 20;
let day = HISTORY_DAYS;
const next = (): [Bar[], Prediction[]] => [barsAt(day), predictionsAt(day++)];
const updates = Array.from({ length: RUNS }, next);
const revisedBars = Array.from({ length: RUNS }, (_, i) => barsAt(day - 1, i + 1));
const replayed = updates[RUNS - 1] ?? [[], []];

// A pipeline update writes one batch of bars and one of predictions, then the pipeline waits for
// the next bar (500 ms here).
await time(
  `update: ${SYMBOLS} bars + ${replayed[1].length} predictions, 500 ms apart`,
  RUNS,
  async (run) => {
    const [bars, predictions] = updates[run] ?? [[], []];
    await store.upsertBars(bars);
    await store.upsertPredictions(predictions);
  },
  500,
);
const more = Array.from({ length: RUNS }, next);
await time(`update, back to back (replay at full speed)`, RUNS, async (run) => {
  const [bars, predictions] = more[run] ?? [[], []];
  await store.upsertBars(bars);
  await store.upsertPredictions(predictions);
});
await sleep(3_000);
const fresh = Array.from({ length: RUNS }, next);
await time(`upsertBars, ${SYMBOLS} new rows`, RUNS, (run) => store.upsertBars(fresh[run]?.[0] ?? []));
await time(`upsertBars, ${SYMBOLS} rows replayed (all replace)`, RUNS, (run) =>
  store.upsertBars(revisedBars[run] ?? []),
);
await time(`upsertPredictions, ${replayed[1].length} new rows`, RUNS, (run) =>
  store.upsertPredictions(fresh[run]?.[1] ?? []),
);
await time(`upsertPredictions, ${replayed[1].length} rows replayed`, RUNS, () => store.upsertPredictions(replayed[1]));
await sleep(3_000);
await time('latestBars() over all symbols', 10, () => store.latestBars());
await time('latestBars([10 symbols])', 10, () => store.latestBars(symbols.slice(0, 10)));
await time('bars(symbol, { limit: 250 })', 10, (run) => store.bars(symbols[run] ?? 'S0000', { limit: 250 }));
await time('ohlc(symbol, weekly)', 10, (run) => store.ohlc(symbols[run] ?? 'S0000', { bucketMs: 7 * DAY }));
await time('latestPredictions([10 symbols])', 10, () => store.latestPredictions(symbols.slice(0, 10)));
await time('predictions(symbol, { horizon: 1 })', 10, (run) =>
  store.predictions(symbols[run] ?? 'S0000', { horizon: 1 }),
);
console.log(await store.counts());
await store.close();
console.log(JSON.stringify({ bench: 'store', kind: store.kind, path, medianMs: results }));
