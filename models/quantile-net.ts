// A small TensorFlow.js network that forecasts the 0.1 / 0.5 / 0.9 quantiles of the h-day log return for
// several horizons at once from one feature vector.
//
// - Output per horizon: median m and two raw offsets; lower = m − softplus(a), upper = m + softplus(b), so the
//   quantiles can never cross (no penalty term needed, and no sort that would scramble gradients).
// - Loss: pinball loss, averaged over the rows whose target is known (NaN = unknown, masked out), summed over
//   horizons and quantiles, plus L2 on the kernels.
// - Inputs are standardised with training-row mean/σ (stored), clipped to ±5σ, and NaN (a feature still warming
//   up) becomes 0, i.e. the training mean. Targets are divided by a per-horizon scale (their RMS) so the 1-day
//   and 21-day horizons weigh alike in the loss and the optimiser sees values near 1.
// - The net is plain kernels/biases run with fused matMuls: one code path for training and prediction. A
//   tf.LayersModel is only built to save (tfjs model.json + weights.bin) and to load.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Features } from '../schemas/index.js';
import { attributeMedians, attributeWidths } from './attribution.js';
import { FEATURE_NAMES, FEATURE_SPEC } from './features.js';
import {
  type Attribution,
  type Model,
  type ModelOutput,
  outputsFromQuantiles,
  QUANTILE_STRIDE,
  type WidthAttribution,
} from './model.js';
import { seededRandom } from './random.js';
import { type SimdClamp, simdClamp } from './simd-clamp.js';
import { selectBackend, tf, wasmHeap } from './tf-backend.js';

/** Quantile levels of the three outputs per horizon, in output order (lower, median, upper). */
export const QUANTILES = [0.1, 0.5, 0.9] as const;
/** Standardised inputs are clipped to ±CLIP_SIGMA so one outlier cannot dominate a linear model. */
export const CLIP_SIGMA = 5;
const METADATA_FORMAT = 'tickcast-quantile-net@2';
const WEIGHTS_FORMAT = 'tickcast-quantile-net-weights@1';
/** softplus⁻¹(1.2816): offsets start at the 80% half-width of a standard normal (targets are scaled to ≈1). */
const OFFSET_BIAS_INIT = Math.log(Math.expm1(1.2815515655446004));

export interface QuantileNetSpec {
  /**
   * linear; mlp (dense ReLU layers); tcn: a temporal convolution over the sequence columns
   * (dilated causal convolutions, each tap a time shift), whose output joins all the inputs in
   * an MLP head.
   */
  kind: 'linear' | 'mlp' | 'tcn';
  /** Trading days ahead, integers >= 1. */
  horizons: number[];
  /** L2 penalty on the kernels; default 1e-4. */
  l2?: number;
  /** Hidden layer widths for 'mlp' and the head of 'tcn'; default [32, 16] / [16]. Ignored for 'linear'. */
  hidden?: number[];
  /**
   * 'tcn' only: the input columns that form the series, time-major and oldest first
   * (steps × channels), e.g. from `sequenceColumns()` in models/features.ts.
   */
  sequenceColumns?: number[];
  /** 'tcn': time steps in the series (sequenceColumns.length = steps × channels). */
  steps?: number;
  /** 'tcn': filters per convolution, default 8. */
  filters?: number;
  /** 'tcn': kernel width in taps, default 3. */
  kernelSize?: number;
  /** 'tcn': dilation of each convolution, default [1, 2, 4]. */
  dilations?: number[];
  /**
   * Dropout after each hidden layer in training ('mlp'); default 0.05. Dropout makes the training-time median
   * noisier and the offsets learn that as spread, so more widens the intervals (0.1 covered 92%, not 80%, of the
   * 21-day targets in the strong-signal synthetic test).
   */
  dropout?: number;
  /** Default 40. */
  epochs?: number;
  /** Default 128. */
  batchSize?: number;
  /** Adam learning rate; default 0.01 (linear) / 0.005 (mlp). */
  learningRate?: number;
  /** Seeds initial weights, shuffling and dropout masks; default 42. Same data + seed + backend → same net. */
  seed?: number;
}

export interface TrainOptions {
  /** Called after each epoch with the mean training objective (pinball + L2) and, with validation, its pinball loss. */
  onEpoch?: (epoch: number, loss: number, validationLoss?: number) => void;
  /** Held-out rows (same layout as training; standardised with the TRAINING statistics). */
  validation?: { x: Float32Array; rows: number; y: Float32Array };
  /** Stop after this many epochs without a better validation loss and restore the best weights. Needs `validation`. */
  earlyStoppingPatience?: number;
}

/** The fully resolved spec (defaults filled in), as stored in metadata. */
export type ResolvedQuantileNetSpec = Required<QuantileNetSpec>;

interface Layer {
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

export class QuantileNet {
  /** Takes ownership of the layer tensors (call `dispose()` to free them). */
  constructor(
    readonly spec: ResolvedQuantileNetSpec,
    readonly cols: number,
    /** Per-column mean and σ of the training inputs (σ = 1 where a column is constant or empty). */
    readonly mean: Float32Array,
    readonly std: Float32Array,
    /** Per-horizon RMS of the training targets; outputs are multiplied by it. */
    readonly targetScale: Float32Array,
    private readonly layers: Layer[],
    /** Clip bound in σ, stored so a saved net keeps its own even if the default changes. */
    readonly clip: number = CLIP_SIGMA,
  ) {
    // Folded at load (or at the end of training): predictions then make no tensors but their batch's.
    this.inference();
  }

  get horizons(): readonly number[] {
    return this.spec.horizons;
  }

  /**
   * Quantiles for `rows` inputs (row-major, `cols` values each, NaN allowed): rows × horizons × 3 in order
   * (lower, median, upper) log returns.
   */
  predict(x: Float32Array, rows: number, opts: { denseConvolutions?: boolean } = {}): Float32Array {
    return predictMean([this], x, rows, opts);
  }

  /** True when `other` reads the same columns with the same standardisation, so both can share one input tensor. */
  sharesInputsWith(other: QuantileNet): boolean {
    const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);
    return (
      other.cols === this.cols &&
      other.clip === this.clip &&
      other.horizons.join() === this.horizons.join() &&
      same(other.mean, this.mean) &&
      same(other.std, this.std)
    );
  }

  /**
   * Raw outputs [rows, H·3] (median, lower offset, upper offset per horizon, in units of `targetScale`) for
   * standardised inputs on the device. Given a tcn's `series` ([rows, steps, channels], see `seriesOf`) its real
   * dilated convolutions run, else their dense training form. Call inside tf.tidy.
   */
  rawOutputs(z: tf.Tensor2D, series?: tf.Tensor3D): tf.Tensor2D {
    return forward(z, this.spec, this.layers, 0, [], series);
  }

  /**
   * The median of each horizon in log returns, [rows, H], for standardised inputs `x`, as a graph whose gradient
   * is cheap on every backend: `medianFromInputMaps(inputMaps(x, series))`. The same numbers as `predict` (within
   * float rounding), computed another way: a tcn's convolutions as one matMul per tap over time-shifted slices
   * (tfjs has no gradient for dilated convolutions, wasm none for a gather), every matMul's input gradient with an
   * explicitly transposed kernel (wasm's transposed matMul runs ~8× slower). For a tcn, `series` is its sequence
   * columns of `x` as [rows, steps, channels] (`spec.sequenceColumns` order), a separate input whose gradient the
   * caller adds back to those columns. Call inside tf.tidy or tf.grads.
   */
  medianGraph(x: tf.Tensor2D, series?: tf.Tensor3D): tf.Tensor2D {
    return this.medianFromInputMaps(this.inputMaps(x, series));
  }

  /**
   * The linear maps the net first applies to its input, without biases, each [rows, width]: x · kernel for an mlp
   * or linear net; for a tcn, x · (its head's kernel for x) and the first convolution of `series`. Everything
   * after them is `medianFromInputMaps`. Path methods (integrated gradients) run the rest along α · maps and map
   * the mean gradient back through these once per input, not once per point of the path.
   */
  inputMaps(x: tf.Tensor2D, series?: tf.Tensor3D): tf.Tensor2D[] {
    const { spec, layers } = this;
    if (spec.kind !== 'tcn') return [matMulInput(x, layers[0]!.kernel)];
    if (series === undefined) throw new Error('inputMaps: a tcn needs its series');
    const head = layers[spec.dilations.length]!.kernel;
    const k = head.shape[0] - this.cols;
    const [rows, t] = series.shape;
    const tOut = t - (spec.kernelSize - 1) * spec.dilations[0]!;
    const conv = convTaps(series.transpose([1, 0, 2]) as tf.Tensor3D, layers[0]!.kernel, spec.dilations[0]!, tOut);
    // [tOut · rows, filters] time-major → [rows, tOut · filters]
    const first = conv
      .reshape([tOut, rows, spec.filters])
      .transpose([1, 0, 2])
      .reshape([rows, tOut * spec.filters]);
    return [matMulInput(x, head.slice([k, 0], [-1, -1])), first as tf.Tensor2D];
  }

