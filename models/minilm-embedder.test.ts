// The shipped MiniLM embedder against a second implementation: vectors that numpy computed from
// the model's original float32 weights (models/embedding/minilm-reference.py, with its own
// WordPiece tokeniser), and a semantic sanity check on headlines.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MINILM_DIMENSION,
  MINILM_DIR,
  MINILM_FILES,
  MINILM_ID,
  meanPoolNormalise,
  openMiniLmEmbedder,
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
    await e.close?.();
    await expect(e.embed(['x'])).rejects.toThrow(`${MINILM_ID}: the embedder is closed`);
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
