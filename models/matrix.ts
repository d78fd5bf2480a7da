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

/**
 * Targets minus each day's cross-sectional mean (per horizon, over the symbols with a known
 * target): the market's move, which no per-symbol feature predicts, taken out of the training
 * signal so the nets learn what differs between symbols. `examples` are grouped by day, as a
 * Dataset keeps them; returns a new array.
 */
export function demeanByDay(examples: readonly Example[], y: Float32Array, horizons: number): Float32Array {
  const out = new Float32Array(y);
  for (let start = 0; start < examples.length; ) {
    let end = start;
    while (end < examples.length && examples[end]!.ts === examples[start]!.ts) end++;
    for (let h = 0; h < horizons; h++) {
      let sum = 0;
      let n = 0;
      for (let r = start; r < end; r++) {
        const v = y[r * horizons + h]!;
        if (Number.isFinite(v)) {
          sum += v;
          n++;
        }
      }
      if (n === 0) continue;
      const mean = sum / n;
      for (let r = start; r < end; r++) out[r * horizons + h]! -= mean;
    }
    start = end;
  }
  return out;
}
