// Dataset examples as the dense arrays TensorFlow.js trains on.
import type { Example } from './dataset.js';

export interface Matrix {
  x: Float32Array;
  y: Float32Array;
  rows: number;
  cols: number;
  horizons: number;
}

/** Features (rows × cols) and targets (rows × horizons; NaN = unknown) of `examples`. */
export function toMatrix(examples: readonly Example[]): Matrix {
  const rows = examples.length;
  const cols = examples[0]?.features.length ?? 0;
  const horizons = examples[0]?.targets.length ?? 0;
  const x = new Float32Array(rows * cols);
  const y = new Float32Array(rows * horizons);
  examples.forEach((e, r) => {
    x.set(e.features, r * cols);
    y.set(e.targets, r * horizons);
  });
  return { x, y, rows, cols, horizons };
}