  /** The median per horizon in log returns, [rows, H], from `inputMaps`' outputs (or points on a path between). */
  medianFromInputMaps(maps: readonly tf.Tensor2D[]): tf.Tensor2D {
    const H = this.horizons.length;
    const rows = maps[0]!.shape[0];
    return this.rawFromInputMaps(maps)
      .reshape([rows, H, 3])
      .slice([0, 0, 0], [rows, H, 1])
      .reshape([rows, H])
      .mul(tf.tensor1d(this.targetScale));
  }

  /**
   * The interval's width per horizon in log returns (upper − lower = (softplus(a) + softplus(b)) · targetScale),
   * [rows, H], from `inputMaps`' outputs: what integrated gradients of the width run along the path.
   */
  widthFromInputMaps(maps: readonly tf.Tensor2D[]): tf.Tensor2D {
    const H = this.horizons.length;
    const rows = maps[0]!.shape[0];
    const raw = this.rawFromInputMaps(maps).reshape([rows, H, 3]);
    const offsets = tf.softplus(raw.slice([0, 0, 1], [rows, H, 2])).sum(2) as tf.Tensor2D;
    return offsets.mul(tf.tensor1d(this.targetScale));
  }

  /** The raw outputs [rows, H·3] (median, lower offset, upper offset) from `inputMaps`' outputs. */
  private rawFromInputMaps(maps: readonly tf.Tensor2D[]): tf.Tensor2D {
    const { spec, layers } = this;
    const rows = maps[0]!.shape[0];
    let first = 0;
    let h: tf.Tensor2D;
    if (spec.kind === 'tcn') {
      // The convolutions after the first, time-major [steps, rows, channels]: a time shift is then a contiguous
      // slice (a strided one cost 3× the maths).
      const t0 = maps[1]!.shape[1] / spec.filters;
      let conv = tf.relu(
        maps[1]!.reshape([rows, t0, spec.filters]).transpose([1, 0, 2]).add(layers[0]!.bias),
      ) as tf.Tensor3D;
      let t = t0;
      for (let i = 1; i < spec.dilations.length; i++) {
        const l = layers[i]!;
        const tOut = t - (spec.kernelSize - 1) * spec.dilations[i]!;
        conv = tf
          .relu(convTaps(conv, l.kernel, spec.dilations[i]!, tOut).add(l.bias))
          .reshape([tOut, rows, spec.filters]) as tf.Tensor3D;
        t = tOut;
      }
      const series = conv.transpose([1, 0, 2]).reshape([rows, t * spec.filters]) as tf.Tensor2D;
      first = spec.dilations.length;
      const l = layers[first]!;
      h = matMulInput(series, l.kernel.slice([0, 0], [series.shape[1], -1]))
        .add(maps[0]!)
        .add(l.bias);
    } else {
      h = maps[0]!.add(layers[0]!.bias);
    }
    for (let i = first + 1; i < layers.length; i++) h = matMulInput(tf.relu(h), layers[i]!.kernel).add(layers[i]!.bias);
    return h;
  }

  /**
   * For a linear net, its median as weights: median_h = Σ_c z_c · kernel[c·H + h] + bias[h] in log returns
   * (targetScale applied), for standardised inputs z. Undefined for the other kinds.
   */
  linearMedian(): { kernel: Float64Array; bias: Float64Array } | undefined {
    if (this.spec.kind !== 'linear') return undefined;
    const [k, b] = this.weights() as [Float32Array, Float32Array];
    const H = this.horizons.length;
    const kernel = new Float64Array(this.cols * H);
    const bias = new Float64Array(H);
    for (let h = 0; h < H; h++) {
      const scale = this.targetScale[h]!;
      bias[h] = b[3 * h]! * scale;
      for (let c = 0; c < this.cols; c++) kernel[c * H + h] = k[c * 3 * H + 3 * h]! * scale;
    }
    return { kernel, bias };
  }

  /**
   * For a linear net, its interval offsets as weights: width_h = (softplus(A_h) + softplus(B_h)) · scale[h] with
   * A_h = Σ_c z_c · lower[c·H + h] + lowerBias[h] (raw units, before softplus), B_h likewise. Undefined otherwise.
   */
  linearWidth():
    | {
        lower: Float64Array;
        lowerBias: Float64Array;
        upper: Float64Array;
        upperBias: Float64Array;
        scale: Float64Array;
      }
    | undefined {
    if (this.spec.kind !== 'linear') return undefined;
    const [k, b] = this.weights() as [Float32Array, Float32Array];
    const H = this.horizons.length;
    const lower = new Float64Array(this.cols * H);
    const upper = new Float64Array(this.cols * H);
    const lowerBias = new Float64Array(H);
    const upperBias = new Float64Array(H);
    for (let h = 0; h < H; h++) {
      lowerBias[h] = b[3 * h + 1]!;
      upperBias[h] = b[3 * h + 2]!;
      for (let c = 0; c < this.cols; c++) {
        lower[c * H + h] = k[c * 3 * H + 3 * h + 1]!;
        upper[c * H + h] = k[c * 3 * H + 3 * h + 2]!;
      }
    }
    return { lower, lowerBias, upper, upperBias, scale: Float64Array.from(this.targetScale) };
  }

  /** Copies of the kernels and biases in layer order (kernel0, bias0, kernel1, …) as plain arrays. */
  weights(): Float32Array[] {
    // slice(): the cpu backend hands out its own buffer.
    return this.layers.flatMap((l) => [
      l.kernel.dataSync().slice() as Float32Array,
      l.bias.dataSync().slice() as Float32Array,
    ]);
  }

  /**
   * Raw outputs like `rawOutputs`, for inputs clamped on the host by `clampFeatures` (not standardised): the net's
   * folded form (`inference`) runs. Call inside tf.tidy.
   */
  rawOutputsOfClamped(x: tf.Tensor2D, series?: tf.Tensor3D): tf.Tensor2D {
    return forward(x, this.spec, this.inference().layers, 0, [], series);
  }

  private folded?: FoldedNet;

  /**
   * The net for clamped raw inputs, built once, when the net is made (loaded or trained): the standardisation folded into the
   * first dense layer that reads the feature row, W'[c] = W[c] / σ_c and b' = b − Σ_c mean_c · W'[c] (float64 sums
   * of the float32 W'), so predicting needs no per-value subtraction and division. What folding cannot do stays on
   * the host, as cheap compares: each value clamped to mean ± clip·σ (the ±clip σ of the standardised form) and a
   * non-finite one replaced by the mean (W'·mean + b' = b, as a standardised 0 gave). For a tcn only the head's
   * feature rows fold: its series shares one kernel across steps whose columns have their own mean and σ, so it is
   * standardised as it is copied out (`uploadClampedBatch`).
   */
  inference(): FoldedNet {
    if (this.folded) return this.folded;
    const { spec, cols, mean, std, clip } = this;
    const first = spec.kind === 'tcn' ? spec.dilations.length : 0;
    const layer = this.layers[first]!;
    const [fanIn, fanOut] = layer.kernel.shape;
    const offset = fanIn - cols; // a tcn's head reads [series, features]
    const w = layer.kernel.dataSync().slice() as Float32Array;
    const b = Float64Array.from(layer.bias.dataSync());
    for (let c = 0; c < cols; c++) {
      for (let j = 0, i = (offset + c) * fanOut; j < fanOut; j++, i++) {
        w[i] = w[i]! / std[c]!;
        b[j] = b[j]! - mean[c]! * w[i]!;
      }
    }
    const lo = new Float32Array(cols);
    const hi = new Float32Array(cols);
    for (let c = 0; c < cols; c++) {
      lo[c] = mean[c]! - clip * std[c]!;
      hi[c] = mean[c]! + clip * std[c]!;
    }
    // Kept: the first call may come inside a tf.tidy (forwardAll's), which would dispose them.
    const folded: Layer = {
      kernel: tf.keep(tf.tensor2d(w, [fanIn, fanOut])),
      bias: tf.keep(tf.tensor1d(Float32Array.from(b))),
    };
    this.folded = {
      layers: this.layers.map((l, i) => (i === first ? folded : l)),
      lo,
      hi,
      fill: Float32Array.from(mean),
    };
    return this.folded;
  }

