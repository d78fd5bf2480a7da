// The embedded default embedder: all-MiniLM-L6-v2 (sentence-transformers), int8 ONNX, run
// on the CPU by transformers.js (@huggingface/transformers on onnxruntime-node) in a worker
// thread (minilm-worker.ts), so the caller's event loop, which runs the rest of the pipeline,
// stays free while headlines are embedded. 384-d, mean pooling over the attention mask,
// L2-normalised, 256-token limit, as sentence-transformers defines the model. The weights ship in
// the repository (models/embedding/all-MiniLM-L6-v2/, provenance and checksums in its README.md):
// nothing is downloaded, ever (env.allowRemoteModels = false). The worker starts, checks each
// file's sha256 and loads the model on the first embed(); calls run one at a time in call order,
// texts sorted by length and cut into batches so short headlines are not padded to a long one.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Embedder } from './embedder.js';

export const MINILM_ID = 'transformers.js:all-MiniLM-L6-v2@q8';
export const MINILM_DIMENSION = 384;
/** The folder in transformers.js layout that ships with the repository. */
export const MINILM_DIR = fileURLToPath(new URL('./embedding/all-MiniLM-L6-v2', import.meta.url));
/** sentence-transformers' max_seq_length for this model; longer texts are truncated. */
export const MINILM_MAX_TOKENS = 256;
/** Texts per ONNX run (see models/README.md, "Embedders", for the measurements behind it). */
export const MINILM_BATCH = 16;

/** Every file the model reads, with its sha256 (the same list is in the folder's README.md). */
export const MINILM_FILES: Readonly<Record<string, string>> = {
  'config.json': '953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41',
  'tokenizer.json': 'be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037',
  'tokenizer_config.json': 'acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b',
  'onnx/model_quantized.onnx': '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6',
};

export interface MiniLmOptions {
  /** The model folder (transformers.js layout); default: the one in the repository. */
  dir?: string;
  /** onnxruntime intra-op threads; default 1 (more threads on shared cores were slower). */
  threads?: number;
  /** Texts per ONNX run; default MINILM_BATCH. */
  batchSize?: number;
}

/** What a worker is started with (its workerData). */
export interface MiniLmWorkerData {
  dir: string;
  threads: number;
  batchSize: number;
}

/** Messages to the worker. `crash` is for tests: the worker throws `message` uncaught. */
export type ToMiniLmWorker =
  | { type: 'embed'; id: number; texts: readonly string[] }
  | { type: 'cancel'; id: number }
  | { type: 'crash'; message: string };

/**
 * Messages from the worker: `started` when it takes a request up (a cancel then stops it between
 * batches, where before it drops it from the queue), and one answer per request it ran (none for a
 * cancelled one).
 */
export type FromMiniLmWorker =
  | { type: 'started'; id: number }
  | { type: 'vectors'; id: number; vectors: Float32Array[] }
  | { type: 'error'; id: number; message: string };

/**
 * The worker's entry point. Node starts no worker from a .ts file, and the tsx hooks that
 * bin/tickcast.js registers in the main thread do not reach workers, so a plain .mjs entry loads
 * minilm-worker.ts through tsx's tsImport (the same under tsx, `node bin/tickcast.js` and vitest).
 */
const WORKER_ENTRY = new URL('./minilm-worker-entry.mjs', import.meta.url);

interface Pending {
  resolve(vectors: Float32Array[]): void;
  reject(error: unknown): void;
  /** Removes the abort listener. */
  release(): void;
}

const workers = new WeakMap<Embedder, () => Worker | undefined>();

/** For tests: the worker an embedder runs now (undefined before the first embed, after close or a crash). */
export function miniLmWorkerOf(embedder: Embedder): Worker | undefined {
  return workers.get(embedder)?.();
}

/**
 * The MiniLM embedder; no worker starts and nothing loads until the first embed(). A call
 * aborted by its signal rejects at once with the signal's reason (the worker skips it if it has
 * not started it, or stops it between batches); close() rejects the calls still waiting and
 * terminates the worker. If the worker dies, the calls it held reject and the next call starts
 * a new one. An idle worker does not keep the process alive.
 */
