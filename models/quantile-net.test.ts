import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Features } from '../schemas/index.js';
import { ensembleModel } from './ensemble.js';
import { FEATURE_NAMES, FEATURE_SPEC } from './features.js';
import {
  loadQuantileNet,
  predictMean,
  type QuantileNet,
  type QuantileNetSpec,
  quantileNetModel,
  saveQuantileNet,
  trainQuantileNet,
} from './quantile-net.js';

const COLS = FEATURE_NAMES.length; // the synthetic rows pose as FEATURE_SPEC vectors
/** Columns drawn N(0,1); the rest stay 0 (constant, so they standardise to 0 and cannot be overfit). */
const DRAWN = 12;
const HORIZONS = [1, 5, 21];
const H = HORIZONS.length;

/** Seeded N(0,1) via Box–Muller on mulberry32, so the data is the same on every run. */
function normals(seed: number): () => number {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

interface Data {
  x: Float32Array;
  y: Float32Array;
  /** y minus its noise: the true conditional median. */
  median: Float32Array;
  rows: number;
}

/**
 * SYNTHETIC data, not market data: 12 N(0,1) features; y_h = 0.005·h·x0 + 0.005·√h·(1 + 0.5·tanh x1)·ε, ε ~ N(0,1).
 * So the median depends on x0 only and the spread (heteroscedastic) on x1; the other 10 columns are noise,
 * and columns past DRAWN (the rest of the spec's width) are 0.
 */
function synthetic(rows: number, seed: number, opts: { nanX?: number; nanY?: number } = {}): Data {
  const n = normals(seed);
  const x = new Float32Array(rows * COLS);
  const y = new Float32Array(rows * H);
  const median = new Float32Array(rows * H);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < DRAWN; c++) x[r * COLS + c] = n();
    const x0 = x[r * COLS]!;
    const x1 = x[r * COLS + 1]!;
    HORIZONS.forEach((h, j) => {
      median[r * H + j] = 0.005 * h * x0;
      y[r * H + j] = median[r * H + j]! + 0.005 * Math.sqrt(h) * (1 + 0.5 * Math.tanh(x1)) * n();
    });
  }
  // Knock out values AFTER drawing, so the known values are the same with and without NaNs.
  const k = normals(seed + 1);
  if (opts.nanX) for (let i = 0; i < x.length; i++) if (Math.abs(k()) < opts.nanX) x[i] = Number.NaN;
  if (opts.nanY) for (let i = 0; i < y.length; i++) if (Math.abs(k()) < opts.nanY) y[i] = Number.NaN;
  return { x, y, median, rows };
}

const TRAIN = synthetic(3000, 1, { nanX: 0.05, nanY: 0.15 }); // ~4% of inputs and ~12% of targets NaN
// The last 300 rows have no 21-day target yet, as at the end of a real history.
for (let r = 2700; r < 3000; r++) TRAIN.y[r * H + 2] = Number.NaN;
const TEST = synthetic(2000, 2);

/** The first `n` TEST rows as `Features` records of symbols S0, S1, … */
const testInputs = (n: number): Features[] =>
  Array.from({ length: n }, (_, r) => ({
    symbol: `S${r}`,
    ts: 1000 + r,
    close: 100,
    spec: FEATURE_SPEC.id,
    values: Float32Array.from(TEST.x.subarray(r * COLS, (r + 1) * COLS)),
    history: 300,
  }));

const SPECS: Record<'linear' | 'mlp', QuantileNetSpec> = {
  linear: { kind: 'linear', horizons: HORIZONS, epochs: 25, seed: 7 },
  mlp: { kind: 'mlp', horizons: HORIZONS, hidden: [32, 16], dropout: 0.05, epochs: 40, learningRate: 0.01, seed: 7 },
};
const nets: Partial<Record<'linear' | 'mlp', QuantileNet>> = {};
const trainMs: Record<string, number> = {};
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quantile-net-'));
  for (const kind of ['linear', 'mlp'] as const) {
    const t0 = performance.now();
    const losses: number[] = [];
    nets[kind] = await trainQuantileNet(TRAIN.x, TRAIN.rows, COLS, TRAIN.y, SPECS[kind], {
      onEpoch: (_, loss) => losses.push(loss),
    });
    trainMs[kind] = performance.now() - t0;
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
  }
  console.log(
    `training on 3000 rows × ${COLS} (linear 25 epochs, mlp 40): linear ${trainMs.linear!.toFixed(0)} ms, mlp ${trainMs.mlp!.toFixed(0)} ms`,
  );
}, 60_000); // the cpu backend (TICKCAST_TF_BACKEND=cpu) trains ~3× slower than wasm

