// npm run bench:models — batch inference of the shipped model for 5,000 symbols.
// Inputs are the real feature vectors of the bundled tickers' last 100 days, cycled to 5,000
// rows (the model sees real-looking inputs; the count is what is being measured).
// Prints a table, then one JSON line last.

import { printTable } from '../cli/table.js';
import { loadDailyBars } from '../models/daily-csv.js';
import { buildDataset } from '../models/dataset.js';
import { emptyEarningsCalendar } from '../models/earnings-calendar.js';
import { FEATURE_SPEC } from '../models/features.js';
import type { Model } from '../models/model.js';
import { loadLatestArtifacts, loadShipped } from '../models/shipped.js';
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

interface Timing {
  p50: number;
  p95: number;
  /** Median CPU time of this process per batch: on a shared, busy machine it moves far less than wall time. */
  cpuP50: number;
  peakRss: number;
}

/** Median, p95, median CPU time and peak RSS of `RUNS` batch predictions, after 5 warm-up runs (JIT, wasm kernels). */
async function time(model: Model): Promise<Timing> {
  for (let i = 0; i < 5; i++) await model.predictBatch(inputs);
  const ms: number[] = [];
  const cpu: number[] = [];
  let peakRss = 0;
  for (let i = 0; i < RUNS; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await model.predictBatch(inputs);
    ms.push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))]!;
  return { p50: q(ms, 0.5), p95: q(ms, 0.95), cpuP50: q(cpu, 0.5), peakRss };
}

// The shipped model last, so its JSON line reflects a warm process like the others; each
// trained net beside it for the table (an ensemble costs the sum of its members).
const model = shipped.normal;
const rows: [string, Timing][] = [];
for (const m of await loadLatestArtifacts()) rows.push([`${m.name}@${m.version}`, await time(m)]);
const own = await time(model);
rows.push([`${model.name}@${model.version} (shipped)`, own]);
const result = {
  bench: 'models',
  model: `${model.name}@${model.version}`,
  backend,
  rows: ROWS,
  features: FEATURE_SPEC.names.length,
  horizons: model.horizons.length,
  inferenceP50Ms: Number(own.p50.toFixed(2)),
  inferenceP95Ms: Number(own.p95.toFixed(2)),
  inferenceCpuP50Ms: Number(own.cpuP50.toFixed(2)),
  peakRssMb: Math.round(Math.max(...rows.map(([, r]) => r.peakRss)) / 1048576),
};
console.log(
  `\nmodels bench: ${ROWS} inputs × ${result.features} features × ${model.horizons.length} horizons on ${backend}, ${RUNS} runs each (target: shipped p50 < 20 ms)`,
);
printTable(
  ['model', 'p50 ms', 'p95 ms', 'CPU p50 ms', 'peak RSS MB'],
  rows.map(([name, r]) => [
    name,
    r.p50.toFixed(2),
    r.p95.toFixed(2),
    r.cpuP50.toFixed(2),
    String(Math.round(r.peakRss / 1048576)),
  ]),
);
console.log(JSON.stringify(result));
