// npm run bench:models — batch inference of the shipped model for 5,000 symbols.
// Inputs are the real feature vectors of the bundled tickers' last 100 days, cycled to 5,000
// rows (the model sees real-looking inputs; the count is what is being measured).
// Beside the whole predictBatch, predictQuantiles (the typed inference the predict operator
// calls) and the operator's batch to records, the shipped nets' device work alone ("matmul": their
// matMuls and convolutions on the same batch, already uploaded), alternated run by run with them, so
// what the JavaScript around it costs ("rest" = whole − matmul) is measured side by side on a noisy
// machine.
// BENCH_BEFORE=DIR: also an earlier version's shipped model, alternated with them in the same loop
// (DIR: that version's tree, e.g. `git archive <commit> models schemas | tar -x -C DIR`, with a
// node_modules link), once as its predictBatch alone and once as its predict operator ran it per batch:
// predictBatch, and the net's own predictBatch again when that version's `loadShipped` gives a `net`
// (its rankScore). Prints a table, then one JSON line last.

import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { printTable } from '../cli/table.js';
import { loadDailyBars } from '../models/daily-csv.js';
import { buildDataset } from '../models/dataset.js';
import { emptyEarningsCalendar } from '../models/earnings-calendar.js';
import { FEATURE_SPEC } from '../models/features.js';
import type { Model } from '../models/model.js';
import { predictionsFrom, predictRecords } from '../models/predictions.js';
import {
  clampFeatures,
  disposeBatch,
  forwardAll,
  loadQuantileNet,
  type QuantileNet,
  uploadClampedBatch,
} from '../models/quantile-net.js';
import { ARTIFACTS_DIR, loadLatestArtifacts, loadShipped } from '../models/shipped.js';
import { selectBackend } from '../models/tf-backend.js';
import type { Features } from '../schemas/index.js';
import { printMetrics, round } from './report.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 5000);
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const BEFORE = process.env.BENCH_BEFORE;

const loadStart = loadavg();
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

const q = (a: readonly number[], p: number) =>
  [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))]!;

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
  return { p50: q(ms, 0.5), p95: q(ms, 0.95), cpuP50: q(cpu, 0.5), peakRss };
}

/** The shipped normal model's nets (its ensemble members, or the one net), or none for a baseline. */
async function shippedNets(): Promise<QuantileNet[]> {
  const { name, version, members } = shipped!.manifest.normal;
  const refs = members ?? [{ name, version }];
  if (refs.some((r) => !existsSync(join(ARTIFACTS_DIR, r.name, r.version)))) return [];
  return Promise.all(
    refs.map(
      async (r) => (await loadQuantileNet(join(ARTIFACTS_DIR, r.name, r.version), { expectSpec: FEATURE_SPEC.id })).net,
    ),
  );
}

interface SideBySide {
  wholeP50: number;
  /** `predictQuantiles`: the model's inference as the predict operator calls it (typed quantiles, no objects). */
  quantilesP50: number;
  matmulP50: number;
  matmulP95: number;
  /** Median over runs of (whole − matmul) of the same run. */
  restP50: number;
  /** Median over runs of (predictQuantiles − matmul) of the same run. */
  quantilesRestP50: number;
  /** The predict operator's batch, model to Prediction records: through output objects, and typed (`predictRecords`). */
  recordsObjectsP50: number;
  recordsTypedP50: number;
  /** With BENCH_BEFORE: the earlier version's predictBatch, and its predict operator's model calls per batch. */
  before?: { wholeP50: number; restP50: number; operatorP50: number };
}

/** An earlier version's shipped model (BENCH_BEFORE), and the net its predict operator ran again for rankScore. */
async function beforeModels(dir: string): Promise<{ normal: Model; net: Model | null }> {
  const mod = (await import(pathToFileURL(resolve(dir, 'models/shipped.ts')).href)) as {
    loadShipped: () => Promise<{ normal: Model; net?: Model | null } | null>;
  };
  const old = await mod.loadShipped();
  if (!old) throw new Error(`BENCH_BEFORE=${dir}: no shipped model there`);
  return { normal: old.normal, net: old.net ?? null };
}

/**
 * `RUNS` runs, each timing the whole `predictBatch`, the nets' device work alone on the same inputs clamped and
 * uploaded once beforehand (wasm runs kernels synchronously, so the call's time is theirs; nothing is read back)
 * and, with `before`, the earlier version's, in an order rotated run by run.
 */
