// The MiniLM model in a worker thread (started by openMiniLmEmbedder, through
// minilm-worker-entry.mjs): checks the files' sha256 and loads the model on the first request,
// then runs requests one at a time in the order they came, each sorted by length and cut into
// batches; the vectors go back transferred, not copied. A cancelled request is skipped if it has
// not started, else stopped between batches; it gets no answer (the caller has already rejected).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import {
  type FromMiniLmWorker,
  MINILM_FILES,
  MINILM_ID,
  MINILM_MAX_TOKENS,
  type MiniLmWorkerData,
  meanPoolNormalise,
  type ToMiniLmWorker,
} from './minilm-embedder.js';

interface Loaded {
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
}

const port = parentPort;
if (!port) throw new Error(`${MINILM_ID}: minilm-worker.ts runs in a worker thread (openMiniLmEmbedder starts it)`);
const { dir, threads, batchSize } = workerData as MiniLmWorkerData;

let loading: Promise<Loaded> | undefined;
/** Requests not started yet, in order. */
const queue: { id: number; texts: readonly string[] }[] = [];
/** The request running now, and whether it was cancelled. */
let current: { id: number; cancelled: boolean } | undefined;
let draining = false;

port.on('message', (m: ToMiniLmWorker) => {
  switch (m.type) {
    case 'embed':
      queue.push(m);
      void drain();
      break;
    case 'cancel': {
      const i = queue.findIndex((r) => r.id === m.id);
      if (i >= 0) queue.splice(i, 1);
      else if (current?.id === m.id) current.cancelled = true;
      break;
    }
    case 'crash':
      throw new Error(m.message);
  }
});

/** Lets queued messages (cancels) in between requests and batches. */
const yieldToMessages = () => new Promise<void>((resolve) => setImmediate(resolve));

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    for (;;) {
      await yieldToMessages();
      const request = queue.shift();
      if (!request) return;
      const run = { id: request.id, cancelled: false };
      current = run;
      port!.postMessage({ type: 'started', id: run.id } satisfies FromMiniLmWorker);
      try {
        const vectors = await embedAll(request.texts, () => run.cancelled);
        if (vectors) {
          const answer: FromMiniLmWorker = { type: 'vectors', id: run.id, vectors };
          port!.postMessage(
            answer,
            vectors.map((v) => v.buffer as ArrayBuffer),
          );
        }
      } catch (e) {
        if (!run.cancelled)
          port!.postMessage({ type: 'error', id: run.id, message: (e as Error).message } satisfies FromMiniLmWorker);
      } finally {
        current = undefined;
      }
    }
  } finally {
    draining = false;
  }
}

/** The request's vectors in input order, or undefined if it was cancelled. */
async function embedAll(texts: readonly string[], cancelled: () => boolean): Promise<Float32Array[] | undefined> {
  loading ??= load();
  const { tokenizer, model } = await loading;
  const out = new Array<Float32Array>(texts.length);
  // Shortest first, so each batch pads to a length close to its own texts'.
  const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
  for (let start = 0; start < order.length; start += batchSize) {
    if (start > 0) await yieldToMessages();
    if (cancelled()) return undefined;
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
}

async function load(): Promise<Loaded> {
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
