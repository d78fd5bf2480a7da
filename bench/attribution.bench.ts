// npm run bench:attribution — what `Model.attribute` costs on the shipped model, and how complete
// its integrated gradients are for each number of steps. Inputs are the real feature vectors of
// the bundled tickers' last 100 days (with the earnings calendar), cycled to the batch sizes.
// Prints two tables (steps: completeness and cost; batch sizes: attribute against predictBatch),
// then one JSON line last. BENCH_RUNS scales the repetitions; BENCH_SWEEP_INPUTS the sweep.

import { join } from 'node:path';
import { printTable } from '../cli/table.js';
import { IG_STEPS } from '../models/attribution.js';
import { loadDailyBars } from '../models/daily-csv.js';
import { buildDataset } from '../models/dataset.js';
import { loadEarningsCalendar } from '../models/earnings-calendar.js';
import { FEATURE_SPEC } from '../models/features.js';
import type { Attribution, Model } from '../models/model.js';
import { loadQuantileNet, quantileNetModel } from '../models/quantile-net.js';
import { ARTIFACTS_DIR, loadShipped } from '../models/shipped.js';
import { selectBackend } from '../models/tf-backend.js';
import type { Features } from '../schemas/index.js';
import { round } from './report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const SWEEP_INPUTS = Number(process.env.BENCH_SWEEP_INPUTS ?? 300);
const SWEEP_STEPS = [8, 16, 32, 64, 128];
const BATCHES = [1, 50, 500];

const backend = await selectBackend();
const threads = backend === 'wasm' ? (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount() : undefined;
const shipped = await loadShipped();
if (!shipped) throw new Error('no shipped model: run `npx tickcast train` first');
// The shipped nets: an ensemble's members, or the one net the manifest names.
const members = shipped.manifest.normal.members ?? [shipped.manifest.normal];
const calendar = await loadEarningsCalendar(
  new URL('../data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv', import.meta.url).pathname,
);
const { bars } = await loadDailyBars(new URL('../data/sp500-daily', import.meta.url).pathname);
const recent = buildDataset(bars, { horizons: [1], calendar }).examples.slice(-100 * bars.size);
const inputsOf = (n: number, offset = 0): Features[] =>
  Array.from({ length: n }, (_, i) => {
    const e = recent[(offset + i * 7) % recent.length]!; // spread over days and symbols
    return { symbol: e.symbol, ts: e.ts + i, close: e.close, spec: FEATURE_SPEC.id, values: e.features, history: 100 };
  });

/** Median wall and CPU ms of `runs` calls after 2 warm-up calls. */
async function time(f: () => unknown, runs: number): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < 2; i++) await f();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await f();
    wall.push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  return { wall: median(wall), cpu: median(cpu) };
}

const quantile = (a: readonly number[], p: number) => [...a].sort((x, y) => x - y)[Math.floor(p * (a.length - 1))]!;

/** Completeness of attributions: error ÷ |f(x) − f(0)| (p50, p90) and the largest error in bp of log return. */
function completeness(attributions: readonly Attribution[]) {
  const errors = attributions.map((a) => {
    let s = 0;
    for (const c of a.contributions) s += c;
    return Math.abs(s - (a.predictedReturn - a.baselineReturn));
  });
  const relative = errors.map(
    (e, i) => e / Math.abs(attributions[i]!.predictedReturn - attributions[i]!.baselineReturn),
  );
  const deltas = attributions.map((a) => Math.abs(a.predictedReturn - a.baselineReturn));
  return {
    relP50: quantile(relative, 0.5),
    relP90: quantile(relative, 0.9),
    maxBp: Math.max(...errors) * 1e4,
    medianDeltaBp: quantile(deltas, 0.5) * 1e4,
  };
}