async function sideBySide(
  model: Model,
  nets: readonly QuantileNet[],
  before?: { normal: Model; net: Model | null },
): Promise<SideBySide> {
  // As predictQuantiles prepares it: clamped raw values, for the nets' folded forms (standardisation in the weights).
  const batch = uploadClampedBatch(
    nets,
    clampFeatures(nets[0]!, inputs, model, new Float32Array(ROWS * nets[0]!.cols)),
    ROWS,
  );
  const timed = async (f: () => unknown): Promise<number> => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  const contestants: Array<() => Promise<number>> = [
    () => timed(() => model.predictBatch(inputs)),
    () => timed(() => forwardAll(nets, batch).dispose()),
    () => timed(() => model.predictQuantiles!(inputs)),
    () => timed(async () => predictionsFrom(model, inputs, await model.predictBatch(inputs), 'normal', 0)),
    () => timed(() => predictRecords(model, inputs, 'normal', 0)),
  ];
  if (before) {
    contestants.push(() => timed(() => before.normal.predictBatch(inputs)));
    contestants.push(() =>
      timed(async () => {
        await before.normal.predictBatch(inputs);
        if (before.net) await before.net.predictBatch(inputs);
      }),
    );
  }
  try {
    for (let i = 0; i < 5; i++) for (const c of contestants) await c();
    const times = contestants.map((): number[] => []);
    for (let i = 0; i < RUNS; i++) {
      for (let j = 0; j < contestants.length; j++) {
        const k = (i + j) % contestants.length;
        times[k]!.push(await contestants[k]!());
      }
    }
    const [w, m, qt, ro, rt, bw, bo] = times as [
      number[],
      number[],
      number[],
      number[],
      number[],
      number[]?,
      number[]?,
    ];
    const rest = (x: readonly number[]) =>
      q(
        x.map((v, i) => v - m[i]!),
        0.5,
      );
    return {
      wholeP50: q(w, 0.5),
      quantilesP50: q(qt, 0.5),
      matmulP50: q(m, 0.5),
      matmulP95: q(m, 0.95),
      restP50: rest(w),
      quantilesRestP50: rest(qt),
      recordsObjectsP50: q(ro, 0.5),
      recordsTypedP50: q(rt, 0.5),
      ...(bw && bo && { before: { wholeP50: q(bw, 0.5), restP50: rest(bw), operatorP50: q(bo, 0.5) } }),
    };
  } finally {
    disposeBatch(batch);
  }
}

// The shipped model last, so its JSON line reflects a warm process like the others; each
// trained net beside it for the table (an ensemble costs the sum of its members).
const model = shipped.normal;
const rows: [string, Timing][] = [];
for (const m of await loadLatestArtifacts()) rows.push([`${m.name}@${m.version}`, await time(m)]);
const own = await time(model);
rows.push([`${model.name}@${model.version} (shipped)`, own]);
const nets = await shippedNets();
const before = BEFORE ? await beforeModels(BEFORE) : undefined;
const split = nets.length > 0 ? await sideBySide(model, nets, before) : undefined;
const loadEnd = loadavg();
const la = (l: number[]) => l.map((x) => round(x, 2));
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
  // Side by side (pairs alternated in one loop); null for a baseline model, which has no nets.
  sideBySide: split && {
    wholeP50Ms: round(split.wholeP50, 2),
    matmulP50Ms: round(split.matmulP50, 2),
    matmulP95Ms: round(split.matmulP95, 2),
    restP50Ms: round(split.restP50, 2),
    restOverMatmul: round(split.restP50 / split.matmulP50, 2),
    // The inference the predict operator runs (predictQuantiles): the issue's rest ≤ matmul is judged here.
    quantilesP50Ms: round(split.quantilesP50, 2),
    quantilesRestP50Ms: round(split.quantilesRestP50, 2),
    quantilesRestOverMatmul: round(split.quantilesRestP50 / split.matmulP50, 2),
    recordsObjectsP50Ms: round(split.recordsObjectsP50, 2),
    recordsTypedP50Ms: round(split.recordsTypedP50, 2),
    ...(split.before && {
      before: {
        dir: BEFORE,
        wholeP50Ms: round(split.before.wholeP50, 2),
        restP50Ms: round(split.before.restP50, 2),
        restOverMatmul: round(split.before.restP50 / split.matmulP50, 2),
        operatorP50Ms: round(split.before.operatorP50, 2),
      },
    }),
  },
  loadAverage: { start: la(loadStart), end: la(loadEnd) },
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
if (split) {
  console.log(
    `\nside by side, ${RUNS} alternated runs: predictQuantiles (what the predict operator calls), predictBatch and the operator’s batch to records, against the model’s ${nets.length === 1 ? 'net' : `${nets.length} nets`} device work alone (same batch, uploaded once)${split.before ? `, and the version in ${BEFORE}` : ''}`,
  );
  const b = split.before;
  printMetrics([
    ['matmul alone p50 ms', split.matmulP50.toFixed(2), ''],
    ['predictQuantiles (the operator’s inference) p50 ms', split.quantilesP50.toFixed(2), '< 20'],
    ['  rest (predictQuantiles − matmul) p50 ms', split.quantilesRestP50.toFixed(2), '<= matmul'],
    ['  rest ÷ matmul', (split.quantilesRestP50 / split.matmulP50).toFixed(2), '<= 1'],
    ['predictBatch (output objects) p50 ms', split.wholeP50.toFixed(2), '< 20'],
    ['  rest (predictBatch − matmul) p50 ms', split.restP50.toFixed(2), ''],
    ['  rest ÷ matmul', (split.restP50 / split.matmulP50).toFixed(2), ''],
    ['operator batch to records, via objects p50 ms', split.recordsObjectsP50.toFixed(2), ''],
    ['operator batch to records, typed p50 ms', split.recordsTypedP50.toFixed(2), ''],
    ['  typed ÷ via objects', (split.recordsTypedP50 / split.recordsObjectsP50).toFixed(2), '< 1'],
    ...(b
      ? ([
          ['before: whole predictBatch p50 ms', b.wholeP50.toFixed(2), ''],
          ['before: rest p50 ms', b.restP50.toFixed(2), ''],
          ['before: rest ÷ matmul', (b.restP50 / split.matmulP50).toFixed(2), ''],
          ['before: per batch with its rankScore pass p50 ms', b.operatorP50.toFixed(2), ''],
        ] as const)
      : []),
  ]);
}
console.log(`load average ${la(loadStart).join(' ')} at start, ${la(loadEnd).join(' ')} at end`);
console.log(JSON.stringify(result));
