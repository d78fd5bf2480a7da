// The nets' batch inference (typed arrays end to end: one buffer, one read-back, outputs built once;
// the standardisation folded into the first layer's weights) against the straightforward
// computation, on real bundled data: the same numbers up to float32 rounding (≤ 1e-5 log return;
// measured ≤ 5e-7).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Features } from '../schemas/index.js';
import { loadDailyBars } from './daily-csv.js';
import { loadEarningsCalendar } from './earnings-calendar.js';
import { computeFeatureSeries, FEATURE_SPEC } from './features.js';
import { withIntervalScale } from './interval-scale.js';
import type { Model, ModelOutput } from './model.js';
import {
  clampFeatures,
  disposeBatch,
  forwardAll,
  loadQuantileNet,
  type QuantileNet,
  quantileNetModel,
  standardiseFeatures,
  uploadClampedBatch,
} from './quantile-net.js';
import { ARTIFACTS_DIR, loadShipped, type ShippedModels } from './shipped.js';
import { simdClamp } from './simd-clamp.js';
import { tf, wasmHeap } from './tf-backend.js';

/**
 * What the nets' ensemble computes, written the plain way: each value standardised on its own
 * (Number.isFinite, Math.min/max), each net on its own tensors (a tcn's series by a gather on the
 * device), its quantiles added into a float32 sum, the mean, then one ModelOutput per forecast.
 */
function straightforward(nets: readonly QuantileNet[], inputs: readonly Features[]): ModelOutput[] {
  const { cols, mean, std, clip, horizons } = nets[0]!;
  const rows = inputs.length;
  const H = horizons.length;
  const z = new Float32Array(rows * cols);
  inputs.forEach((f, r) => {
    f.values.forEach((v, c) => {
      const s = (v - mean[c]!) / std[c]!;
      z[r * cols + c] = Number.isFinite(s) ? Math.min(clip, Math.max(-clip, s)) : 0;
    });
  });
  const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
  const sum = new Float32Array(rows * H * 3);
  for (const net of nets) {
    const rawT = tf.tidy(() => {
      const x = tf.tensor2d(z, [rows, cols]);
      const { kind, sequenceColumns, steps } = net.spec;
      const series =
        kind === 'tcn'
          ? (tf.gather(x, tf.tensor1d(sequenceColumns, 'int32'), 1).reshape([rows, steps, -1]) as tf.Tensor3D)
          : undefined;
      return net.rawOutputs(x, series);
    });
    const raw = rawT.dataSync();
    rawT.dispose();
    for (let i = 0; i < rows * H; i++) {
      const scale = net.targetScale[i % H]!;
      const m = raw[3 * i]!;
      sum[3 * i] = sum[3 * i]! + (m - softplus(raw[3 * i + 1]!)) * scale;
      sum[3 * i + 1] = sum[3 * i + 1]! + m * scale;
      sum[3 * i + 2] = sum[3 * i + 2]! + (m + softplus(raw[3 * i + 2]!)) * scale;
    }
  }
  const mean3 = sum.map((v) => v / nets.length); // a Float32Array: the mean is float32, as the model stores it
  return inputs.flatMap((f, r) =>
    horizons.map((horizon, h) => {
      const o = (r * H + h) * 3;
      return {
        symbol: f.symbol,
        ts: f.ts,
        horizon,
        lowerReturn: mean3[o]!,
        predictedReturn: mean3[o + 1]!,
        upperReturn: mean3[o + 2]!,
      };
    }),
  );
}

/** How many numbers differ (bit for bit), and the largest relative and absolute differences. */
function differences(
  a: readonly ModelOutput[],
  b: readonly ModelOutput[],
): { count: number; maxRelative: number; maxAbsolute: number } {
  let count = 0;
  let maxRelative = 0;
  let maxAbsolute = 0;
  a.forEach((o, i) => {
    const e = b[i]!;
    expect([o.symbol, o.ts, o.horizon]).toEqual([e.symbol, e.ts, e.horizon]);
    for (const key of ['lowerReturn', 'predictedReturn', 'upperReturn'] as const) {
      if (Object.is(o[key], e[key])) continue;
      count++;
      maxRelative = Math.max(maxRelative, Math.abs(o[key] - e[key]) / Math.max(Math.abs(e[key]), 1e-12));
      maxAbsolute = Math.max(maxAbsolute, Math.abs(o[key] - e[key]));
    }
  });
  return { count, maxRelative, maxAbsolute };
}

