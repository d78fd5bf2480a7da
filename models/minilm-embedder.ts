// The embedded default embedder: all-MiniLM-L6-v2 (sentence-transformers), int8 ONNX, run
// in-process on the CPU by transformers.js (@huggingface/transformers on onnxruntime-node).
// 384-d, mean pooling over the attention mask, L2-normalised, 256-token limit, as
// sentence-transformers defines the model. The weights ship in the repository
// (models/embedding/all-MiniLM-L6-v2/, provenance and checksums in its README.md): nothing is
// downloaded, ever (env.allowRemoteModels = false). The model loads on the first embed(), after
// checking each file's sha256; calls run one at a time, texts sorted by length and cut into
// batches so short headlines are not padded to a long one.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
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

interface Loaded {
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
}

/** The MiniLM embedder; nothing loads until the first embed(). */
export function openMiniLmEmbedder(opts: MiniLmOptions = {}): Embedder {
  const dir = opts.dir ?? MINILM_DIR;
  const threads = opts.threads ?? 1;
  const batchSize = opts.batchSize ?? MINILM_BATCH;
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`${MINILM_ID}: threads must be ≥ 1, got ${threads}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`${MINILM_ID}: batchSize must be ≥ 1, got ${batchSize}`);
  }
  let loading: Promise<Loaded> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const loaded = () => {
    loading ??= load(dir, threads);
    return loading;
  };

  const embedAll = async (texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> => {
    signal?.throwIfAborted();
    const { tokenizer, model } = await loaded();
    const out = new Array<Float32Array>(texts.length);
    // Shortest first, so each batch pads to a length close to its own texts'.
    const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
    for (let start = 0; start < order.length; start += batchSize) {
      signal?.throwIfAborted();
      if (closed) throw new Error(`${MINILM_ID}: the embedder is closed`);
      const idx = order.slice(start, start + batchSize);
      const vectors = await embedBatch(
        tokenizer,
        model,
        idx.map((i) => texts[i]!),
      );
      idx.forEach((i, k) => {
        out[i] = vectors[k]!;
      });
    }
    return out;
  };

  return {
    id: MINILM_ID,
    dimension: MINILM_DIMENSION,
    embed(texts, o = {}) {
      if (closed) return Promise.reject(new Error(`${MINILM_ID}: the embedder is closed`));
      if (texts.length === 0) return Promise.resolve([]);
      const run = queue.then(() => embedAll(texts, o.signal));
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      closed = true;
      await queue;
      const model = loading ? await loading.then((l) => l.model).catch(() => undefined) : undefined;
      await model?.dispose();
    },
  };
}

async function load(dir: string, threads: number): Promise<Loaded> {
  await checkFiles(dir);
  let transformers: typeof import('@huggingface/transformers');
  try {
    transformers = await import('@huggingface/transformers');
  } catch (e) {
    throw new Error(
      `${MINILM_ID}: cannot load @huggingface/transformers (${(e as Error).message}); run \`npm install\`, or set TICKCAST_EMBEDDER=ollama`,
    );
  }
  const { env, AutoTokenizer, AutoModel } = transformers;
  env.allowRemoteModels = false;
  env.useFSCache = false;
  try {
    // An absolute path is not a hub id, so transformers.js reads the folder as it is.
    const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    const model = await AutoModel.from_pretrained(dir, {
      local_files_only: true,
      dtype: 'q8',
      device: 'cpu',
      session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    });
    return { tokenizer, model };
  } catch (e) {
    throw new Error(`${MINILM_ID}: cannot load the model from ${dir}: ${(e as Error).message}`);
  }
}

/** Each file present with its pinned sha256, else an error saying what is wrong and how to fix it. */
async function checkFiles(dir: string): Promise<void> {
  const missing = Object.keys(MINILM_FILES).filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new Error(
      `${MINILM_ID}: the model files are missing from ${dir}: ${missing.join(', ')}. They ship in the ` +
        'repository under models/embedding/all-MiniLM-L6-v2 (restore them with `git checkout -- models/embedding`; ' +
        'its README.md says where they come from), or set TICKCAST_EMBEDDER=ollama',
    );
  }
  for (const [file, expected] of Object.entries(MINILM_FILES)) {
    const actual = await sha256(join(dir, file));
    if (actual !== expected) {
      throw new Error(
        `${MINILM_ID}: ${join(dir, file)} has sha256 ${actual}, expected ${expected}: the file is damaged or another ` +
          'version; restore it with `git checkout -- models/embedding`',
      );
    }
  }
}

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

async function embedBatch(
  tokenizer: PreTrainedTokenizer,
  model: PreTrainedModel,
  texts: string[],
): Promise<Float32Array[]> {
  const inputs = tokenizer(texts, { padding: true, truncation: true, max_length: MINILM_MAX_TOKENS });
  const { last_hidden_state: hidden } = (await model(inputs)) as { last_hidden_state: Tensor };
  return meanPoolNormalise(hidden.data as Float32Array, hidden.dims, (inputs.attention_mask as Tensor).data);
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
