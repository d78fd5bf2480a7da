// npm run bench:models — batch inference of the shipped model for 5,000 symbols.
// Inputs are the real feature vectors of the bundled tickers' last 100 days, cycled to 5,000
// rows (the model sees real-looking inputs; the count is what is being measured).
// Prints a table, then one JSON line last.

import { loadDailyBars } from '../models/daily-csv.js';
import { buildDataset } from '../models/dataset.js';
import { emptyEarningsCalendar } from '../models/earnings-calendar.js';
import { FEATURE_SPEC } from '../models/features.js';
import { loadShipped } from '../models/shipped.js';
import { selectBackend } from '../models/tf-backend.js';
import type { Features } from '../schemas/index.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 5000);
const RUNS = Number(process.env.BENCH_RUNS ?? 30);

const backend = await selectBackend();
const shipped = await loadShipped();
if (!shipped) throw new Error('no shipped model: run `npx tickcast train` first');
const { bars } = await loadDailyBars(new URL('../data/sp500-daily', import.meta.url).pathname);
const data = buildDataset(bars, { horizons: [1], calendar: emptyEarningsCalendar() });
const recent = data.examples.slice(-100 * bars.size);
const inputs: Features[] = Array.from({ length: ROWS }, (_, i) => {
  const e = recent[i % recent.length]!;
  return { symbol: e.symbol, ts: e.ts + i, close: e.close, spec: FEATURE_SPEC.id, values: e.features, history: 100 };
});

const model = shipped.normal;
for (let i = 0; i < 5; i++) await model.predictBatch(inputs); // warm-up (JIT, wasm kernels)
const ms: number[] = [];
let peakRss = 0;
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  await model.predictBatch(inputs);
  ms.push(performance.now() - t);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}
ms.sort((a, b) => a - b);
const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!;
const result = {
  bench: 'models',
  model: `${model.name}@${model.version}`,
  backend,
  rows: ROWS,
  horizons: model.horizons.length,
  inferenceP50Ms: Number(q(0.5).toFixed(2)),
  inferenceP95Ms: Number(q(0.95).toFixed(2)),
  peakRssMb: Math.round(peakRss / 1048576),
};
console.log(
  `\nmodels bench: ${result.model} on ${backend}, ${ROWS} inputs × ${model.horizons.length} horizons, ${RUNS} runs`,
);
console.log('metric            value  target');
console.log(`inferenceP50Ms  ${String(result.inferenceP50Ms).padStart(7)}  < 20`);
console.log(`inferenceP95Ms  ${String(result.inferenceP95Ms).padStart(7)}`);
console.log(`peakRssMb       ${String(result.peakRssMb).padStart(7)}`);
console.log(JSON.stringify(result));
