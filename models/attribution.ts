// What moved the median: each input feature's contribution to quantile nets' median forecast, relative to the
// baseline input z = 0 (every feature at its training mean, which is also what a NaN, warming-up, feature becomes);
// by the same methods, what moved the interval's width (`attributeWidths`: for a median that ships as a constant).
//
// - A linear net: exact, contribution_c = w_c · z_c (in log returns: the target scale is applied).
// - Any other net: integrated gradients (Sundararajan et al. 2017) along the straight line from 0 to z,
//   IG_c = z_c · ∫₀¹ ∂f/∂z_c(α·z) dα, as a midpoint Riemann sum over `steps` points, computed with tf.grads in
//   batches over a form of the net built for it (`QuantileNet.inputMaps` / `medianFromInputMaps`). The
//   contributions add up to f(z) − f(0) up to the sum's error.
// - Several nets (an ensemble, the mean of its nets): the mean of their attributions, since IG is linear in the
//   function; linear members stay exact, so only the others add error.
//
// Attributions are in the net's input space: standardised and CLIPPED to ±clip σ. A feature beyond the clip
// gets the contribution of its clipped value, and moving it further changes nothing, as for the net itself.
import type { QuantileNet } from './quantile-net.js';
import { tf } from './tf-backend.js';

/**
 * Riemann steps of integrated gradients. On the shipped ensemble over 300 real inputs (3 horizons each) the
 * completeness error |Σ contributions − (f(z) − f(0))| is a median 0.47% (p90 2.6%, at most 2 bp) of
 * |f(z) − f(0)| at 32 steps, 1.1% (5.0%) at 16, 0.25% (1.2%) at 64; the cost grows with the steps
 * (`npm run bench:attribution`, models/README.md "Attributions").
 */
export const IG_STEPS = 32;
/** Path rows per tf.grads call (inputs × horizons × steps): larger batches, fewer calls, more memory. */
const CHUNK_ROWS = 8192;

export interface MedianAttributions {
  /**
   * rows × horizons × cols, row-major: the contribution of each standardised, clipped input to each horizon's
   * median log return, relative to the all-zero input (the nets' mean when there are several).
   */
  contributions: Float32Array;
  /** `exact` when every net is linear, else `integrated-gradients:<steps>`. */
  method: string;
}

/**
 * Per-feature contributions to the mean of `nets`' medians for `rows` standardised inputs `z` (rows × cols, as
 * the nets see them). The nets must share their inputs (`QuantileNet.sharesInputsWith`).
 */
export function attributeMedians(
  nets: readonly QuantileNet[],
  z: Float32Array,
  rows: number,
  opts: { steps?: number; chunkRows?: number } = {},
): MedianAttributions {
  return attributeOutput('median', nets, z, rows, opts);
}

/**
 * Per-feature contributions to the mean of `nets`' interval widths (upper − lower log return) for `rows`
 * standardised inputs, relative to the all-zero input: what a model whose median is a constant still moves.
 * Same layout as `attributeMedians`. A linear net's width is (softplus(A) + softplus(B)) · scale of two linear
 * maps A and B: each term depends on z only through its map, so its integrated gradients have a closed form,
 * w_c · z_c · (softplus(A(z)) − softplus(A(0))) / (A(z) − A(0)), exact (`method: 'exact'`). Other nets:
 * integrated gradients of the width along the same path as the median's.
 */
export function attributeWidths(
  nets: readonly QuantileNet[],
  z: Float32Array,
  rows: number,
  opts: { steps?: number; chunkRows?: number } = {},
): MedianAttributions {
  return attributeOutput('width', nets, z, rows, opts);
}

