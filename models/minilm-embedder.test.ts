// The shipped MiniLM embedder against a second implementation: vectors that numpy computed from
// the model's original float32 weights (models/embedding/minilm-reference.py, with its own
// WordPiece tokeniser), and a semantic sanity check on headlines; then the worker thread the
// model runs in: call order, abort, close, and a worker that dies.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type FromMiniLmWorker,
  MINILM_DIMENSION,
  MINILM_DIR,
  MINILM_FILES,
  MINILM_ID,
  meanPoolNormalise,
  miniLmWorkerOf,
  openMiniLmEmbedder,
  type ToMiniLmWorker,
} from './minilm-embedder.js';

interface Reference {
  text: string;
  tokens: number[];
  vector: number[];
}
const references = (
  JSON.parse(readFileSync(new URL('./embedding/minilm-reference.json', import.meta.url), 'utf8')) as {
    references: Reference[];
  }
).references;

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe('openMiniLmEmbedder', () => {
  const embedder = openMiniLmEmbedder();
  afterAll(() => embedder.close?.());

  it('names the model and its dimension before anything loads', () => {
    expect(embedder.id).toBe(MINILM_ID);
    expect(embedder.dimension).toBe(384);
    expect(MINILM_DIMENSION).toBe(384);
  });

  it('gives the float32 reference vectors within int8 tolerance (a second implementation, numpy)', async () => {
    const vectors = await embedder.embed(references.map((r) => r.text));
    for (const [i, ref] of references.entries()) {
      const v = vectors[i]!;
      expect(v).toHaveLength(384);
      // int8 weights move each component by a few thousandths; the direction barely moves.
      expect(dot(v, ref.vector), ref.text).toBeGreaterThan(0.999);
      const worst = Math.max(...Array.from(v, (x, k) => Math.abs(x - ref.vector[k]!)));
      expect(worst, ref.text).toBeLessThan(0.02);
    }
  });

  it('scores a paraphrase of a headline above an unrelated one', async () => {
    const [a, b, c] = await embedder.embed([
      'Apple beats earnings estimates',
      'Apple reports quarterly profit above forecasts',
      'Exxon oil output falls',
    ]);
    const same = dot(a!, b!);
    const unrelated = dot(a!, c!);
    expect(same).toBeGreaterThan(0.6);
    expect(unrelated).toBeLessThan(0.3);
    expect(same - unrelated).toBeGreaterThan(0.4);
  });

  it('returns unit vectors in input order, whatever the batching', async () => {
    const texts = [
      'A much longer headline about a merger between two regional banks that regulators approved on Friday',
      'Oil rises',
      '',
      'Fed holds rates steady',
      'x '.repeat(600), // past the 256-token limit: truncated, not an error
    ];
    const batched = openMiniLmEmbedder({ batchSize: 2 });
    try {
      const together = await batched.embed(texts);
      const alone = await Promise.all(texts.map(async (t) => (await embedder.embed([t]))[0]!));
      for (const [i, v] of together.entries()) {
        expect(Math.hypot(...v), `norm of ${i}`).toBeCloseTo(1, 5);
        expect(dot(v, alone[i]!), `text ${i}`).toBeGreaterThan(0.9999);
      }
      expect(await batched.embed([])).toEqual([]);
    } finally {
      await batched.close?.();
    }
  });

  it('rejects an aborted call and a closed embedder', async () => {
    const e = openMiniLmEmbedder();
    await expect(e.embed(['x'], { signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
    expect(miniLmWorkerOf(e), 'no worker for a call that never ran').toBeUndefined();
    await e.close?.();
    await expect(e.embed(['x'])).rejects.toThrow(`${MINILM_ID}: the embedder is closed`);
  });
});

describe('the embedding worker', () => {
  const embedder = openMiniLmEmbedder();
  afterAll(() => embedder.close?.());

  /** The answers the worker sends, from now on. */
  const answers = (w: Worker) => {
    const seen: FromMiniLmWorker[] = [];
    w.on('message', (m: FromMiniLmWorker) => {
      if (m.type !== 'started') seen.push(m);
    });
    return seen;
  };
  /** Resolves when the worker next takes a request up. */
  const started = (w: Worker) =>
    new Promise<void>((resolve) => {
      const on = (m: FromMiniLmWorker) => {
        if (m.type !== 'started') return;
        w.off('message', on);
        resolve();
      };
      w.on('message', on);
    });

  it('starts on the first embed and answers calls in order, with vectors that own their buffers', async () => {
    expect(miniLmWorkerOf(embedder)).toBeUndefined();
    const calls = [['Oil rises'], ['Fed holds rates steady', 'Apple beats estimates'], ['Gold falls']];
    const done: number[] = [];
    const results = await Promise.all(
      calls.map(async (texts, i) => {
        const vectors = await embedder.embed(texts);
        done.push(i);
        return vectors;
      }),
    );
    expect(miniLmWorkerOf(embedder)).toBeDefined();
    expect(done).toEqual([0, 1, 2]);
    expect(results.map((r) => r.length)).toEqual([1, 2, 1]);
    for (const v of results.flat()) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.buffer.byteLength).toBe(384 * 4);
    }
  });

  it('rejects an aborted call at once, skips it in the worker, and runs the calls around it', async () => {
    await embedder.embed(['warm up']);
    const worker = miniLmWorkerOf(embedder)!;
    const seen = answers(worker);
    const abort = new AbortController();
    const first = embedder.embed(Array.from({ length: 64 }, (_, i) => `headline number ${i}`));
    const skipped = expect(embedder.embed(['never embedded'], { signal: abort.signal })).rejects.toThrow('stop');
    const last = embedder.embed(['Gold falls']);
    abort.abort(new Error('stop'));
    await skipped;
    expect(await first).toHaveLength(64);
    expect(await last).toHaveLength(1);
    // The worker answered the two others only: it never ran the aborted call.
    expect(seen.map((m) => m.type)).toEqual(['vectors', 'vectors']);
    expect(miniLmWorkerOf(embedder)).toBe(worker);
  });

  it('stops an aborted call that is running and goes on with the next', async () => {
    await embedder.embed(['warm up']);
    const seen = answers(miniLmWorkerOf(embedder)!);
    const running = started(miniLmWorkerOf(embedder)!);
    const abort = new AbortController();
    const long = expect(
      embedder.embed(
        Array.from({ length: 2000 }, (_, i) => `a rather long headline, number ${i}, about markets`),
        { signal: abort.signal },
      ),
    ).rejects.toThrow('no longer needed');
    const next = embedder.embed(['Gold falls']);
    // Once the worker has taken the long call up (125 batches; were it still queued, it would be skipped).
    await running;
    abort.abort(new Error('no longer needed'));
    await long;
    expect(await next).toHaveLength(1);
    // The worker answered the next call only: it stopped the long one between batches.
    expect(seen.map((m) => m.type)).toEqual(['vectors']);
  });

  it('close() rejects the waiting calls and resolves once the worker has exited', async () => {
    const e = openMiniLmEmbedder();
    const waiting = [e.embed(['Oil rises']), e.embed(['Gold falls'])].map((call) =>
      expect(call).rejects.toThrow(`${MINILM_ID}: the embedder is closed`),
    );
    const worker = miniLmWorkerOf(e)!;
    let exited = false;
    worker.on('exit', () => {
      exited = true;
    });
    await e.close?.();
    expect(exited).toBe(true);
    expect(miniLmWorkerOf(e)).toBeUndefined();
    await Promise.all(waiting);
    await expect(e.embed(['x'])).rejects.toThrow(`${MINILM_ID}: the embedder is closed`);
    await e.close?.(); // twice is fine
  });

  it('rejects the calls of a worker that crashed, and the next call starts a new worker', async () => {
    const e = openMiniLmEmbedder();
    try {
      const lost = [e.embed(['Oil rises']), e.embed(['Gold falls'])].map((call) =>
        expect(call).rejects.toThrow(`${MINILM_ID}: the embedding worker crashed: boom`),
      );
      const crashed = miniLmWorkerOf(e)!;
      crashed.postMessage({ type: 'crash', message: 'boom' } satisfies ToMiniLmWorker);
      await Promise.all(lost);

      const [v] = await e.embed(['Oil rises']);
      expect(Math.hypot(...v!)).toBeCloseTo(1, 5);
      const second = miniLmWorkerOf(e)!;
      expect(second).not.toBe(crashed);

      // Killed from outside (terminate): the same.
      const killed = expect(e.embed(['Gold falls'])).rejects.toThrow(
        `${MINILM_ID}: the embedding worker exited with code 1`,
      );
      await second.terminate();
      await killed;
      const [again] = await e.embed(['Oil rises']);
      expect(Array.from(again!)).toEqual(Array.from(v!));
      expect(miniLmWorkerOf(e)).not.toBe(second);
    } finally {
      await e.close?.();
    }
  });
});

describe('the model files', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'minilm-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** A copy of the model folder (links, except the files a test rewrites). */
  const copyModel = (name: string, rewrite: Record<string, string> = {}, drop: string[] = []) => {
    const dir = join(scratch, name);
    for (const file of Object.keys(MINILM_FILES)) {
      if (drop.includes(file)) continue;
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      const text = rewrite[file];
      if (text !== undefined) writeFileSync(join(dir, file), text);
      else if (file.endsWith('.onnx')) symlinkSync(join(MINILM_DIR, file), join(dir, file));
      else copyFileSync(join(MINILM_DIR, file), join(dir, file));
    }
    return dir;
  };

  it('says which are missing and how to get them back', async () => {
    const dir = copyModel('missing', {}, ['onnx/model_quantized.onnx']);
    const e = openMiniLmEmbedder({ dir });
    const error = e.embed(['x']);
    await expect(error).rejects.toThrow(
      `${MINILM_ID}: the model files are missing from ${dir}: onnx/model_quantized.onnx`,
    );
    await expect(error).rejects.toThrow('git checkout -- models/embedding');
    await expect(error).rejects.toThrow('TICKCAST_EMBEDDER=ollama');
  });

  it('refuses a file whose sha256 is not the pinned one', async () => {
    const dir = copyModel('damaged', { 'config.json': '{}' });
    await expect(openMiniLmEmbedder({ dir }).embed(['x'])).rejects.toThrow(
      /config\.json has sha256 [0-9a-f]{64}, expected/,
    );
  });
});

describe('meanPoolNormalise', () => {
  it('averages the unmasked tokens of each row and scales to unit length', () => {
    // 2 rows × 3 tokens × 2 dims; row 0 masks its last token, row 1 has only its first.
    const hidden = Float32Array.from([1, 0, 3, 0, 100, 100, 0, 2, 9, 9, 9, 9]);
    const [a, b] = meanPoolNormalise(hidden, [2, 3, 2], [1n, 1n, 0n, 1n, 0n, 0n]);
    expect(Array.from(a!)).toEqual([1, 0]);
    expect(Array.from(b!)).toEqual([0, 1]);
  });

  it('gives a zero vector for a row with no tokens rather than NaN', () => {
    const [v] = meanPoolNormalise(Float32Array.from([1, 2]), [1, 1, 2], [0]);
    expect(Array.from(v!)).toEqual([0, 0]);
  });
});
