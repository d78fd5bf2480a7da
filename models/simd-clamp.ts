// The batch path's clamp (`clampFeatures`' rule) in WebAssembly SIMD. The feature rows are JS arrays of doubles:
// `Float64Array.set` copies each row into wasm memory as it is (V8 copies a packed double array without converting
// a value), and one wasm call clamps the whole batch two doubles a lane and writes it as float32, the layout the
// nets' upload reads. In JS the same rule cost ~3 ms per 5,000 × 180 values (a compare, a branch and a float32
// store per value); here the copy is ~0.9 ms and the clamp a fraction of it. The values are the JS loop's to the bit
// (−0 and values past float32's range included: every double is compared as a double, then rounded once).
//
// The module, hand-assembled below (WebAssembly text):
//
//   (func (export "clamp") (param $src i32) (param $dst i32) (param $lo i32) (param $hi i32) (param $fill i32)
//                          (param $rows i32) (param $rowBytes i32)  ;; cols × 8; cols a multiple of 4
//     (local $end i32) (local $c i32) (local $d i32) (local $s v128) (local $r v128) (local $l v128) (local $h v128)
//     end = src + rows × rowBytes; d = dst
//     for each row (src < end): for c = 0; c < rowBytes; c += 32:   ;; 4 doubles → 4 floats
//       for off in (0, 16):
//         s = load(src + c + off); l = load(lo + c + off); h = load(hi + c + off)
//         r = bitselect(l, s, f64x2.lt(s, l))                  ;; below: the lower bound
//         r = bitselect(h, r, f64x2.gt(s, h))                  ;; above: the upper bound
//         r = bitselect(r, load(fill + c + off), f64x2.eq(s − s, 0))   ;; ±∞ and NaN (s − s is NaN): the mean
//         f32x4.demote_f64x2_zero(r)
//       store(d, shuffle(first two floats, second two floats)); d += 16
//       src += rowBytes after each row
//
// Comparisons and selects rather than f64x2.min/max: a value inside the bounds passes through untouched (min/max
// would turn −0 into +0 at a bound of 0), and NaN fails both comparisons, as in the JS loop.

import type { Features } from '../schemas/index.js';

/** A clamp in wasm memory for one net's bounds (`FoldedNet`): rows in, float32 rows out. */
export interface SimdClamp {
  /**
   * The inputs' values clamped as `clampFeatures` clamps them, rows × cols float32, at the start of a view of
   * `size` values (≥ rows × cols; the rest is the caller's, e.g. a tcn's series). Undefined when an input has
   * another number of values or, given `spec`, another feature spec: the caller says why (the rows are checked as
   * they are copied, not in a pass of their own). In the clamp's own memory the view is valid until the next call;
   * in a `WasmHeap` it is a new block of that heap each call, at the view's byteOffset, which the caller owns
   * (a tensor made on it frees it).
   */
  clamp(inputs: readonly Features[], size: number, spec?: string): Float32Array | undefined;
}

/**
 * Another wasm module's memory and its allocator (the tfjs wasm backend's heap, `wasmHeap()` in tf-backend.ts):
 * the clamp then writes the batch where the nets read it, and the upload's copy of it is saved.
 */
export interface WasmHeap {
  memory: WebAssembly.Memory;
  /** A block of `bytes` (8-aligned), its byte offset; 0 when there is no room. */
  malloc(bytes: number): number;
  free(ptr: number): void;
}

const PAGE = 65_536;
/** Rows copied and clamped at a time. */
const CHUNK = 64;

/**
 * A SIMD clamp for columns bounded by `lo`/`hi`, non-finite values becoming `fill`, in its own memory or, given
 * one, in `heap`; null where it cannot serve: a column count that is not a multiple of 4 (a SIMD step is 4 columns
 * of one row), or no wasm SIMD.
 */