function attributeOutput(
  target: Target,
  nets: readonly QuantileNet[],
  z: Float32Array,
  rows: number,
  opts: { steps?: number; chunkRows?: number },
): MedianAttributions {
  const first = nets[0];
  if (first === undefined) throw new Error('attributeMedians: no nets');
  const steps = opts.steps ?? IG_STEPS;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`attributeMedians: steps must be >= 1`);
  const { cols } = first;
  const H = first.horizons.length;
  if (z.length !== rows * cols) throw new RangeError(`attributeMedians: ${z.length} values for ${rows} × ${cols}`);
  const out = new Float32Array(rows * H * cols);
  const deep: QuantileNet[] = [];
  for (const net of nets) {
    if (target === 'median') {
      const linear = net.linearMedian();
      if (linear) addLinear(linear.kernel, z, rows, cols, H, 1 / nets.length, out);
      else deep.push(net);
    } else {
      const linear = net.linearWidth();
      if (linear) addLinearWidth(linear, z, rows, cols, H, 1 / nets.length, out);
      else deep.push(net);
    }
  }
  if (deep.length === 0) return { contributions: out, method: 'exact' };
  const chunk = Math.max(1, Math.floor((opts.chunkRows ?? CHUNK_ROWS) / (H * steps)));
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    addIntegratedGradients(
      target,
      deep,
      z.subarray(start * cols, (start + n) * cols),
      n,
      cols,
      H,
      steps,
      1 / nets.length,
      { out, offset: start * H * cols },
    );
  }
  return { contributions: out, method: `integrated-gradients:${steps}` };
}

/** What is attributed: the median, or the interval's width (upper − lower). */
type Target = 'median' | 'width';

/**
 * A linear net's width, exactly: for each of its two offset maps X (lower, upper), out[r, h, c] += weight ·
 * scale[h] · w_c · z_c · (softplus(X(z)) − softplus(X(0))) / (X(z) − X(0)), the slope's limit sigmoid(X(0)) when
 * X(z) = X(0). The contributions add up to width(z) − width(0).
 */
function addLinearWidth(
  linear: NonNullable<ReturnType<QuantileNet['linearWidth']>>,
  z: Float32Array,
  rows: number,
  cols: number,
  H: number,
  weight: number,
  out: Float32Array,
): void {
  const maps = [
    { kernel: linear.lower, bias: linear.lowerBias },
    { kernel: linear.upper, bias: linear.upperBias },
  ];
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < H; h++) {
      const o = (r * H + h) * cols;
      for (const { kernel, bias } of maps) {
        const x0 = bias[h]!;
        let x = x0;
        for (let c = 0; c < cols; c++) x += kernel[c * H + h]! * z[r * cols + c]!;
        const slope = Math.abs(x - x0) < 1e-9 ? 1 / (1 + Math.exp(-x0)) : (softplus(x) - softplus(x0)) / (x - x0);
        const k = weight * linear.scale[h]! * slope;
        for (let c = 0; c < cols; c++) out[o + c] = out[o + c]! + k * kernel[c * H + h]! * z[r * cols + c]!;
      }
    }
  }
}

/** log(1 + eˣ) without overflow. */
function softplus(v: number): number {
  return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
}

/** out[r, h, c] += weight · kernel[c, h] · z[r, c]: a linear median's exact contributions. */
function addLinear(
  kernel: Float64Array,
  z: Float32Array,
  rows: number,
  cols: number,
  H: number,
  weight: number,
  out: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < H; h++) {
      const o = (r * H + h) * cols;
      for (let c = 0; c < cols; c++) out[o + c] = out[o + c]! + weight * kernel[c * H + h]! * z[r * cols + c]!;
    }
  }
}

/**
 * out[r, h, c] += weight · IG_c of Σ nets' median h, for `rows` inputs at once. The nets' first layers are linear
 * (`QuantileNet.inputMaps`), so along the path α·z their outputs are α·maps: the rest of each net runs on the
 * path points (horizon, input, step) of the maps, one tf.grads for all of them with each row's output gradient
 * picking its horizon (a one-hot dy), and the mean gradient over the steps goes back through the maps once per
 * (horizon, input): the same integral as differentiating w.r.t. z at every point, at a fraction of the cost.
 * A tcn reads its series as a second input; its gradient goes back to the series' columns.
 */