  dispose(): void {
    for (const l of this.layers) {
      l.kernel.dispose();
      l.bias.dispose();
    }
    if (this.folded) {
      const first = this.spec.kind === 'tcn' ? this.spec.dilations.length : 0;
      this.folded.layers[first]!.kernel.dispose();
      this.folded.layers[first]!.bias.dispose();
      this.folded = undefined;
    }
  }
}

/** A net's inference form for clamped raw inputs (`QuantileNet.inference`). */
export interface FoldedNet {
  /** The layers as the net runs them, the first one that reads the feature row folded. */
  layers: readonly Layer[];
  /** Per column, float32: the clamp bounds mean ∓ clip·σ, and the mean a non-finite value becomes. */
  lo: Float32Array;
  hi: Float32Array;
  fill: Float32Array;
}

// ---------------------------------------------------------------------------------------------
// Training

export async function trainQuantileNet(
  x: Float32Array,
  rows: number,
  cols: number,
  y: Float32Array,
  spec: QuantileNetSpec,
  opts: TrainOptions = {},
): Promise<QuantileNet> {
  await selectBackend();
  const s = resolveSpec(spec);
  const H = s.horizons.length;
  checkShape('training x', x, rows, cols);
  checkShape('training y', y, rows, H);
  if (rows < 1) throw new RangeError('trainQuantileNet: no training rows');
  if (opts.validation) {
    checkShape('validation x', opts.validation.x, opts.validation.rows, cols);
    checkShape('validation y', opts.validation.y, opts.validation.rows, H);
  }

  const { mean, std } = columnStats(x, rows, cols);
  const targetScale = new Float32Array(H);
  for (let h = 0; h < H; h++) {
    let sum = 0;
    let n = 0;
    for (let r = 0; r < rows; r++) {
      const v = y[r * H + h]!;
      if (Number.isFinite(v)) {
        sum += v * v;
        n++;
      }
    }
    if (n === 0) throw new RangeError(`trainQuantileNet: horizon ${s.horizons[h]} has no known target`);
    const rms = Math.sqrt(sum / n);
    targetScale[h] = rms > 0 ? rms : 1;
  }

  const rng = seededRandom(s.seed);
  if (s.sequenceColumns.some((c) => !(Number.isInteger(c) && c >= 0 && c < cols))) {
    throw new RangeError(`quantile net: sequence columns must be in 0..${cols - 1}`);
  }
  const vars = initLayers(layerWidths(s, cols), rng);
  const varList = vars.flatMap((l) => [l.kernel, l.bias]);

  const train = prepare(x, rows, cols, y, mean, std, targetScale);
  const val = opts.validation
    ? prepare(opts.validation.x, opts.validation.rows, cols, opts.validation.y, mean, std, targetScale)
    : undefined;
  const optimizer = new DecayingAdam(s.learningRate);
  const dropout = s.kind === 'linear' ? 0 : s.dropout;
  const patience = val ? opts.earlyStoppingPatience : undefined;
  let best: { loss: number; weights: tf.Tensor[] } | undefined;
  let sinceBest = 0;

  try {
    const order = new Int32Array(rows);
    for (let i = 0; i < rows; i++) order[i] = i;
    for (let epoch = 0; epoch < s.epochs; epoch++) {
      shuffle(order, rng);
      // Cosine decay to 5%: pinball gradients keep their size at the optimum (they are signs), so a constant
      // rate leaves the quantiles jittering around it.
      optimizer.setLearningRate(s.learningRate * (0.05 + 0.475 * (1 + Math.cos((Math.PI * epoch) / s.epochs))));
      let total = 0;
      for (let start = 0; start < rows; start += s.batchSize) {
        const idx = tf.tensor1d(order.subarray(start, Math.min(rows, start + s.batchSize)), 'int32');
        const dropSeeds = vars.map(() => Math.floor(rng() * 2 ** 31));
        const cost = optimizer.minimize(
          () => {
            const xb = tf.gather(train.x, idx);
            const raw = forward(xb, s, vars, dropout, dropSeeds);
            const pin = pinball(raw, tf.gather(train.y, idx), tf.gather(train.mask, idx), H);
            return s.l2 > 0 ? pin.add(l2Penalty(vars, s.l2)) : pin;
          },
          true,
          varList,
        );
        total += cost!.dataSync()[0]! * idx.shape[0];
        cost!.dispose();
        idx.dispose();
      }
      const loss = total / rows;
      let valLoss: number | undefined;
      if (val) {
        const v = tf.tidy(() => pinball(forward(val.x, s, vars), val.y, val.mask, H));
        valLoss = v.dataSync()[0]!;
        v.dispose();
      }
      opts.onEpoch?.(epoch, loss, valLoss);
      if (patience !== undefined && valLoss !== undefined) {
        if (best === undefined || valLoss < best.loss) {
          for (const w of best?.weights ?? []) w.dispose();
          best = { loss: valLoss, weights: varList.map((v) => v.clone()) };
          sinceBest = 0;
        } else if (++sinceBest >= patience) {
          break;
        }
      }
    }
    const finalWeights = best?.weights ?? varList.map((v) => v.clone());
    const layers: Layer[] = vars.map((_, i) => ({
      kernel: finalWeights[2 * i] as tf.Tensor2D,
      bias: finalWeights[2 * i + 1] as tf.Tensor1D,
    }));
    if (best) best = undefined; // ownership moved to the net
    return new QuantileNet(s, cols, mean, std, targetScale, layers);
  } finally {
    for (const w of best?.weights ?? []) w.dispose();
    for (const v of varList) v.dispose();
    optimizer.dispose();
    for (const t of [train, val]) {
      if (!t) continue;
      t.x.dispose();
      t.y.dispose();
      t.mask.dispose();
    }
  }
}

/** Adam whose rate can change between steps (tfjs keeps it protected). */
class DecayingAdam extends tf.AdamOptimizer {
  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999);
  }
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

function resolveSpec(spec: QuantileNetSpec): ResolvedQuantileNetSpec {
  const h = spec.horizons;
  if (h.length === 0 || !h.every((v) => Number.isInteger(v) && v >= 1) || new Set(h).size !== h.length) {
    throw new RangeError(`quantile net: horizons must be distinct integers >= 1, got ${JSON.stringify(h)}`);
  }
  if (!['linear', 'mlp', 'tcn'].includes(spec.kind)) throw new RangeError(`quantile net: unknown kind ${spec.kind}`);
  const tcn = spec.kind === 'tcn';
  const s: ResolvedQuantileNetSpec = {
    kind: spec.kind,
    horizons: [...h],
    l2: spec.l2 ?? 1e-4,
    hidden: spec.kind === 'linear' ? [] : [...(spec.hidden ?? (tcn ? [16] : [32, 16]))],
    dropout: spec.kind === 'linear' ? 0 : (spec.dropout ?? 0.05),
    epochs: spec.epochs ?? 40,
    batchSize: spec.batchSize ?? 128,
    learningRate: spec.learningRate ?? (spec.kind === 'linear' ? 0.01 : 0.005),
    seed: spec.seed ?? 42,
    sequenceColumns: tcn ? [...(spec.sequenceColumns ?? [])] : [],
    steps: tcn ? (spec.steps ?? 0) : 0,
    filters: tcn ? (spec.filters ?? 8) : 0,
    kernelSize: tcn ? (spec.kernelSize ?? 3) : 0,
    dilations: tcn ? [...(spec.dilations ?? [1, 2, 4])] : [],
  };
  if (tcn) {
    const { steps, sequenceColumns, kernelSize, dilations, filters } = s;
    if (
      !(Number.isInteger(steps) && steps >= 2 && sequenceColumns.length % steps === 0 && sequenceColumns.length > 0)
    ) {
      throw new RangeError('quantile net: tcn needs steps >= 2 and sequenceColumns of steps × channels');
    }
    if (!(Number.isInteger(filters) && filters >= 1 && Number.isInteger(kernelSize) && kernelSize >= 2)) {
      throw new RangeError('quantile net: tcn needs filters >= 1 and kernelSize >= 2');
    }
    if (!dilations.every((d) => Number.isInteger(d) && d >= 1) || tcnSteps(s) < 1) {
      throw new RangeError(`quantile net: dilations ${JSON.stringify(dilations)} leave no time step of ${steps}`);
    }
  }
  if (!s.hidden.every((w) => Number.isInteger(w) && w >= 1)) throw new RangeError('quantile net: bad hidden widths');
  if (!(s.dropout >= 0 && s.dropout < 1)) throw new RangeError('quantile net: dropout must be in [0, 1)');
  if (!(s.l2 >= 0)) throw new RangeError('quantile net: l2 must be >= 0');
  if (!(Number.isInteger(s.epochs) && s.epochs >= 1)) throw new RangeError('quantile net: epochs must be >= 1');
  if (!(Number.isInteger(s.batchSize) && s.batchSize >= 1))
    throw new RangeError('quantile net: batchSize must be >= 1');
  if (!(s.learningRate > 0)) throw new RangeError('quantile net: learningRate must be > 0');
  return s;
}