export function simdClamp(lo: Float32Array, hi: Float32Array, fill: Float32Array, heap?: WasmHeap): SimdClamp | null {
  const cols = lo.length;
  if (cols === 0 || cols % 4 !== 0 || !module(false) || (heap && !module(true))) return null;
  const instance = heap
    ? new WebAssembly.Instance(module(true)!, { env: { memory: heap.memory } })
    : new WebAssembly.Instance(module(false)!, {});
  const memory = heap ? heap.memory : (instance.exports.memory as WebAssembly.Memory);
  const run = instance.exports.clamp as (...args: number[]) => void;
  // Bytes from `base`: lo, hi, fill as doubles (cols × 8 each), then a chunk of rows' doubles; then, in its own
  // memory, the batch's float32 rows. In a heap both are blocks taken per batch, the scratch given back at its end
  // (nothing of the heap is held between batches: a model has no dispose to give it back).
  const scratch = 3 * cols * 8 + CHUNK * cols * 8;
  let f64 = new Float64Array(memory.buffer);
  let f32 = new Float32Array(memory.buffer);
  const writeBounds = (base: number) => {
    f64.set(lo, base / 8);
    f64.set(hi, base / 8 + cols);
    f64.set(fill, base / 8 + 2 * cols);
  };
  if (!heap) writeBounds(0);
  const take = (bytes: number): number => {
    const ptr = heap!.malloc(bytes);
    if (ptr === 0) throw new RangeError(`simdClamp: no room for ${bytes} bytes in the wasm heap`);
    return ptr;
  };
  return {
    clamp(inputs, size, spec) {
      const rows = inputs.length;
      let base = 0;
      let dst = scratch;
      if (heap) {
        dst = take(Math.max(4, size * 4));
        try {
          base = take(scratch);
        } catch (e) {
          heap.free(dst);
          throw e;
        }
      } else if (dst + size * 4 > memory.buffer.byteLength) {
        memory.grow(Math.ceil((dst + size * 4 - memory.buffer.byteLength) / PAGE));
      }
      // Views again after a growth (a heap's malloc may grow it too).
      if (f64.buffer !== memory.buffer) {
        f64 = new Float64Array(memory.buffer);
        f32 = new Float32Array(memory.buffer);
      }
      if (heap) writeBounds(base);
      const src = base + 3 * cols * 8;
      let done = false;
      try {
        // A chunk at a time, so the doubles are clamped while they are still in the cache.
        let touched = 0;
        for (let from = 0; from < rows; from += CHUNK) {
          const to = Math.min(rows, from + CHUNK);
          // The next chunk's rows touched first: their objects and arrays lie anywhere in the JS heap, and loads
          // that do not wait on each other run side by side, where the copy below would wait for each row in turn
          // (~0.3 ms of predictBatch for 5,000 inputs, old and new alternated in one process; touching every cache
          // line of the rows, not only the first, was slower).
          for (let i = to, end = Math.min(rows, to + CHUNK); i < end; i++) touched += inputs[i]!.values[0]!;
          for (let i = from; i < to; i++) {
            const f = inputs[i]!;
            const v = f.values;
            // Here rather than in a pass before: each input is then read once (a separate check cost ~0.1–0.4 ms).
            if (v.length !== cols || (spec !== undefined && f.spec !== spec)) return undefined;
            f64.set(v, src / 8 + (i - from) * cols);
          }
          run(src, dst + from * cols * 4, base, base + cols * 8, base + 2 * cols * 8, to - from, cols * 8);
        }
        _sink = touched;
        done = true;
        return f32.subarray(dst / 4, dst / 4 + size);
      } finally {
        if (heap) {
          heap.free(base);
          // The rows' block is the caller's once they are clamped; until then, the clamp's.
          if (!done) heap.free(dst);
        }
      }
    },
  };
}

/** Where the touched values go, so the loads are not optimised away. */
let _sink = 0;

const compiled = new Map<boolean, WebAssembly.Module | null>();