export function openMiniLmEmbedder(opts: MiniLmOptions = {}): Embedder {
  const dir = opts.dir ?? MINILM_DIR;
  const threads = opts.threads ?? 1;
  const batchSize = opts.batchSize ?? MINILM_BATCH;
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`${MINILM_ID}: threads must be ≥ 1, got ${threads}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`${MINILM_ID}: batchSize must be ≥ 1, got ${batchSize}`);
  }
  const workerData: MiniLmWorkerData = { dir, threads, batchSize };
  let worker: Worker | undefined;
  let nextId = 0;
  /** The calls sent to `worker`, in call order. */
  const pending = new Map<number, Pending>();
  let closed = false;

  /** The call's entry, removed; the worker is unref'd when no call waits for it. */
  const take = (id: number): Pending | undefined => {
    const p = pending.get(id);
    if (!p) return undefined;
    pending.delete(id);
    p.release();
    if (pending.size === 0) worker?.unref();
    return p;
  };

  const rejectAll = (error: Error) => {
    for (const id of [...pending.keys()]) take(id)?.reject(error);
  };

  /** A worker that failed: its calls reject, and the next embed() starts a new worker. */
  const failed = (w: Worker, error: Error) => {
    if (worker !== w) return; // closed, or already replaced
    worker = undefined;
    rejectAll(error);
  };

  const start = (): Worker => {
    const w = new Worker(WORKER_ENTRY, { workerData, name: MINILM_ID });
    w.on('message', (m: FromMiniLmWorker) => {
      if (worker !== w || m.type === 'started') return;
      if (m.type === 'vectors') take(m.id)?.resolve(m.vectors);
      else take(m.id)?.reject(new Error(m.message));
    });
    w.on('error', (e) =>
      failed(w, new Error(`${MINILM_ID}: the embedding worker crashed: ${e.message}`, { cause: e })),
    );
    w.on('exit', (code) => failed(w, new Error(`${MINILM_ID}: the embedding worker exited with code ${code}`)));
    w.on('messageerror', (e) => {
      failed(w, new Error(`${MINILM_ID}: a message from the embedding worker could not be read: ${e.message}`));
      void w.terminate();
    });
    return w;
  };

  const embedder: Embedder = {
    id: MINILM_ID,
    dimension: MINILM_DIMENSION,
    embed(texts, o = {}) {
      if (closed) return Promise.reject(new Error(`${MINILM_ID}: the embedder is closed`));
      const signal = o.signal;
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (texts.length === 0) return Promise.resolve([]);
      worker ??= start();
      const w = worker;
      const id = nextId++;
      return new Promise<Float32Array[]>((resolve, reject) => {
        const onAbort = () => {
          if (!take(id)) return;
          w.postMessage({ type: 'cancel', id } satisfies ToMiniLmWorker);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        pending.set(id, { resolve, reject, release: () => signal?.removeEventListener('abort', onAbort) });
        w.ref();
        try {
          w.postMessage({ type: 'embed', id, texts } satisfies ToMiniLmWorker);
        } catch (e) {
          take(id);
          reject(e);
        }
      });
    },
    async close() {
      closed = true;
      const w = worker;
      worker = undefined;
      rejectAll(new Error(`${MINILM_ID}: the embedder is closed`));
      await w?.terminate();
    },
  };
  workers.set(embedder, () => worker);
  return embedder;
}

/**
 * Mean of each row's token vectors where the mask is 1, scaled to unit length.
 * `hidden` is [batch, tokens, dim] row-major; `mask` is [batch, tokens].
 */
export function meanPoolNormalise(
  hidden: Float32Array,
  dims: readonly number[],
  mask: ArrayLike<number | bigint>,
): Float32Array[] {
  const [batch, tokens, dim] = dims as [number, number, number];
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const sum = new Float64Array(dim);
    let count = 0;
    for (let t = 0; t < tokens; t++) {
      if (!Number(mask[b * tokens + t])) continue;
      count++;
      const base = (b * tokens + t) * dim;
      for (let k = 0; k < dim; k++) sum[k]! += hidden[base + k]!;
    }
    let norm = 0;
    for (let k = 0; k < dim; k++) norm += sum[k]! * sum[k]!;
    // The mean's scale cancels in the normalisation: divide the sum by its own norm.
    const scale = count > 0 && norm > 0 ? 1 / Math.sqrt(norm) : 0;
    const v = new Float32Array(dim);
    for (let k = 0; k < dim; k++) v[k] = sum[k]! * scale;
    out.push(v);
  }
  return out;
}
