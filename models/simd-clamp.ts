// The batch path's clamp (`clampFeatures`' rule) in WebAssembly SIMD. A feature row is a Float32Array
// (schemas/logical-types.ts): `Float32Array.set` copies it into wasm memory whole, where the nets' upload reads
// the batch, and one wasm call per chunk of rows clamps them there, in place, four floats a lane. In JS the same
// rule cost ~3 ms per 5,000 × 180 values (a compare, a branch and a store per value). The values are the JS
// loop's to the bit (−0 included): a float32 value compared with float32 bounds is the double comparison.
//
// The module, hand-assembled below (WebAssembly text):
//
//   (func (export "clamp") (param $x i32) (param $lo i32) (param $hi i32) (param $fill i32)
//                          (param $rows i32) (param $rowBytes i32)  ;; cols × 4; cols a multiple of 4
//     (local $end i32) (local $c i32) (local $s v128)
//     end = x + rows × rowBytes
//     for each row (x < end): for c = 0; c < rowBytes; c += 16:   ;; 4 floats
//       s = load(x + c)
//       r = f32x4.pmax(s, load(lo + c))                          ;; s < lo ? lo : s
//       r = f32x4.pmin(r, load(hi + c))                          ;; hi < r ? hi : r
//       store(x + c, bitselect(r, load(fill + c), f32x4.eq(s − s, 0)))   ;; ±∞ and NaN (s − s is NaN): the mean
//       x += rowBytes after each row
//
// pmin/pmax (a compare and a select each) rather than f32x4.min/max: a value inside the bounds passes through
// untouched (min/max would turn −0 into +0 at a bound of 0), and NaN fails both comparisons, as in the JS loop.

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
  // Bytes from `base`: lo, hi, fill (cols × 4 each); then, in its own memory, the batch's rows (16-aligned). In a
  // heap both are blocks taken per batch, the bounds given back at its end (nothing of the heap is held between
  // batches: a model has no dispose to give it back).
  const bounds = 3 * cols * 4;
  const rowsAt = Math.ceil(bounds / 16) * 16;
  let f32 = new Float32Array(memory.buffer);
  const writeBounds = (base: number) => {
    f32.set(lo, base / 4);
    f32.set(hi, base / 4 + cols);
    f32.set(fill, base / 4 + 2 * cols);
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
      let dst = rowsAt;
      if (heap) {
        dst = take(Math.max(4, size * 4));
        try {
          base = take(bounds);
        } catch (e) {
          heap.free(dst);
          throw e;
        }
      } else if (dst + size * 4 > memory.buffer.byteLength) {
        memory.grow(Math.ceil((dst + size * 4 - memory.buffer.byteLength) / PAGE));
      }
      // A view again after a growth (a heap's malloc may grow it too).
      if (f32.buffer !== memory.buffer) f32 = new Float32Array(memory.buffer);
      if (heap) writeBounds(base);
      let done = false;
      try {
        // A chunk at a time, so the rows are clamped while they are still in the cache.
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
            f32.set(v, dst / 4 + i * cols);
          }
          run(dst + from * cols * 4, base, base + cols * 4, base + 2 * cols * 4, to - from, cols * 4);
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
  const [x, lo, hi, fill, rows, rowBytes] = [0, 1, 2, 3, 4, 5];
  const [end, c, s] = [6, 7, 8];
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const tee = (i: number) => [0x22, i];
  const simd = (op: number) => [0xfd, ...leb(op)];
  const I32_ADD = 0x6a;
  const [LOAD, STORE, CONST, BITSELECT] = [0x00, 0x0b, 0x0c, 0x52];
  const [F32X4_EQ, F32X4_SUB, F32X4_PMIN, F32X4_PMAX] = [0x41, 0xe5, 0xea, 0xeb];
  const at = (ptr: number) => [...get(ptr), ...get(c), I32_ADD]; // ptr + c
  const load = (ptr: number) => [...at(ptr), ...simd(LOAD), 0x00, 0]; // memarg: align hint 1, offset 0
  const code = [
    ...[...get(x), ...get(rows), ...get(rowBytes), 0x6c, I32_ADD, ...set(end)], // end = x + rows × rowBytes
    ...[0x02, 0x40, 0x03, 0x40], // block, loop (rows)
    ...[...get(x), ...get(end), 0x4f, 0x0d, 1], // x >= end: out
    ...[0x41, 0, ...set(c)],
    ...[0x03, 0x40], // loop (4 columns at a time)
    ...at(x), // the store's address
    ...[...load(x), ...tee(s)],
    ...[...load(lo), ...simd(F32X4_PMAX)],
    ...[...load(hi), ...simd(F32X4_PMIN)],
    ...load(fill),
    ...[...get(s), ...get(s), ...simd(F32X4_SUB), ...simd(CONST), ...new Array(16).fill(0), ...simd(F32X4_EQ)],
    ...simd(BITSELECT),
    ...[...simd(STORE), 0x00, 0],
    ...[...get(c), 0x41, 16, I32_ADD, ...tee(c), ...get(rowBytes), 0x49, 0x0d, 0], // c < rowBytes: again
    0x0b,
    ...[...get(x), ...get(rowBytes), I32_ADD, ...set(x), 0x0c, 0], // next row
    ...[0x0b, 0x0b, 0x0b], // loop, block, function
  ];
  const body = [2, 2, 0x7f, 1, 0x7b, ...code]; // locals: 2 × i32, 1 × v128
  const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
  const name = (text: string) => [text.length, ...new TextEncoder().encode(text)];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, [1, 0x60, 6, ...new Array(6).fill(0x7f), 0]), // type: (i32 × 6) → ()
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