/** The compiled module (its own memory, or `imported` one), once; null where this WebAssembly has no SIMD. */
function module(imported: boolean): WebAssembly.Module | null {
  if (!compiled.has(imported)) {
    const bytes = moduleBytes(imported);
    compiled.set(imported, WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null);
  }
  return compiled.get(imported)!;
}

function moduleBytes(imported: boolean): Uint8Array<ArrayBuffer> {
  const [src, dst, lo, hi, fill, rows, rowBytes] = [0, 1, 2, 3, 4, 5, 6];
  const [end, c, d, s, r, l, h] = [7, 8, 9, 10, 11, 12, 13];
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const tee = (i: number) => [0x22, i];
  const simd = (op: number) => [0xfd, ...leb(op)];
  const load = (offset: number) => [...simd(0x00), 0x00, offset]; // memarg: align hint 1, offset (< 128)
  const at = (ptr: number, offset: number) => [...get(ptr), ...get(c), 0x6a, ...load(offset)];
  const I32_ADD = 0x6a;
  const [F64X2_EQ, F64X2_LT, F64X2_GT, F64X2_SUB] = [0x47, 0x49, 0x4a, 0xf1];
  const [BITSELECT, DEMOTE, SHUFFLE, CONST, STORE] = [0x52, 0x5e, 0x0d, 0x0c, 0x0b];
  const half = (offset: number) => [
    ...at(src, offset),
    ...set(s),
    ...at(lo, offset),
    ...set(l),
    ...at(hi, offset),
    ...set(h),
    ...[...get(l), ...get(s), ...get(s), ...get(l), ...simd(F64X2_LT), ...simd(BITSELECT), ...set(r)],
    ...[...get(h), ...get(r), ...get(s), ...get(h), ...simd(F64X2_GT), ...simd(BITSELECT)],
    ...at(fill, offset),
    ...[...get(s), ...get(s), ...simd(F64X2_SUB), ...simd(CONST), ...new Array(16).fill(0), ...simd(F64X2_EQ)],
    ...simd(BITSELECT),
    ...simd(DEMOTE),
  ];
  const code = [
    ...[...get(src), ...get(rows), ...get(rowBytes), 0x6c, I32_ADD, ...set(end)], // end = src + rows × rowBytes
    ...[...get(dst), ...set(d)],
    ...[0x02, 0x40, 0x03, 0x40], // block, loop (rows)
    ...[...get(src), ...get(end), 0x4f, 0x0d, 1], // src >= end: out
    ...[0x41, 0, ...set(c)],
    ...[0x03, 0x40], // loop (4 columns at a time)
    ...get(d),
    ...half(0),
    ...half(16),
    ...simd(SHUFFLE),
    ...[0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23], // the two halves' floats
    ...[...simd(STORE), 0x00, 0],
    ...[...get(d), 0x41, 16, I32_ADD, ...set(d)],
    ...[...get(c), 0x41, 32, I32_ADD, ...tee(c), ...get(rowBytes), 0x49, 0x0d, 0], // c < rowBytes: again
    0x0b,
    ...[...get(src), ...get(rowBytes), I32_ADD, ...set(src), 0x0c, 0], // next row
    ...[0x0b, 0x0b, 0x0b], // loop, block, function
  ];
  const body = [2, 3, 0x7f, 4, 0x7b, ...code]; // locals: 3 × i32, 4 × v128
  const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
  const name = (text: string) => [text.length, ...new TextEncoder().encode(text)];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, [1, 0x60, 7, ...new Array(7).fill(0x7f), 0]), // type: (i32 × 7) → ()
    ...(imported ? section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]) : []), // env.memory, ≥ 1 page
    ...section(3, [1, 0]), // one function of that type
    ...(imported ? [] : section(5, [1, 0x00, 1])), // one memory, one page to start
    ...(imported
      ? section(7, [1, ...name('clamp'), 0x00, 0])
      : section(7, [2, ...name('memory'), 0x02, 0, ...name('clamp'), 0x00, 0])),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

/** Unsigned LEB128. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}