// 1. Steps: the shipped nets (the shipped model without its interval scale, which does not
//    change the median) at each number of steps, on the same inputs.
const nets = await Promise.all(
  members.map(
    async (m) => (await loadQuantileNet(join(ARTIFACTS_DIR, m.name, m.version), { expectSpec: FEATURE_SPEC.id })).net,
  ),
);
const meta = { name: members.length > 1 ? 'ensemble' : shipped.normal.name, version: 'bench', spec: FEATURE_SPEC.id };
const sweepInputs = inputsOf(SWEEP_INPUTS, 3);
const batch50 = inputsOf(50);
const sweep: { steps: number; relP50: number; relP90: number; maxBp: number; msPerInput: number }[] = [];
let medianDeltaBp = 0;
for (const steps of SWEEP_STEPS) {
  const model = quantileNetModel(nets, meta, { attributionSteps: steps });
  const c = completeness(await model.attribute!(sweepInputs));
  medianDeltaBp = c.medianDeltaBp;
  const t = await time(() => model.attribute!(batch50), Math.max(3, Math.round(RUNS / 2)));
  sweep.push({ steps, relP50: c.relP50, relP90: c.relP90, maxBp: c.maxBp, msPerInput: t.wall / 50 });
}
console.log(
  `\nattribution bench: shipped ${shipped.normal.name}@${shipped.normal.version} on ${backend}` +
    `${threads === undefined ? '' : ` (${threads} thread${threads === 1 ? '' : 's'})`}, ${FEATURE_SPEC.names.length} features × ${shipped.normal.horizons.length} horizons`,
);
console.log(
  `\nintegrated gradients, ${SWEEP_INPUTS} inputs × ${shipped.normal.horizons.length} horizons (median |f(x) − f(0)| ${round(medianDeltaBp, 1)} bp); default ${IG_STEPS} steps`,
);
printTable(
  ['steps', 'error ÷ |f(x) − f(0)| p50', 'p90', 'max error bp', 'ms / input (batch 50)'],
  sweep.map((s) => [
    String(s.steps),
    `${round(100 * s.relP50, 2)}%`,
    `${round(100 * s.relP90, 2)}%`,
    round(s.maxBp, 2).toFixed(2),
    s.msPerInput.toFixed(2),
  ]),
);

// 2. Cost of the shipped model's attribute (default steps) against its predictBatch, per batch size.
const model: Model = shipped.normal;
const costs: { batch: number; attributeMs: number; attributeCpuMs: number; predictMs: number }[] = [];
for (const n of BATCHES) {
  const inputs = inputsOf(n);
  const runs = Math.max(3, Math.round((RUNS * 50) / Math.max(n, 50)));
  const a = await time(() => model.attribute!(inputs), runs);
  const p = await time(() => model.predictBatch(inputs), runs * 3);
  costs.push({ batch: n, attributeMs: a.wall / n, attributeCpuMs: a.cpu / n, predictMs: p.wall / n });
}
console.log(`\ncost per input, ${IG_STEPS} steps (median of runs)`);
printTable(
  ['batch', 'attribute ms', 'attribute CPU ms', 'predictBatch ms', 'attribute ÷ predict'],
  costs.map((c) => [
    String(c.batch),
    c.attributeMs.toFixed(3),
    c.attributeCpuMs.toFixed(3),
    c.predictMs.toFixed(4),
    `${Math.round(c.attributeMs / c.predictMs)}×`,
  ]),
);
for (const n of nets) n.dispose();

const result = {
  bench: 'attribution',
  model: `${model.name}@${model.version}`,
  backend,
  threads,
  steps: IG_STEPS,
  completeness: Object.fromEntries(
    sweep.map((s) => [s.steps, { relP50: round(s.relP50, 4), relP90: round(s.relP90, 4), maxBp: round(s.maxBp, 2) }]),
  ),
  attributeMsPerInput: Object.fromEntries(costs.map((c) => [c.batch, round(c.attributeMs, 3)])),
  predictMsPerInput: Object.fromEntries(costs.map((c) => [c.batch, round(c.predictMs, 4)])),
};
console.log(JSON.stringify(result));