function checkShape(what: string, a: Float32Array, rows: number, cols: number): void {
  if (!(Number.isInteger(rows) && rows >= 0) || a.length !== rows * cols) {
    throw new RangeError(`quantile net: ${what} has ${a.length} values, expected ${rows} rows × ${cols}`);
  }
}

/** Mean and σ (population) per column over finite values; σ = 1 for constant or empty columns (no blow-ups). */
function columnStats(x: Float32Array, rows: number, cols: number): { mean: Float32Array; std: Float32Array } {
  const mean = new Float32Array(cols);
  const std = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    let n = 0;
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      const v = x[r * cols + c]!;
      if (Number.isFinite(v)) {
        n++;
        sum += v;
      }
    }
    const m = n > 0 ? sum / n : 0;
    let ss = 0;
    for (let r = 0; r < rows; r++) {
      const v = x[r * cols + c]!;
      if (Number.isFinite(v)) ss += (v - m) * (v - m);
    }
    const sd = n > 0 ? Math.sqrt(ss / n) : 0;
    mean[c] = m;
    std[c] = sd > 1e-12 ? sd : 1;
  }
  return { mean, std };
}

/**
 * The mean of the nets' quantiles for `rows` inputs (row-major, `cols` values each, NaN allowed): rows × horizons × 3
 * in order (lower, median, upper) log returns. The nets must share their inputs (`sharesInputsWith`): the rows are
 * standardised and uploaded once for all of them, which is what makes an ensemble cost little more than its nets.
 */
export function predictMean(
  nets: readonly QuantileNet[],
  x: Float32Array,
  rows: number,
  /** denseConvolutions: run a tcn's convolutions in their training form (dense matrices), to check one against the other. */
  opts: { denseConvolutions?: boolean } = {},
): Float32Array {
  const first = checkSharedInputs(nets);
  if (rows === 0) return new Float32Array(0);
  const z = standardise(x, rows, first.cols, first.mean, first.std, first.clip);
  return Float32Array.from(meanOfStandardised(nets, z, rows, opts)); // float32 values: no rounding here
}

function checkSharedInputs(nets: readonly QuantileNet[]): QuantileNet {
  const [first] = nets;
  if (first === undefined) throw new Error('predictMean: no nets');
  if (nets.some((n) => !first.sharesInputsWith(n))) {
    throw new Error('predictMean: the nets do not share columns, horizons and standardisation');
  }
  return first;
}

/** `predictMean` from inputs already standardised (the first rows × cols values of `zHost`). */
function meanOfStandardised(
  nets: readonly QuantileNet[],
  zHost: Float32Array,
  rows: number,
  opts: { denseConvolutions?: boolean } = {},
): Float64Array {
  return meanOfBatch(nets, uploadBatch(nets, zHost, rows, opts.denseConvolutions), rows, 3);
}

/**
 * `predictQuantiles`' path: the nets' mean quantiles from rows clamped by `clampFeatures` (their folded forms), with
 * the rank column (`QUANTILE_STRIDE`): the same median, which wrappers leave as the net gave it.
 */
function meanOfClamped(nets: readonly QuantileNet[], xHost: Float32Array, rows: number): Float64Array {
  return meanOfBatch(nets, uploadClampedBatch(nets, xHost, rows), rows, QUANTILE_STRIDE);
}

/** Runs the nets on an uploaded batch, reads their stacked outputs back once, frees the batch. */
function meanOfBatch(nets: readonly QuantileNet[], batch: DeviceBatch, rows: number, stride: 3 | 4): Float64Array {
  try {
    const rawT = forwardAll(nets, batch);
    try {
      return meanQuantiles(nets, deviceView(rawT) ?? (rawT.dataSync() as Float32Array), rows, stride);
    } finally {
      rawT.dispose();
    }
  } finally {
    disposeBatch(batch);
  }
}

/**
 * A float32 tensor's values where they lie, on the wasm backend (its `typedArrayFromHeap`): read in place while
 * the tensor lives and no kernel runs, they need no copy (dataSync copies them into a new buffer each batch).
 * Undefined on other backends.
 */
function deviceView(t: tf.Tensor): Float32Array | undefined {
  const backend = tf.backend() as { typedArrayFromHeap?: (info: tf.TensorInfo) => unknown };
  if (t.dtype !== 'float32' || typeof backend.typedArrayFromHeap !== 'function') return undefined;
  const view = backend.typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
  return view instanceof Float32Array ? view : undefined;
}

/** A standardised batch on the device: the rows, and (index-aligned with the nets) each tcn's series. */
export interface DeviceBatch {
  z: tf.Tensor2D;
  series: (tf.Tensor3D | undefined)[];
  /** The rows are clamped raw values (`uploadClampedBatch`): the nets' folded forms run on them. */
  clamped?: boolean;
}

/**
 * `uploadBatch` for rows clamped by `clampFeatures` (raw values, the nets' folded forms read them): one upload of
 * the rows; a tcn's series is standardised as it is copied out after them.
 */
export function uploadClampedBatch(nets: readonly QuantileNet[], xHost: Float32Array, rows: number): DeviceBatch {
  const { cols, mean, std } = checkSharedInputs(nets);
  const z = tf.tensor2d(xHost.subarray(0, rows * cols), [rows, cols]);
  let offset = rows * cols;
  const series = nets.map((n) => {
    if (n.spec.kind !== 'tcn') return undefined;
    const size = rows * n.spec.sequenceColumns.length;
    const out = xHost.length >= offset + size ? xHost.subarray(offset, offset + size) : new Float32Array(size);
    offset += size;
    return seriesOf(xHost, rows, cols, n.spec, out, { mean, std });
  });
  return { z, series, clamped: true };
}

/**
 * Uploads the first rows × cols standardised values of `zHost` once for all the nets. A tcn's series is a second,
 * smaller tensor copied out in JS (0.3 ms for 5,000 rows): picking it out on wasm cost 8 ms by gather and 1 ms by
 * splitting a single upload. The series are written into `zHost` after the rows when it has room (see
 * `batchBufferSize`), so a reused buffer serves the whole batch. `dense`: no series, a tcn runs its dense form.
 */
export function uploadBatch(
  nets: readonly QuantileNet[],
  zHost: Float32Array,
  rows: number,
  dense = false,
): DeviceBatch {
  const { cols } = checkSharedInputs(nets);
  const z = tf.tensor2d(zHost.subarray(0, rows * cols), [rows, cols]);
  let offset = rows * cols;
  const series = nets.map((n) => {
    if (n.spec.kind !== 'tcn' || dense) return undefined;
    const size = rows * n.spec.sequenceColumns.length;
    const out = zHost.length >= offset + size ? zHost.subarray(offset, offset + size) : new Float32Array(size);
    offset += size;
    return seriesOf(zHost, rows, cols, n.spec, out);
  });
  return { z, series };
}

/** Values a buffer needs to hold a batch of `rows` for `uploadBatch`: the standardised rows, then each tcn's series. */
export function batchBufferSize(nets: readonly QuantileNet[], rows: number): number {
  const series = nets.reduce((sum, n) => sum + (n.spec.kind === 'tcn' ? n.spec.sequenceColumns.length : 0), 0);
  return rows * (nets[0]!.cols + series);
}

export function disposeBatch(batch: DeviceBatch): void {
  batch.z.dispose();
  for (const s of batch.series) s?.dispose();
}

/**
 * Every net's raw outputs on the device, stacked net after net: [nets · rows, H·3]. Stacked along rows the concat
 * is one copy per net (along columns, one per row), and one read-back serves all the nets. This is all the device
 * work of a prediction: bench:models times it alone as the "matmul".
 */
