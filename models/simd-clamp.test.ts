import { describe, expect, it } from 'vitest';
import type { Features } from '../schemas/index.js';
import { simdClamp } from './simd-clamp.js';

const row = (values: number[]): Features => ({
  symbol: 'A',
  ts: 0,
  close: 1,
  spec: 'basic@test',
  values: Float32Array.from(values),
  history: 1,
});

// Four columns bounded by [-1, 1], [0, 2], [-5, -4], [10, 20]; a non-finite value becomes the column's mean.
const lo = Float32Array.of(-1, 0, -5, 10);
const hi = Float32Array.of(1, 2, -4, 20);
const fill = Float32Array.of(0, 1, -4.5, 15);

/**
 * The rule as the JS loop (`clampFeatures`) applies it to a row as a Float32Array holds it: in range as it is, past
 * a bound the bound, ±∞ and NaN the mean.
 */
const reference = (values: readonly number[]): number[] =>
  values.map(Math.fround).map((v, i) => {
    const c = i % lo.length;
    if (v >= lo[c]! && v <= hi[c]!) return Math.fround(v);
    if (v > hi[c]!) return v < Number.POSITIVE_INFINITY ? hi[c]! : fill[c]!;
    if (v < lo[c]!) return v > Number.NEGATIVE_INFINITY ? lo[c]! : fill[c]!;
    return fill[c]!;
  });

describe('simdClamp', () => {
  it('clamps each column to its bounds and puts the mean for ±∞ and NaN, as float32', () => {
    const clamp = simdClamp(lo, hi, fill)!;
    const values = [
      [0.5, 2.5, -4.2, 16], // in range; past the bound; in range; in range
      [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1e39], // -1e39 is −∞ in a float32 row
      [-0, 0, -5, 20], // −0 kept as it is; on a bound: itself
      [0.1, 1e-45, -4.000000001, 15.3],
    ];
    const x = clamp.clamp(values.map(row), 16)!;
    expect([...x]).toEqual(reference(values.flat()));
    expect(Object.is(x[8], -0)).toBe(true);
    expect(x[1]).toBe(2);
    expect(x[2]).toBe(Math.fround(-4.2));
    expect([...x.subarray(4, 8)]).toEqual([0, 1, -4.5, 15]); // NaN, ±∞ → the mean
  });

  it('serves batches of any size, larger ones growing its memory, and leaves the tail of the view to the caller', () => {
    const clamp = simdClamp(lo, hi, fill)!;
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed / 2147483647) * 60 - 30;
    };
    for (const rows of [1, 64, 65, 130, 20_000, 3]) {
      const inputs = Array.from({ length: rows }, () => row([random(), random(), random(), random()]));
      const x = clamp.clamp(inputs, rows * 4 + 8)!;
      expect(x).toHaveLength(rows * 4 + 8);
      expect([...x.subarray(0, rows * 4)]).toEqual(reference(inputs.flatMap((f) => [...f.values])));
    }
    expect(clamp.clamp([], 0)).toHaveLength(0);
  });

  it('is undefined for a batch with an input of another length or, given one, another feature spec', () => {
    const clamp = simdClamp(lo, hi, fill)!;
    const ok = row([0, 0, 0, 0]);
    expect(clamp.clamp([ok, row([0, 0, 0, 0, 0])], 8)).toBeUndefined();
    expect(clamp.clamp([ok, row([0, 0, 0])], 8)).toBeUndefined();
    expect(clamp.clamp([ok, { ...ok, spec: 'other@1' }], 8, 'basic@test')).toBeUndefined();
    expect([...clamp.clamp([ok, ok], 8, 'basic@test')!]).toEqual([0, 0, -4, 10, 0, 0, -4, 10]);
  });

  it("works in another module's memory (a heap): each batch's rows a block of it that the caller frees", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    let next = 8;
    const freed: number[] = [];
    const taken: number[] = [];
    const heap = {
      memory,
      malloc: (bytes: number) => {
        const ptr = next;
        taken.push(ptr);
        next += Math.ceil(bytes / 8) * 8;
        if (next > memory.buffer.byteLength) memory.grow(Math.ceil((next - memory.buffer.byteLength) / 65_536));
        return ptr;
      },
      free: (ptr: number) => freed.push(ptr),
    };
    const clamp = simdClamp(lo, hi, fill, heap)!;
    const values = [
      [0.5, 2.5, -4.2, 1e30],
      [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1e39],
    ];
    const x = clamp.clamp(values.map(row), 8)!;
    expect(x.buffer).toBe(memory.buffer);
    expect([...x]).toEqual(reference(values.flat()));
    const xAt = x.byteOffset; // the view is detached when the memory grows
    // A batch past the memory's size grows it; the values are still right.
    const many = Array.from({ length: 5000 }, (_, i) => row([i / 1000 - 2, i / 1000, -4.5, i / 100]));
    const y = clamp.clamp(many, 5000 * 4)!;
    expect(y.byteOffset).toBeGreaterThan(xAt);
    expect([...y]).toEqual(reference(many.flatMap((f) => [...f.values])));
    // A batch it refuses gives its blocks back, and each batch its scratch: only the rows' blocks stay taken.
    expect(clamp.clamp([row([0, 0, 0])], 4)).toBeUndefined();
    expect(taken.filter((p) => !freed.includes(p))).toEqual([xAt, y.byteOffset]);
  });

  it('is null where a SIMD step would straddle rows: a column count that is not a multiple of 4', () => {
    expect(simdClamp(Float32Array.of(0, 0, 0), Float32Array.of(1, 1, 1), Float32Array.of(0, 0, 0))).toBeNull();
  });
});
