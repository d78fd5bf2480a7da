// One place that imports TensorFlow.js and picks its backend, so every model shares one engine.
// Native bindings (`@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`) are used when a user has
// installed one: they are NOT dependencies (native builds fail on many machines), hence the dynamic
// imports. Otherwise the WASM backend (bundled, portable, fast for small dense nets), else plain JS.
import * as tf from '@tensorflow/tfjs';

export { tf };

/** Set TICKCAST_TF_BACKEND to one of these to skip the probing (e.g. `cpu` for bit-stable CI runs). */
const KNOWN = ['tensorflow', 'wasm', 'cpu'] as const;

let chosen: Promise<string> | undefined;

/**
 * Picks the fastest available backend once and logs one line saying which and why; later calls return the
 * same name. Order: tfjs-node-gpu, tfjs-node (both register 'tensorflow'), wasm, cpu.
 */
export function selectBackend(log: (line: string) => void = (line) => console.error(line)): Promise<string> {
  chosen ??= choose(log);
  return chosen;
}

async function choose(log: (line: string) => void): Promise<string> {
  const forced = process.env.TICKCAST_TF_BACKEND;
  if (forced) {
    if (!(KNOWN as readonly string[]).includes(forced)) {
      throw new Error(`TICKCAST_TF_BACKEND=${forced}: expected one of ${KNOWN.join(', ')}`);
    }
    // Backends other than cpu register themselves when their package is imported.
    if (forced === 'wasm') await importOptional('@tensorflow/tfjs-backend-wasm');
    if (forced === 'tensorflow' && (await importOptional('@tensorflow/tfjs-node-gpu')) !== undefined) {
      await importOptional('@tensorflow/tfjs-node');
    }
    const ok = await tryBackend(forced);
    if (!ok) throw new Error(`TICKCAST_TF_BACKEND=${forced}: that backend could not be initialised`);
    log(`tfjs backend: ${forced} (forced by TICKCAST_TF_BACKEND)`);
    return forced;
  }
  const failures: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const err = await importOptional(pkg);
    if (err === undefined && (await tryBackend('tensorflow'))) {
      log(`tfjs backend: tensorflow (native, from ${pkg})`);
      return 'tensorflow';
    }
    failures.push(`${pkg}: ${err ?? 'loaded but its backend did not initialise'}`);
  }
  const wasmErr = await importOptional('@tensorflow/tfjs-backend-wasm');
  if (wasmErr === undefined && (await tryBackend('wasm'))) {
    log('tfjs backend: wasm (no native binding installed; `npm i @tensorflow/tfjs-node` for more speed)');
    return 'wasm';
  }
  failures.push(`wasm: ${wasmErr ?? 'did not initialise'}`);
  await tf.setBackend('cpu');
  await tf.ready();
  log(`tfjs backend: cpu (pure JS, slowest; ${failures.join('; ')})`);
  return 'cpu';
}

/** undefined when the package loaded, else a short reason. */
async function importOptional(pkg: string): Promise<string | undefined> {
  try {
    // A variable specifier keeps TypeScript (and bundlers) from requiring the optional package.
    const specifier: string = pkg;
    await import(specifier);
    return undefined;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return code === 'ERR_MODULE_NOT_FOUND' ? 'not installed' : (e as Error).message.split('\n')[0];
  }
}

async function tryBackend(name: string): Promise<boolean> {
  try {
    if (!tf.findBackendFactory(name)) return false;
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok;
  } catch {
    return false;
  }
}

/**
 * The wasm backend's heap, for writing a batch where its kernels read it (`simd-clamp.ts`): its memory, its
 * allocator, and a float32 tensor made on a block of it (which then owns the block: disposing the tensor frees
 * it). Undefined unless the current backend is wasm with those parts as tfjs 4 has them (its emscripten module's
 * `asm.memory`, `_malloc`, `_free` and the backend's `makeOutput(shape, dtype, memoryOffset)`), and not shared
 * (the threaded build's): callers then upload as usual.
 */
export function wasmHeap():
  | {
      memory: WebAssembly.Memory;
      malloc(bytes: number): number;
      free(ptr: number): void;
      tensor2d(ptr: number, rows: number, cols: number): tf.Tensor2D;
      /** The backend it belongs to: a block is only good while that one is current. */
      backend: tf.KernelBackend;
    }
  | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as tf.KernelBackend & {
    wasm?: { asm?: { memory?: unknown }; _malloc?: (n: number) => number; _free?: (p: number) => void };
    makeOutput?: (shape: number[], dtype: 'float32', memoryOffset?: number) => tf.TensorInfo;
  };
  const wasm = backend.wasm;
  const memory = wasm?.asm?.memory;
  const { _malloc: malloc, _free: free } = wasm ?? {};
  const makeOutput = backend.makeOutput;
  if (
    !(memory instanceof WebAssembly.Memory) ||
    !(memory.buffer instanceof ArrayBuffer) ||
    typeof malloc !== 'function' ||
    typeof free !== 'function' ||
    typeof makeOutput !== 'function'
  ) {
    return undefined;
  }
  return {
    memory,
    // >>> 0: emscripten's malloc returns a signed offset (as the backend's own `move` reads it).
    malloc: (bytes) => malloc(bytes) >>> 0,
    free: (ptr) => free(ptr),
    tensor2d: (ptr, rows, cols) =>
      tf
        .engine()
        .makeTensorFromTensorInfo(makeOutput.call(backend, [rows, cols], 'float32', ptr), backend) as tf.Tensor2D,
    backend,
  };
}