export function forwardAll(nets: readonly QuantileNet[], batch: DeviceBatch): tf.Tensor2D {
  return tf.tidy(() => {
    const outs = nets.map((n, i) =>
      batch.clamped ? n.rawOutputsOfClamped(batch.z, batch.series[i]) : n.rawOutputs(batch.z, batch.series[i]),
    );
    return outs.length === 1 ? outs[0]! : (tf.concat(outs, 0) as tf.Tensor2D);
  });
}

/**
 * The mean of the nets' quantiles, rows × H × `stride`, from their stacked raw outputs (`forwardAll`). Per net:
 * lower = (m − softplus(a)) · scale, median = m · scale, upper = (m + softplus(b)) · scale, summed in float32 net by
 * net and divided by their count (float32 values in a Float64Array); with stride 4 the median again after them, as
 * the rank (`QUANTILE_STRIDE`). This runs in JS: as separate wasm ops (reshape/split/softplus/concat/mul) it cost
 * ~9 ms for 5,000 rows against ~1.5 ms per net here.
 */
function meanQuantiles(nets: readonly QuantileNet[], raw: Float32Array, rows: number, stride: 3 | 4): Float64Array {
  const scales = nets.map((n) => n.targetScale);
  const H = scales[0]!.length;
  const size = rows * H * 3; // one net's raw outputs
  // Float64 holding float32 values (fround): a wrapper can then adjust them in place, without another array.
  const out = new Float64Array(rows * H * stride);
  const count = nets.length;
  if (count === 1) {
    oneNetQuantiles(scales[0]!, raw, size, out, stride);
    return out;
  }
  for (let o = 0, r = 0; r < size; ) {
    for (let h = 0; h < H; h++, o += stride, r += 3) {
      let lower = 0;
      let median = 0;
      let upper = 0;
      for (let k = 0, j = r; k < count; k++, j += size) {
        const scale = scales[k]![h]!;
        const m = raw[j]!;
        // fround: the running sums are float32, as they were when each net added into a Float32Array.
        lower = Math.fround(lower + (m - softplus(raw[j + 1]!)) * scale);
        median = Math.fround(median + m * scale);
        upper = Math.fround(upper + (m + softplus(raw[j + 2]!)) * scale);
      }
      out[o] = count === 1 ? lower : Math.fround(lower / count);
      out[o + 1] = count === 1 ? median : Math.fround(median / count);
      out[o + 2] = count === 1 ? upper : Math.fround(upper / count);
      if (stride === 4) out[o + 3] = out[o + 1]!;
    }
  }
  return out;
}

/**
 * `meanQuantiles` for one net, the shipped case: the same values to the bit (0 + …: a −0 comes out +0, as from the
 * sums), without the loop over nets and its per-value lookups of the scale.
 */
function oneNetQuantiles(scale: Float32Array, raw: Float32Array, size: number, out: Float64Array, stride: 3 | 4): void {
  const H = scale.length;
  for (let o = 0, r = 0; r < size; ) {
    for (let h = 0; h < H; h++, o += stride, r += 3) {
      const s = scale[h]!;
      const m = raw[r]!;
      const median = Math.fround(0 + m * s);
      out[o] = Math.fround(0 + (m - softplus(raw[r + 1]!)) * s);
      out[o + 1] = median;
      out[o + 2] = Math.fround(0 + (m + softplus(raw[r + 2]!)) * s);
      if (stride === 4) out[o + 3] = median;
    }
  }
}

/** (x − mean) / σ clipped to ±clip; non-finite inputs (NaN while warming up) become 0, the training mean. */
function standardise(
  x: Float32Array,
  rows: number,
  cols: number,
  mean: Float32Array,
  std: Float32Array,
  clip: number,
): Float32Array {
  checkShape('input', x, rows, cols);
  const z = new Float32Array(rows * cols);
  const limit = asFloat64(clip);
  const lo = -limit;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) z[o + c] = standardValue(x[o + c]!, mean[c]!, std[c]!, limit, lo);
  }
  return z;
}

/**
 * `x` read back from a Float64Array: V8 then keeps a clamp against it in float64; against the clip as loaded
 * (5, a small integer to V8) the standardising loop ran ~1.5× slower (measured, 5,000 × 180 values).
 */
function asFloat64(x: number): number {
  return Float64Array.of(x)[0]!;
}

/** One standardised value: (v − mean) / σ clipped to ±clip, and 0 for a non-finite one. */
function standardValue(v: number, mean: number, std: number, clip: number, lo = -clip): number {
  const s = (v - mean) / std;
  // s − s is 0 exactly when s is finite. The same results (−0 included) as Number.isFinite + Math.min/max.
  // biome-ignore lint/complexity/useMathMinMax: comparisons keep this hot loop in float64 (Math.max ran slower here)
  return s - s === 0 ? (s > clip ? clip : s < lo ? lo : s) : 0;
}

/** Standardised inputs, scaled targets with NaN → 0, and a 0/1 mask of known targets, as tensors. */
function prepare(
  x: Float32Array,
  rows: number,
  cols: number,
  y: Float32Array,
  mean: Float32Array,
  std: Float32Array,
  scale: Float32Array,
): { x: tf.Tensor2D; y: tf.Tensor2D; mask: tf.Tensor2D } {
  const H = scale.length;
  const ys = new Float32Array(rows * H);
  const mask = new Float32Array(rows * H);
  for (let i = 0; i < ys.length; i++) {
    const v = y[i]!;
    if (Number.isFinite(v)) {
      ys[i] = v / scale[i % H]!;
      mask[i] = 1;
    }
  }
  return {
    x: tf.tensor2d(standardise(x, rows, cols, mean, std, CLIP_SIGMA), [rows, cols]),
    y: tf.tensor2d(ys, [rows, H]),
    mask: tf.tensor2d(mask, [rows, H]),
  };
}

/** Time steps left after the tcn's valid (unpadded) convolutions: each loses (kernel − 1) · dilation. */
function tcnSteps(s: ResolvedQuantileNetSpec): number {
  return s.dilations.reduce((t, d) => t - (s.kernelSize - 1) * d, s.steps);
}

/** [in, out] of every layer, in order: convolutions (in im2col form: taps × channels in) first for tcn. */
function layerWidths(s: ResolvedQuantileNetSpec, cols: number): number[][] {
  const out = s.horizons.length * 3;
  if (s.kind !== 'tcn') {
    const w = [cols, ...s.hidden, out];
    return w.slice(1).map((o, i) => [w[i]!, o]);
  }
  const channels = s.sequenceColumns.length / s.steps;
  const conv = s.dilations.map((_, i) => [s.kernelSize * (i === 0 ? channels : s.filters), s.filters]);
  const head = [tcnSteps(s) * s.filters + cols, ...s.hidden, out];
  return [...conv, ...head.slice(1).map((o, i) => [head[i]!, o])];
}

/**
 * A valid (unpadded) dilated convolution over `tIn` steps as one dense matrix
 * [tIn · cIn, tOut · F], rows and columns time-major: Σ_j shift_j ⊗ kernel_j, where shift_j maps
 * input step t + j·d to output step t. Built from the (small) kernel each call, so it trains by
 * plain matMul gradients: per-row slices and concats cost ~40 ms per 5,000 rows on wasm, and
 * wasm has no conv-filter gradient.
 */
function convMatrix(kernel: tf.Tensor2D, tIn: number, cIn: number, d: number, k: number): tf.Tensor2D {
  const tOut = tIn - (k - 1) * d;
  const f = kernel.shape[1];
  const terms = Array.from({ length: k }, (_, j) => {
    const shift = new Float32Array(tIn * tOut);
    for (let t = 0; t < tOut; t++) shift[(t + j * d) * tOut + t] = 1;
    const kj = kernel.slice([j * cIn, 0], [cIn, f]).reshape([1, cIn, 1, f]);
    return tf.tensor4d(shift, [tIn, 1, tOut, 1]).mul(kj);
  });
  return tf.addN(terms).reshape([tIn * cIn, tOut * f]) as tf.Tensor2D;
}

/** 0/1 matrix [cols, sequenceColumns.length] that picks the series out of a feature row. */
function selection(s: ResolvedQuantileNetSpec, cols: number): tf.Tensor2D {
  const m = new Float32Array(cols * s.sequenceColumns.length);
  s.sequenceColumns.forEach((c, p) => {
    m[c * s.sequenceColumns.length + p] = 1;
  });
  return tf.tensor2d(m, [cols, s.sequenceColumns.length]);
}