describe('batch inference of the trained nets on real features', () => {
  let shipped: ShippedModels;
  let nets: QuantileNet[];
  const inputs: Features[] = [];

  beforeAll(async () => {
    shipped = (await loadShipped())!;
    // Every trained net's newest version (linear, mlp, tcn), whatever ships: nets trained on the
    // same rows share their standardisation and run as one ensemble, as shipped ensembles do.
    nets = [];
    for (const name of readdirSync(ARTIFACTS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const version = readdirSync(join(ARTIFACTS_DIR, name.name)).sort().at(-1)!;
      nets.push((await loadQuantileNet(join(ARTIFACTS_DIR, name.name, version), { expectSpec: FEATURE_SPEC.id })).net);
    }
    const calendar = await loadEarningsCalendar(
      new URL('../data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv', import.meta.url).pathname,
    );
    const symbols = ['AAPL', 'JPM', 'XOM', 'NVDA', 'KO', 'REGN', 'VRTX', 'O'];
    const { bars } = await loadDailyBars(new URL('../data/sp500-daily', import.meta.url).pathname, { symbols });
    for (const [symbol, series] of bars) {
      const features = computeFeatureSeries(series, calendar);
      // Every 2nd day of the whole history: warm-up rows (NaN features) included.
      for (let i = 0; i < series.length; i += 2) {
        const bar = series[i]!;
        inputs.push({ symbol, ts: bar.ts, close: bar.close, spec: FEATURE_SPEC.id, values: features[i]!, history: i });
      }
    }
    // Values real data rarely has: ±∞ (standardised to 0) and far outside the clip.
    const last = inputs.at(-1)!;
    const wild = last.values.map((v, c) => [Infinity, -Infinity, 1e9, -1e9, v][c % 5]!);
    inputs.push({ ...last, ts: last.ts + 1, values: wild });
  }, 60_000);

  it('runs on real inputs, warm-up rows (NaN) among them, and nets of every kind', () => {
    expect(inputs.length).toBeGreaterThan(4000);
    expect(inputs.some((f) => f.values.some(Number.isNaN))).toBe(true);
    expect(new Set(nets.map((n) => n.spec.kind))).toEqual(new Set(['linear', 'mlp', 'tcn']));
  });

  it('gives the straightforward computation up to float32 rounding: each net alone, and their ensemble', async () => {
    const groups = nets.every((n) => nets[0]!.sharesInputsWith(n))
      ? [...nets.map((n) => [n]), nets]
      : nets.map((n) => [n]);
    for (const group of groups) {
      const model = quantileNetModel(group, { name: 'nets', version: '1', spec: FEATURE_SPEC.id });
      const reference = straightforward(group, inputs);
      const fast = await model.predictBatch(inputs);
      expect(fast).toHaveLength(reference.length);
      // The nets run with the standardisation folded into their first layer (W/σ, b − mean·W/σ): float32
      // sums in another order, so not to the bit (measured: at most 5e-7 of a log return).
      const d = differences(fast, reference);
      expect(d.maxAbsolute, group.map((n) => n.spec.kind).join('+')).toBeLessThanOrEqual(1e-5);
      // A second batch reuses the model's buffers: the same numbers as the first.
      expect(differences(await model.predictBatch(inputs.slice(0, 100)), fast.slice(0, 300)).count).toBe(0);
    }
  });

  it('scales intervals from the typed quantiles to the bit as it scales output objects', async () => {
    const shared = nets.filter((n) => nets[0]!.sharesInputsWith(n));
    const base = quantileNetModel(shared, { name: 'nets', version: '1', spec: FEATURE_SPEC.id });
    const objectsOnly: Model = { ...base, predictQuantiles: undefined };
    const { manifest } = shipped;
    for (const [k, opts] of [
      [manifest.normalIntervalScale ?? 1, { branch: 'calibrated' }],
      [manifest.earningsIntervalScale, { shrink: manifest.earningsMedianShrink ?? 1, oneDay: true }],
      [manifest.earningsIntervalScale, { shrink: 0.8 }],
    ] as const) {
      const fast = await withIntervalScale(base, k, opts).predictBatch(inputs);
      const plain = await withIntervalScale(objectsOnly, k, opts).predictBatch(inputs);
      expect(differences(fast, plain)).toEqual({ count: 0, maxRelative: 0, maxAbsolute: 0 });
    }
  });

  it('clamps raw values as standardising clipped them, and the folded nets read them as the nets read z', () => {
    const net = nets.find((n) => n.spec.kind === 'mlp')!;
    const meta = { name: 'mlp', version: '1', spec: FEATURE_SPEC.id };
    const { lo, hi, fill } = net.inference();
    const last = inputs.at(-1)!;
    // ±∞ and NaN → the mean; past a bound → the bound.
    const values = last.values.map((_, c) => [Infinity, -Infinity, Number.NaN, 1e9, -1e9, net.mean[c]!][c % 6]!);
    const x = clampFeatures(net, [{ ...last, values }], meta, new Float32Array(net.cols));
    const expected = values.map((_, c) => [fill[c], fill[c], fill[c], hi[c], lo[c], net.mean[c]][c % 6]!);
    expect([...x]).toEqual([...expected]);
    // The folded first layer: W'[c] = W[c] / σ_c, b' = b − Σ mean_c · W'[c], so W'·x + b' = W·z + b.
    const rows = 200;
    const some = inputs.slice(0, rows);
    const z = standardiseFeatures(net, some, meta, new Float32Array(rows * net.cols));
    const clamped = clampFeatures(net, some, meta, new Float32Array(rows * net.cols));
    const [viaZ, viaX] = tf.tidy(() => [
      net.rawOutputs(tf.tensor2d(z, [rows, net.cols])).dataSync(),
      net.rawOutputsOfClamped(tf.tensor2d(clamped, [rows, net.cols])).dataSync(),
    ]);
    let worst = 0;
    viaZ!.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - viaX![i]!));
    });
    expect(worst).toBeLessThan(1e-4); // raw outputs in units of the target scale (≈ 1)
  });

  it('clamps in wasm SIMD (the batch path) to the bit as the JS loop does, on every real input', () => {
    const net = nets.find((n) => n.spec.kind === 'mlp')!;
    const meta = { name: 'mlp', version: '1', spec: FEATURE_SPEC.id };
    const { lo, hi, fill } = net.inference();
    const simd = simdClamp(lo, hi, fill)!;
    const js = clampFeatures(net, inputs, meta, new Float32Array(inputs.length * net.cols));
    const x = simd.clamp(inputs, inputs.length * net.cols)!;
    let differing = 0;
    for (let i = 0; i < js.length; i++) if (!Object.is(js[i], x[i])) differing++;
    expect(differing).toBe(0);
  });

  it("clamps into the wasm backend's heap (the batch path there) to the bit, and the nets read it as uploaded", (ctx) => {
    // The backend is chosen in beforeAll: only there is the heap to test.
    if (tf.getBackend() !== 'wasm') ctx.skip();
    const net = nets.find((n) => n.spec.kind === 'mlp')!;
    const { lo, hi, fill } = net.inference();
    const heap = wasmHeap()!;
    const rows = inputs.length;
    const own = simdClamp(lo, hi, fill)!
      .clamp(inputs, rows * net.cols)!
      .slice();
    const x = simdClamp(lo, hi, fill, heap)!.clamp(inputs, rows * net.cols, FEATURE_SPEC.id)!;
    expect(x.buffer).toBe(heap.memory.buffer);
    let differing = 0;
    for (let i = 0; i < own.length; i++) if (!Object.is(own[i], x[i])) differing++;
    expect(differing).toBe(0);
    // The block becomes the input tensor as it lies; the same raw outputs as from an upload of the same rows.
    const z = heap.tensor2d(x.byteOffset, rows, net.cols);
    const uploaded = uploadClampedBatch([net], own, rows);
    const [inHeap, viaUpload] = tf.tidy(() => [
      forwardAll([net], { z, series: [undefined], clamped: true }).dataSync(),
      forwardAll([net], uploaded).dataSync(),
    ]);
    expect(Buffer.compare(Buffer.from(inHeap!.buffer), Buffer.from(viaUpload!.buffer))).toBe(0);
    z.dispose();
    disposeBatch(uploaded);
  });

  it('leaves no tensors or device memory behind', async () => {
    await shipped.normal.predictBatch(inputs.slice(0, 10));
    const before = tf.memory();
    await shipped.normal.predictBatch(inputs);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    // The wasm heap's blocks are freed batch by batch: it does not grow with more batches.
    const heap = wasmHeap();
    const size = heap?.memory.buffer.byteLength;
    for (let i = 0; i < 5; i++) await shipped.normal.predictBatch(inputs);
    expect(heap?.memory.buffer.byteLength).toBe(size);
  });
});