function addIntegratedGradients(
  target: Target,
  nets: readonly QuantileNet[],
  z: Float32Array,
  rows: number,
  cols: number,
  H: number,
  steps: number,
  weight: number,
  to: { out: Float32Array; offset: number },
): void {
  const R = H * rows * steps;
  const dy = new Float32Array(R * H);
  for (let h = 0, p = 0; h < H; h++) for (let i = 0; i < rows * steps; i++, p++) dy[p * H + h] = weight;
  const seqCols = nets.map((n) => (n.spec.kind === 'tcn' ? n.spec.sequenceColumns : undefined));
  const series = seqCols.map((sc) => (sc ? pick(z, rows, cols, sc) : undefined));
  const inputShape = (j: number, n: number): [number, number, number] => {
    const { steps: t, sequenceColumns } = nets[j]!.spec;
    return [n, t, sequenceColumns.length / t];
  };
  const grads = tf.tidy(() => {
    const x = tf.tensor2d(z, [rows, cols]);
    const seq = series.map((v, j) => (v ? tf.tensor3d(v, inputShape(j, rows)) : undefined));
    const maps = nets.map((n, j) => n.inputMaps(x, seq[j]));
    // Path points α_s · map in (horizon, input, step) order.
    const alphas = tf
      .tensor1d(Float32Array.from({ length: steps }, (_, s) => (s + 0.5) / steps))
      .reshape([1, steps, 1]);
    const paths = maps.flat().map((m) => {
      const w = m.shape[1];
      const one = m
        .reshape([rows, 1, w])
        .mul(alphas)
        .reshape([rows * steps, w]);
      return tf.concat(Array.from({ length: H }, () => one)) as tf.Tensor2D;
    });
    // Net j's maps sit at first[j] … first[j] + maps[j].length − 1 of the flat list.
    const first = maps.map((_, j) => maps.slice(0, j).reduce((n, m) => n + m.length, 0));
    const output = (...ps: tf.Tensor[]) =>
      tf.addN(
        nets.map((n, j) => {
          const own = ps.slice(first[j], first[j]! + maps[j]!.length) as tf.Tensor2D[];
          return target === 'median' ? n.medianFromInputMaps(own) : n.widthFromInputMaps(own);
        }),
      );
    const alongPath = tf.grads(output)(paths, tf.tensor2d(dy, [R, H]));
    const means = alongPath.map((g) =>
      g
        .reshape([H, rows, steps, g.shape[1]!])
        .mean(2)
        .reshape([H * rows, -1]),
    );
    // Back through the (linear) maps: the input gradient, the same at any input, so at 0.
    const inputs: tf.Tensor[] = [tf.zeros([H * rows, cols])];
    for (const [j, v] of series.entries()) if (v) inputs.push(tf.zeros(inputShape(j, H * rows)));
    // Net j's series, if it has one, is input seriesAt[j] of `back`.
    const seriesAt = seqCols.map((sc, j) => (sc ? 1 + seqCols.slice(0, j).filter(Boolean).length : undefined));
    const back = (...xs: tf.Tensor[]) =>
      tf.addN(
        nets.flatMap((n, j) => {
          const at = seriesAt[j];
          const own = n.inputMaps(xs[0] as tf.Tensor2D, at === undefined ? undefined : (xs[at] as tf.Tensor3D));
          return own.map((m, i) => m.mul(means[first[j]! + i]!).sum());
        }),
      );
    return tf.grads(back)(inputs);
  });
  let g: Float32Array[];
  try {
    g = grads.map((t) => t.dataSync() as Float32Array);
  } finally {
    for (const t of grads) t.dispose();
  }
  // Fold each series' gradient back into its columns.
  const grad = g[0]!;
  let next = 1;
  for (const sc of seqCols) {
    if (!sc) continue;
    const gs = g[next++]!;
    for (let i = 0; i < H * rows; i++) {
      for (let p = 0; p < sc.length; p++) grad[i * cols + sc[p]!] = grad[i * cols + sc[p]!]! + gs[i * sc.length + p]!;
    }
  }
  const { out, offset } = to;
  for (let h = 0; h < H; h++) {
    for (let r = 0; r < rows; r++) {
      const o = offset + (r * H + h) * cols;
      const src = (h * rows + r) * cols;
      for (let c = 0; c < cols; c++) out[o + c] = out[o + c]! + grad[src + c]! * z[r * cols + c]!;
    }
  }
}

/** The columns `sc` of each of `rows` rows, in that order. */
function pick(x: Float32Array, rows: number, cols: number, sc: readonly number[]): Float32Array {
  const out = new Float32Array(rows * sc.length);
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < sc.length; p++) out[r * sc.length + p] = x[r * cols + sc[p]!]!;
  }
  return out;
}