/**
 * The series of each row [rows, steps, channels], time-major as `sequenceColumns` lists it; given `standardise`,
 * each value is (x − mean) / σ of its column (rows clamped raw, see `uploadClampedBatch`).
 */
function seriesOf(
  z: Float32Array,
  rows: number,
  cols: number,
  s: ResolvedQuantileNetSpec,
  seq: Float32Array,
  standardise?: { mean: Float32Array; std: Float32Array },
): tf.Tensor3D {
  const sc = Int32Array.from(s.sequenceColumns);
  const n = sc.length;
  if (standardise) {
    const mean = Float64Array.from(sc, (c) => standardise.mean[c]!);
    const std = Float64Array.from(sc, (c) => standardise.std[c]!);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      const o = r * n;
      for (let p = 0; p < n; p++) seq[o + p] = (z[base + sc[p]!]! - mean[p]!) / std[p]!;
    }
    return tf.tensor3d(seq, [rows, s.steps, n / s.steps]);
  }
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const o = r * n;
    for (let p = 0; p < n; p++) seq[o + p] = z[base + sc[p]!]!;
  }
  return tf.tensor3d(seq, [rows, s.steps, n / s.steps]);
}

/**
 * The net: for tcn, dilated causal convolutions over the series (each as one dense matrix, see
 * `convMatrix`), whose flattened output joins all the inputs in the first dense layer; then
 * dense layers, ReLU between them, dropout (training only) after each hidden one.
 */
function forward(
  x: tf.Tensor2D,
  s: ResolvedQuantileNetSpec,
  layers: readonly Layer[],
  dropout = 0,
  seeds: readonly number[] = [],
  /** The series [rows, steps, channels] when only inference is needed: then real (dilated) convolutions run. */
  seq?: tf.Tensor3D,
): tf.Tensor2D {
  let h = x;
  let first = 0;
  let series: tf.Tensor2D | undefined;
  if (s.kind === 'tcn' && seq !== undefined) {
    // The same maths as the dense form below in about a sixth of the multiplications; wasm has no gradient
    // for it (Conv2DBackpropFilter), which is why training uses the dense form.
    let c = seq.shape[2];
    let h4 = seq.reshape([seq.shape[0], 1, s.steps, c]) as tf.Tensor4D;
    s.dilations.forEach((d, i) => {
      const l = layers[i]!;
      const filter = l.kernel.reshape([1, s.kernelSize, c, s.filters]) as tf.Tensor4D;
      h4 = tf.fused.conv2d({
        x: h4,
        filter,
        strides: 1,
        pad: 'valid',
        dilations: [1, d],
        bias: l.bias,
        activation: 'relu',
      });
      c = s.filters;
    });
    series = h4.reshape([h4.shape[0], h4.shape[2] * c]) as tf.Tensor2D;
    first = s.dilations.length;
  } else if (s.kind === 'tcn') {
    const cols = x.shape[1];
    let c = s.sequenceColumns.length / s.steps;
    let t = s.steps;
    series = x;
    s.dilations.forEach((d, i) => {
      const l = layers[i]!;
      const conv = convMatrix(l.kernel, t, c, d, s.kernelSize);
      // The first convolution reads the series straight from the feature row: selection · conv.
      const w = i === 0 ? tf.matMul(selection(s, cols), conv) : conv;
      t -= (s.kernelSize - 1) * d;
      c = s.filters;
      series = tf.fused.matMul({ a: series!, b: w, bias: tf.tile(l.bias, [t]), activation: 'relu' }) as tf.Tensor2D;
    });
    first = s.dilations.length;
  }
  for (let i = first; i < layers.length; i++) {
    const l = layers[i]!;
    const last = i === layers.length - 1;
    const activation = last ? 'linear' : 'relu';
    if (series !== undefined && i === first) {
      // The head's first layer over [series, x] without building the concatenation: split its kernel.
      const k = series.shape[1];
      const z = tf.matMul(series, l.kernel.slice([0, 0], [k, -1]));
      const zx = tf.fused.matMul({ a: x, b: l.kernel.slice([k, 0], [-1, -1]), bias: l.bias });
      h = (last ? z.add(zx) : tf.relu(z.add(zx))) as tf.Tensor2D;
    } else {
      h = tf.fused.matMul({ a: h, b: l.kernel, bias: l.bias, activation }) as tf.Tensor2D;
    }
    if (!last && dropout > 0) h = tf.dropout(h, dropout, undefined, seeds[i]) as tf.Tensor2D;
  }
  return h;
}

/**
 * A valid dilated convolution (no bias, no activation) over a time-major series [steps, rows, channels] as one
 * matMul per tap: output step t reads input step t + j·d through the kernel rows of tap j. [tOut · rows, filters].
 */
function convTaps(series: tf.Tensor3D, kernel: tf.Tensor2D, d: number, tOut: number): tf.Tensor2D {
  const [, rows, c] = series.shape;
  const tap = (j: number) =>
    matMulInput(
      series.slice([j * d, 0, 0], [tOut, rows, c]).reshape([tOut * rows, c]),
      kernel.slice([j * c, 0], [c, -1]),
    );
  // Summed pairwise: addN's gradient copies dy once per input, add's passes it on.
  let sum = tap(0);
  for (let j = 1; j < kernel.shape[0] / c; j++) sum = sum.add(tap(j));
  return sum;
}

/** a · kernel, differentiable w.r.t. `a` only, its gradient dy · kernelᵀ with the transpose made explicitly. */
function matMulInput(a: tf.Tensor2D, kernel: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    // Saved, so the kernel (maybe a slice made in the forward pass) outlives it for the backward one.
    (args[1] as tf.GradSaveFunc)([kernel]);
    return {
      value: tf.matMul(args[0] as tf.Tensor2D, kernel),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.matMul(dy as tf.Tensor2D, saved[0]!.transpose()),
    };
  });
  return f(a) as tf.Tensor2D;
}

/** Raw outputs [n, H·3] (median, lower offset, upper offset per horizon) → quantiles [n, H, 3] (lower, median, upper). */
function toQuantiles(raw: tf.Tensor2D, H: number): tf.Tensor3D {
  const r = raw.reshape([raw.shape[0], H, 3]) as tf.Tensor3D;
  const [med, a, b] = tf.split(r, 3, 2) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
  return tf.concat([med.sub(tf.softplus(a)), med, med.add(tf.softplus(b))], 2);
}

/** Σ over horizons and quantiles of the mean pinball loss over rows whose target is known (mask 1). */
function pinball(raw: tf.Tensor2D, y: tf.Tensor2D, mask: tf.Tensor2D, H: number): tf.Scalar {
  return tf.tidy(() => {
    const e = y.expandDims(2).sub(toQuantiles(raw, H)); // [n, H, 3]
    const tau = tf.tensor1d(QUANTILES as unknown as number[]);
    const loss = tf
      .maximum(e.mul(tau), e.mul(tau.sub(1)))
      .sum(2)
      .mul(mask); // [n, H]
    return loss.sum(0).div(mask.sum(0).maximum(1)).sum() as tf.Scalar;
  });
}

function l2Penalty(layers: readonly Layer[], l2: number): tf.Scalar {
  return tf.addN(layers.map((l) => l.kernel.square().sum())).mul(l2) as tf.Scalar;
}

/** Seeded He-uniform kernels (Glorot for the linear output layer), zero biases, output offsets at softplus⁻¹(1.28). */
function initLayers(
  widths: readonly number[][],
  rng: () => number,
): (Layer & { kernel: tf.Variable; bias: tf.Variable })[] {
  const out: (Layer & { kernel: tf.Variable<tf.Rank.R2>; bias: tf.Variable<tf.Rank.R1> })[] = [];
  for (let i = 0; i < widths.length; i++) {
    const [fanIn, fanOut] = widths[i] as [number, number];
    const last = i + 1 === widths.length;
    const limit = last ? Math.sqrt(6 / (fanIn + fanOut)) : Math.sqrt(6 / fanIn);
    const k = new Float32Array(fanIn * fanOut);
    for (let j = 0; j < k.length; j++) k[j] = (rng() * 2 - 1) * limit;
    const b = new Float32Array(fanOut);
    if (last) for (let j = 0; j < fanOut; j++) b[j] = j % 3 === 0 ? 0 : OFFSET_BIAS_INIT;
    // tf.variable keeps its own reference to the initial tensor's data, so that tensor must be disposed here.
    const k0 = tf.tensor2d(k, [fanIn, fanOut]);
    const b0 = tf.tensor1d(b);
    out.push({ kernel: tf.variable(k0), bias: tf.variable(b0) });
    k0.dispose();
    b0.dispose();
  }
  return out;
}