afterAll(async () => {
  nets.linear?.dispose();
  nets.mlp?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.each(['linear', 'mlp'] as const)('%s quantile net on synthetic data', (kind) => {
  it('learns the median: MAE near the noise floor, far better than predicting 0', () => {
    const q = nets[kind]!.predict(TEST.x, TEST.rows);
    for (let j = 0; j < H; j++) {
      let mae = 0;
      let floor = 0;
      let zero = 0;
      for (let r = 0; r < TEST.rows; r++) {
        const y = TEST.y[r * H + j]!;
        mae += Math.abs(q[(r * H + j) * 3 + 1]! - y);
        floor += Math.abs(TEST.median[r * H + j]! - y); // MAE of the true median
        zero += Math.abs(y);
      }
      // The linear net is the true model here; the MLP must approximate a line with ReLUs (and dropout noise).
      expect(mae / floor, `h=${HORIZONS[j]} MAE ÷ noise floor`).toBeLessThan(kind === 'linear' ? 1.05 : 1.2);
      expect(mae / zero, `h=${HORIZONS[j]} MAE ÷ MAE of 0`).toBeLessThan(0.8);
    }
  });

  it('covers about 80% of held-out targets with [lower, upper], and quantiles never cross', () => {
    const q = nets[kind]!.predict(TEST.x, TEST.rows);
    for (let j = 0; j < H; j++) {
      let inside = 0;
      for (let r = 0; r < TEST.rows; r++) {
        const o = (r * H + j) * 3;
        const y = TEST.y[r * H + j]!;
        if (q[o]! <= y && y <= q[o + 2]!) inside++;
      }
      const coverage = inside / TEST.rows;
      expect(coverage, `h=${HORIZONS[j]} coverage`).toBeGreaterThan(0.72);
      expect(coverage, `h=${HORIZONS[j]} coverage`).toBeLessThan(0.88);
    }
    // Crossing check includes extreme, clipped inputs.
    const wild = new Float32Array(200 * COLS).map((_, i) => ((i * 7919) % 41) - 20);
    for (const out of [q, nets[kind]!.predict(wild, 200)]) {
      for (let i = 0; i < out.length; i += 3) {
        expect(out[i]!).toBeLessThanOrEqual(out[i + 1]!);
        expect(out[i + 1]!).toBeLessThanOrEqual(out[i + 2]!);
      }
    }
  });

  it('treats a NaN input as the training mean and clips outliers to ±5σ', () => {
    const net = nets[kind]!;
    const rows = new Float32Array(4 * COLS).fill(0.3);
    rows[0] = Number.NaN; // row 0: x0 missing
    rows[COLS] = net.mean[0]!; // row 1: x0 at the training mean
    rows[2 * COLS] = 1e6; // rows 2 and 3: beyond +5σ, so both clip to the same value
    rows[3 * COLS] = net.mean[0]! + 10 * net.std[0]!;
    const q = net.predict(rows, 4);
    expect(q.every(Number.isFinite)).toBe(true);
    expect(q.slice(0, 3 * H)).toEqual(q.slice(3 * H, 6 * H));
    expect(q.slice(6 * H, 9 * H)).toEqual(q.slice(9 * H, 12 * H));
  });
});

describe('quantile net mechanics', () => {
  it('is deterministic for a seed', async () => {
    const spec: QuantileNetSpec = { kind: 'mlp', horizons: HORIZONS, hidden: [8], epochs: 2, seed: 3 };
    const a = await trainQuantileNet(TRAIN.x.subarray(0, 500 * COLS), 500, COLS, TRAIN.y.subarray(0, 500 * H), spec);
    const b = await trainQuantileNet(TRAIN.x.subarray(0, 500 * COLS), 500, COLS, TRAIN.y.subarray(0, 500 * H), spec);
    expect(a.weights()).toEqual(b.weights());
    a.dispose();
    b.dispose();
  });

  it('frees every tensor it does not keep (train, save, load, predict, dispose)', async () => {
    const { tf } = await import('./tf-backend.js');
    const before = tf.memory().numTensors;
    const net = await trainQuantileNet(TRAIN.x.subarray(0, 300 * COLS), 300, COLS, TRAIN.y.subarray(0, 300 * H), {
      kind: 'mlp',
      horizons: HORIZONS,
      epochs: 2,
    });
    const d = join(dir, 'leak');
    await saveQuantileNet(net, d, { name: 'qn', version: '1' });
    const loaded = await loadQuantileNet(d, { expectSpec: FEATURE_SPEC.id });
    await loaded.model.predictBatch([]);
    net.predict(TEST.x.subarray(0, 10 * COLS), 10);
    net.dispose();
    loaded.net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains with validation and early stopping; rejects bad shapes and all-NaN horizons', async () => {
    const rows = 600;
    const val = synthetic(400, 9);
    const epochs: number[] = [];
    const net = await trainQuantileNet(
      TRAIN.x.subarray(0, rows * COLS),
      rows,
      COLS,
      TRAIN.y.subarray(0, rows * H),
      { kind: 'linear', horizons: HORIZONS, epochs: 200, learningRate: 0.05 },
      { validation: { x: val.x, rows: val.rows, y: val.y }, earlyStoppingPatience: 3, onEpoch: (e) => epochs.push(e) },
    );
    expect(epochs.length).toBeLessThan(200);
    net.dispose();
    await expect(trainQuantileNet(TRAIN.x, 10, COLS, TRAIN.y, SPECS.linear)).rejects.toThrow(/expected 10 rows/);
    const noTarget = new Float32Array(10 * H).fill(Number.NaN);
    await expect(trainQuantileNet(TRAIN.x.subarray(0, 10 * COLS), 10, COLS, noTarget, SPECS.linear)).rejects.toThrow(
      /no known target/,
    );
  });

  it('round-trips save → load exactly, with small artifacts', async () => {
    for (const kind of ['linear', 'mlp'] as const) {
      const d = join(dir, kind);
      await saveQuantileNet(nets[kind]!, d, {
        name: `qn-${kind}`,
        version: '1',
        trainingWindow: { from: '2020-01-01', to: '2024-12-31' },
        metrics: { synthetic: true },
      });
      const { net, metadata, model } = await loadQuantileNet(d, { expectSpec: FEATURE_SPEC.id });
      expect(net.predict(TEST.x, TEST.rows)).toEqual(nets[kind]!.predict(TEST.x, TEST.rows));
      expect(metadata).toMatchObject({ name: `qn-${kind}`, kind, horizons: HORIZONS, featureSpec: FEATURE_SPEC.id });
      expect(metadata.featureNames).toEqual([...FEATURE_NAMES]);
      expect(model.spec).toBe(FEATURE_SPEC.id);
      const bytes = (await stat(join(d, 'weights.bin'))).size + (await stat(join(d, 'model.json'))).size;
      // The first layer holds 32 weights per input column beyond the 12 the budget was set for.
      expect(bytes).toBeLessThan(12_000 + 4 * 32 * (COLS - DRAWN));
      expect(JSON.parse(await readFile(join(d, 'model.json'), 'utf8')).weightsManifest[0].paths).toEqual([
        'weights.bin',
      ]);
      net.dispose();
    }
  });

  it('refuses to load a net trained on another feature spec, naming both and how to fix it', async () => {
    const d = join(dir, 'old-spec');
    await saveQuantileNet(nets.linear!, d, {
      name: 'qn',
      version: '1',
      spec: 'basic@deadbeef',
      featureNames: FEATURE_NAMES,
    });
    const err = loadQuantileNet(d, { expectSpec: FEATURE_SPEC.id });
    await expect(err).rejects.toThrow('basic@deadbeef');
    await expect(err).rejects.toThrow(FEATURE_SPEC.id);
    await expect(err).rejects.toThrow(/retrain.*npx tickcast train/);
  });

  it('serves as a Model: one output per (input, horizon), refusing other specs', () => {
    const model = quantileNetModel(nets.mlp!, { name: 'qn-mlp', version: '1', spec: FEATURE_SPEC.id });
    const inputs = testInputs(3);
    const q = nets.mlp!.predict(TEST.x.subarray(0, 3 * COLS), 3);
    const out = model.predictBatch(inputs) as ReturnType<typeof model.predictBatch> & unknown[];
    expect(out).toHaveLength(3 * H);
    expect(out[H + 2]).toEqual({
      symbol: 'S1',
      ts: 1001,
      horizon: 21,
      lowerReturn: q[(H + 2) * 3],
      predictedReturn: q[(H + 2) * 3 + 1],
      upperReturn: q[(H + 2) * 3 + 2],
      rankReturn: q[(H + 2) * 3 + 1], // its own median: the rank signal (rankScore)
    });
    expect(model.horizons).toEqual(HORIZONS);
    expect(model.predictBatch([])).toEqual([]);
    expect(() => model.predictBatch([{ ...inputs[0]!, spec: 'basic@00000000' }])).toThrow(/basic@00000000/);
  });
});

describe('an ensemble of nets that share their inputs', () => {
  it('is the mean of its nets, computed on one standardised upload', async () => {
    // linear and mlp were trained on the same rows, so their standardisation is the same.
    const [linear, mlp] = [nets.linear!, nets.mlp!];
    expect(linear.sharesInputsWith(mlp)).toBe(true);
    const inputs = testInputs(4);
    const meta = { name: 'ens', version: '1', spec: FEATURE_SPEC.id };
    const shared = await quantileNetModel([linear, mlp], meta).predictBatch(inputs);
    const separate = await ensembleModel(
      [quantileNetModel(linear, meta), quantileNetModel(mlp, meta)],
      meta,
    ).predictBatch(inputs);
    expect(shared).toHaveLength(4 * H);
    shared.forEach((o, i) => {
      const e = separate[i]!;
      expect([o.symbol, o.ts, o.horizon]).toEqual([e.symbol, e.ts, e.horizon]);
      expect(o.lowerReturn).toBeCloseTo(e.lowerReturn, 7);
      expect(o.predictedReturn).toBeCloseTo(e.predictedReturn, 7);
      expect(o.upperReturn).toBeCloseTo(e.upperReturn, 7);
    });
  });

  it('refuses nets standardised differently', async () => {
    const other = await trainQuantileNet(TEST.x, TEST.rows, COLS, TEST.y, { ...SPECS.linear, epochs: 1 });
    try {
      expect(nets.linear!.sharesInputsWith(other)).toBe(false);
      expect(() => predictMean([nets.linear!, other], TEST.x.subarray(0, COLS), 1)).toThrow(/standardisation/);
    } finally {
      other.dispose();
    }
  });
});

describe('tcn quantile net (temporal convolution over a series)', () => {
  // SYNTHETIC: 8 steps × 2 channels of N(0,1) in columns 0..15 (time-major, oldest first), the
  // rest 0. The median is a nonlinear pattern across time: 0.01·h·max(0, x[t7,c0] − x[t5,c0]).
  const STEPS = 8;
  const seqColumns = Array.from({ length: STEPS * 2 }, (_, i) => i);
  function series(rows: number, seed: number): Data {
    const n = normals(seed);
    const x = new Float32Array(rows * COLS);
    const y = new Float32Array(rows * H);
    const median = new Float32Array(rows * H);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < STEPS * 2; c++) x[r * COLS + c] = n();
      const pattern = Math.max(0, x[r * COLS + 14]! - x[r * COLS + 10]!);
      HORIZONS.forEach((h, j) => {
        median[r * H + j] = 0.01 * h * pattern;
        y[r * H + j] = median[r * H + j]! + 0.003 * Math.sqrt(h) * n();
      });
    }
    return { x, y, median, rows };
  }
  const spec: QuantileNetSpec = {
    kind: 'tcn',
    horizons: HORIZONS,
    sequenceColumns: seqColumns,
    steps: STEPS,
    dilations: [1, 2],
    filters: 8,
    hidden: [16],
    epochs: 30,
    learningRate: 0.01,
    seed: 5,
  };

  it('learns a pattern across time steps, and round-trips save → load exactly', async () => {
    const train = series(4000, 11);
    const test = series(1000, 12);
    const net = await trainQuantileNet(train.x, train.rows, COLS, train.y, spec);
    const q = net.predict(test.x, test.rows);
    let mae = 0;
    let zero = 0;
    for (let r = 0; r < test.rows; r++) {
      const y = test.y[r * H + 1]!;
      mae += Math.abs(q[(r * H + 1) * 3 + 1]! - y);
      zero += Math.abs(y - 0.01 * 5 * 0.56); // the best constant: h · E[max(0, N(0, 2))]
    }
    expect(mae / zero, 'h=5 MAE ÷ MAE of the best constant').toBeLessThan(0.6);
    // Inference runs real dilated convolutions; training their dense-matrix form. Both give the same numbers.
    const dense = net.predict(test.x, test.rows, { denseConvolutions: true });
    expect(Math.max(...q.map((v, i) => Math.abs(v - dense[i]!)))).toBeLessThan(1e-5);
    expect(q.some((v) => v !== 0)).toBe(true);
    const d = join(dir, 'tcn');
    await saveQuantileNet(net, d, { name: 'qn-tcn', version: '1' });
    const loaded = await loadQuantileNet(d, { expectSpec: FEATURE_SPEC.id });
    expect(loaded.net.predict(test.x, test.rows)).toEqual(q);
    expect(loaded.metadata.training).toMatchObject({ kind: 'tcn', steps: STEPS, dilations: [1, 2] });
    net.dispose();
    loaded.net.dispose();
  }, 120_000);

  it('rejects a series its convolutions cannot cover', async () => {
    await expect(
      trainQuantileNet(TRAIN.x.subarray(0, 10 * COLS), 10, COLS, TRAIN.y.subarray(0, 10 * H), {
        ...spec,
        dilations: [1, 2, 4],
      }),
    ).rejects.toThrow(/leave no time step/);
  });
});