/** log(1 + eˣ) without overflow, as tf.softplus computes it. */
function softplus(v: number): number {
  return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
}

function shuffle(a: Int32Array, rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

// ---------------------------------------------------------------------------------------------
// The Model the predict operator calls

/**
 * The inputs' feature values standardised for `net` (or the nets sharing its inputs), rows × cols, straight from
 * each input's values into `z` (the caller's, so a buffer can be reused; its tail past rows × cols is left as it was).
 */
export function standardiseFeatures(
  net: QuantileNet,
  inputs: readonly Features[],
  model: { name: string; version: string; spec: string },
  z: Float32Array,
): Float32Array {
  checkFeatures(net.cols, inputs, model);
  if (z.length < inputs.length * net.cols) {
    throw new Error(`standardiseFeatures: ${z.length} values for ${inputs.length} inputs`);
  }
  standardiseValues(net, inputs, z);
  return z;
}

function checkFeatures(
  cols: number,
  inputs: readonly Features[],
  model: { name: string; version: string; spec: string },
): void {
  for (const f of inputs) {
    if (f.spec !== model.spec) {
      throw new Error(`${model.name}@${model.version}: input features use spec ${f.spec}, model expects ${model.spec}`);
    }
    if (f.values.length !== cols) {
      throw new Error(`${model.name}: expected ${cols} feature values, got ${f.values.length} (${f.symbol})`);
    }
  }
}

/**
 * The loop of `standardiseFeatures`, on its own: with the checks in the same function V8 compiled it less well in
 * some runs (up to 2× slower, measured beside the matmul in one process).
 */
function standardiseValues(net: QuantileNet, inputs: readonly Features[], z: Float32Array): void {
  const { cols, mean, std } = net;
  const clip = asFloat64(net.clip);
  const lo = -clip;
  for (let i = 0; i < inputs.length; i++) {
    const v = inputs[i]!.values;
    const o = i * cols;
    for (let c = 0; c < cols; c++) {
      // standardValue written out, one store per case (the same results, −0 included): a single store of a
      // conditional expression mixing the integer 0 with doubles ran up to 2× slower in some runs.
      const s = (v[c]! - mean[c]!) / std[c]!;
      if (s >= lo && s <= clip) z[o + c] = s;
      else if (s > clip && s < Number.POSITIVE_INFINITY) z[o + c] = clip;
      else if (s < lo && s > Number.NEGATIVE_INFINITY) z[o + c] = lo;
      else z[o + c] = 0;
    }
  }
}

/**
 * The inputs' feature values for the nets' folded forms (`QuantileNet.inference`), rows × cols, into `x` (the
 * caller's, so a buffer can be reused; its tail past rows × cols is left as it was): each value clamped to
 * mean ∓ clip·σ, a non-finite one replaced by the mean. No subtraction or division per value: they are in the
 * weights.
 */
export function clampFeatures(
  net: QuantileNet,
  inputs: readonly Features[],
  model: { name: string; version: string; spec: string },
  x: Float32Array,
): Float32Array {
  checkFeatures(net.cols, inputs, model);
  if (x.length < inputs.length * net.cols) {
    throw new Error(`clampFeatures: ${x.length} values for ${inputs.length} inputs`);
  }
  clampValues(net.inference(), net.cols, inputs, x);
  return x;
}

/**
 * The loop of `clampFeatures`, on its own (as `standardiseValues`, for V8): one pass, each value compared with its
 * column's bounds and stored as float32. The rule of the SIMD clamp (simd-clamp.ts), which serves where wasm SIMD
 * runs; this loop serves where it does not, and checks it in the tests.
 */
function clampValues(f: FoldedNet, cols: number, inputs: readonly Features[], x: Float32Array): void {
  const { lo, hi, fill } = f;
  for (let i = 0; i < inputs.length; i++) {
    const v = inputs[i]!.values;
    const o = i * cols;
    for (let c = 0; c < cols; c++) {
      const s = v[c]!;
      const l = lo[c]!;
      const h = hi[c]!;
      // In range (NaN fails both); past a bound: clipped, unless infinite (then the mean, as a standardised 0).
      if (s >= l && s <= h) x[o + c] = s;
      else if (s > h) x[o + c] = s < Number.POSITIVE_INFINITY ? h : fill[c]!;
      else if (s < l) x[o + c] = s > Number.NEGATIVE_INFINITY ? l : fill[c]!;
      else x[o + c] = fill[c]!;
    }
  }
}

/**
 * Wraps a net as a `Model`: reads `Features.values` in spec order, one output per (input, horizon). Given several
 * nets that share their inputs, the model is their ensemble: the mean of their quantiles (see `predictMean`).
 * `attribute` says what moved the median (see `attribution.ts`): exact for linear nets, integrated gradients with
 * `opts.attributionSteps` (default IG_STEPS) steps otherwise.
 */
export function quantileNetModel(
  nets: QuantileNet | readonly QuantileNet[],
  meta: { name: string; version: string; spec: string },
  opts: { attributionSteps?: number } = {},
): Model {
  const all = Array.isArray(nets) ? (nets as readonly QuantileNet[]) : [nets as QuantileNet];
  const net = checkSharedInputs(all);
  const horizons = [...net.horizons];
  const H = horizons.length;
  const S = QUANTILE_STRIDE;
  let scratch: Float32Array = new Float32Array(0);
  let baseline: Float64Array | undefined;
  // The clamp in wasm SIMD where it can run (simd-clamp.ts: half the time of the JS loop, the same values), its
  // memory reused from batch to batch; else the JS loop into a reused buffer.
  const { lo, hi, fill } = net.inference();
  const simd = simdClamp(lo, hi, fill);
  // On the wasm backend, the clamp writes the batch into the backend's heap and it becomes the nets' input tensor
  // as it lies: no upload copy (3.6 MB per 5,000 inputs). Not for a tcn, whose series are uploaded after the rows
  // (an upload may grow the heap under the view the series are read from).
  let inHeap: { clamp: SimdClamp; heap: NonNullable<ReturnType<typeof wasmHeap>> } | null | undefined;
  const heapClamp = () => {
    if (all.some((n) => n.spec.kind === 'tcn')) return undefined;
    const heap = wasmHeap();
    if (heap === undefined) return undefined;
    if (inHeap === undefined || (inHeap !== null && inHeap.heap.backend !== heap.backend)) {
      const clamp = simdClamp(lo, hi, fill, heap);
      inHeap = clamp && { clamp, heap };
    }
    return inHeap ?? undefined;
  };
  const predictQuantiles = (inputs: readonly Features[]): Float64Array => {
    const n = inputs.length;
    if (n === 0) return new Float64Array(0);
    const size = batchBufferSize(all, n);
    // Clamped raw values into the nets' folded forms: the standardisation is in their first layer's weights.
    const h = heapClamp();
    if (h) {
      const x = h.clamp.clamp(inputs, size, meta.spec);
      if (x === undefined) {
        checkFeatures(net.cols, inputs, meta);
        throw new Error(`${meta.name}: an input does not fit the model`);
      }
      let z: tf.Tensor2D;
      try {
        z = h.heap.tensor2d(x.byteOffset, n, net.cols);
      } catch (e) {
        h.heap.free(x.byteOffset);
        throw e;
      }
      return meanOfBatch(all, { z, series: all.map(() => undefined), clamped: true }, n, QUANTILE_STRIDE);
    }
    if (simd) {
      const x = simd.clamp(inputs, size, meta.spec);
      if (x === undefined) {
        // An input of another spec or length: checkFeatures says which.
        checkFeatures(net.cols, inputs, meta);
        throw new Error(`${meta.name}: an input does not fit the model`);
      }
      return meanOfClamped(all, x, n);
    }
    // One buffer reused from batch to batch: a fresh 3.6 MB array per 5,000 inputs cost ~1.5 ms in page faults.
    if (scratch.length < size) scratch = new Float32Array(size);
    clampFeatures(net, inputs, meta, scratch);
    return meanOfClamped(all, scratch, n);
  };
  /** The forecast at the baseline input, every feature at its training mean (standardised 0), as predictBatch runs it. */
  const baselineForecast = (): Float64Array => {
    const x = new Float32Array(batchBufferSize(all, 1));
    x.set(net.inference().fill);
    return meanOfClamped(all, x, 1);
  };
  return {
    name: meta.name,
    version: meta.version,
    spec: meta.spec,
    horizons: [...net.horizons],
    predictBatch(inputs: readonly Features[]): ModelOutput[] {
      return inputs.length === 0 ? [] : outputsFromQuantiles(inputs, horizons, predictQuantiles(inputs));
    },
    predictQuantiles,
    attribute: (inputs): Attribution[] =>
      attributed(inputs, attributeMedians, (at, o, h, q, base) => ({
        ...at,
        predictedReturn: q[S * o + 1]!,
        baselineReturn: base[S * h + 1]!,
      })),
    attributeWidth: (inputs): WidthAttribution[] =>
      attributed(inputs, attributeWidths, (at, o, h, q, base) => ({
        ...at,
        predictedWidth: q[S * o + 2]! - q[S * o]!,
        baselineWidth: base[S * h + 2]! - base[S * h]!,
      })),
  };

  /**
   * One record per (input, horizon): what `by` attributes (the median or the width) of the
   * forecasts as predictBatch computes them, to the bit, against the baseline input's.
   */
  function attributed<T>(
    inputs: readonly Features[],
    by: typeof attributeMedians,
    make: (
      at: { symbol: string; ts: number; horizon: number; contributions: Float32Array; method: string },
      o: number,
      h: number,
      q: Float64Array,
      base: Float64Array,
    ) => T,
  ): T[] {
    const n = inputs.length;
    if (n === 0) return [];
    const z = standardiseFeatures(net, inputs, meta, new Float32Array(n * net.cols));
    const q = predictQuantiles(inputs);
    // The baseline input: every feature at its training mean, standardised 0.
    baseline ??= baselineForecast();
    const { contributions, method } = by(all, z, n, { steps: opts.attributionSteps });
    const out: T[] = [];
    inputs.forEach((f, i) => {
      horizons.forEach((horizon, h) => {
        const o = i * H + h;
        const slice = contributions.slice(o * net.cols, (o + 1) * net.cols);
        out.push(make({ symbol: f.symbol, ts: f.ts, horizon, contributions: slice, method }, o, h, q, baseline!));
      });
    });
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Artifacts: dir/model.json (tfjs layers topology + weights manifest), dir/weights.bin, dir/metadata.json

export interface QuantileNetMetadata {
  format: typeof METADATA_FORMAT;
  name: string;
  version: string;
  kind: QuantileNetSpec['kind'];
  horizons: number[];
  quantiles: number[];
  /** Feature spec id (name@hash) the net was trained on; loading refuses any other. */
  featureSpec: string;
  featureNames: string[];
  standardisation: { mean: number[]; std: number[]; clip: number };
  /** Per-horizon scale the raw outputs are multiplied by (RMS of the training targets). */
  targetScale: number[];
  /** How the three outputs per horizon are built from the raw ones. */
  output: 'median ∓ softplus(offset)';
  training: ResolvedQuantileNetSpec;
  trainedAt: string;
  trainingWindow?: { from: string | number; to: string | number };
  metrics?: unknown;
}

export interface SaveMeta {
  name: string;
  version: string;
  /** Feature spec id; default FEATURE_SPEC.id. */
  spec?: string;
  /** Column names; default FEATURE_NAMES when `spec` is FEATURE_SPEC.id (required otherwise). */
  featureNames?: readonly string[];
  trainingWindow?: { from: string | number; to: string | number };
  metrics?: unknown;
  /** ISO time; default now. */
  trainedAt?: string;
}

export async function saveQuantileNet(net: QuantileNet, dir: string, meta: SaveMeta): Promise<QuantileNetMetadata> {
  const featureSpec = meta.spec ?? FEATURE_SPEC.id;
  const featureNames = [...(meta.featureNames ?? (featureSpec === FEATURE_SPEC.id ? FEATURE_NAMES : []))];
  if (featureNames.length !== net.cols) {
    throw new Error(`saveQuantileNet: ${featureNames.length} feature names for a net with ${net.cols} inputs`);
  }
  const metadata: QuantileNetMetadata = {
    format: METADATA_FORMAT,
    name: meta.name,
    version: meta.version,
    kind: net.spec.kind,
    horizons: [...net.horizons],
    quantiles: [...QUANTILES],
    featureSpec,
    featureNames,
    standardisation: { mean: [...net.mean], std: [...net.std], clip: net.clip },
    targetScale: [...net.targetScale],
    output: 'median ∓ softplus(offset)',
    training: net.spec,
    trainedAt: meta.trainedAt ?? new Date().toISOString(),
    ...(meta.trainingWindow ? { trainingWindow: meta.trainingWindow } : {}),
    ...(meta.metrics !== undefined ? { metrics: meta.metrics } : {}),
  };

  // Weights in the tfjs weights format (model.json manifest + weights.bin), named layer<i>/kernel|bias;
  // the architecture is in metadata.training (a tcn's time-shift convolutions are not a tfjs layer).
  const widths = layerWidths(net.spec, net.cols);
  const named = net.weights().map((w, i) => {
    const layer = Math.floor(i / 2);
    const [fanIn, fanOut] = widths[layer] as [number, number];
    return i % 2 === 0
      ? { name: `layer${layer}/kernel`, tensor: tf.tensor2d(w, [fanIn, fanOut]) }
      : { name: `layer${layer}/bias`, tensor: tf.tensor1d(w) };
  });
  let encoded: { data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] };
  try {
    encoded = await tf.io.encodeWeights(named);
  } finally {
    for (const t of named) t.tensor.dispose();
  }
  const modelJson = {
    format: WEIGHTS_FORMAT,
    generatedBy: `TensorFlow.js v${tf.version_core}`,
    weightsManifest: [{ paths: ['weights.bin'], weights: encoded.specs }],
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'weights.bin'), new Uint8Array(encoded.data));
  await writeFile(join(dir, 'model.json'), `${JSON.stringify(modelJson)}\n`);
  await writeFile(join(dir, 'metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
  return metadata;
}

export interface LoadedQuantileNet {
  net: QuantileNet;
  metadata: QuantileNetMetadata;
  /** The net as a `Model` named and versioned from its metadata. */
  model: Model;
}

/** Loads a saved net; refuses one trained on another feature spec (its inputs would mean something else). */
export async function loadQuantileNet(dir: string, opts: { expectSpec: string }): Promise<LoadedQuantileNet> {
  await selectBackend();
  const metadata = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as QuantileNetMetadata;
  if (metadata.format !== METADATA_FORMAT) {
    throw new Error(`${dir}: metadata format ${String(metadata.format)}, expected ${METADATA_FORMAT}`);
  }
  if (metadata.featureSpec !== opts.expectSpec) {
    throw new Error(
      `${dir}: model ${metadata.name}@${metadata.version} was trained on feature spec ${metadata.featureSpec}, ` +
        `but the features now have spec ${opts.expectSpec}; retrain it (npx tickcast train)`,
    );
  }
  const modelJson = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as {
    format?: string;
    weightsManifest: tf.io.WeightsManifestConfig;
  };
  if (modelJson.format !== WEIGHTS_FORMAT) {
    throw new Error(`${dir}: model.json format ${String(modelJson.format)}, expected ${WEIGHTS_FORMAT}; retrain it`);
  }
  const bin = await readFile(join(dir, 'weights.bin'));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  const tensors = tf.io.decodeWeights(
    weightData,
    modelJson.weightsManifest.flatMap((g) => g.weights),
  );
  const cols = metadata.featureNames.length;
  const widths = layerWidths(metadata.training, cols);
  const layers: Layer[] = [];
  const fits = widths.every(([fanIn, fanOut], i) => {
    const kernel = tensors[`layer${i}/kernel`];
    const bias = tensors[`layer${i}/bias`];
    if (kernel?.shape.join() !== `${fanIn},${fanOut}` || bias?.shape.join() !== `${fanOut}`) return false;
    layers.push({ kernel: kernel as tf.Tensor2D, bias: bias as tf.Tensor1D });
    return true;
  });
  if (!fits || Object.keys(tensors).length !== 2 * widths.length) {
    for (const t of Object.values(tensors)) t.dispose();
    throw new Error(`${dir}: weights do not match metadata (${metadata.training.kind}, ${cols} features)`);
  }
  const net = new QuantileNet(
    metadata.training,
    cols,
    Float32Array.from(metadata.standardisation.mean),
    Float32Array.from(metadata.standardisation.std),
    Float32Array.from(metadata.targetScale),
    layers,
    metadata.standardisation.clip,
  );
  const model = quantileNetModel(net, { name: metadata.name, version: metadata.version, spec: metadata.featureSpec });
  return { net, metadata, model };
}
