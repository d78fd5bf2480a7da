// The Ollama embedder against the Ollama protocol test double (test/support/): no Ollama server
// can run here. The double speaks Ollama's HTTP API to the real `ollama` client.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { doubleEmbedding, type OllamaTestDouble, startOllamaTestDouble } from '../test/support/ollama-test-double.js';
import { createOllamaEmbedder } from './ollama-embedder.js';

let double: OllamaTestDouble;
beforeAll(async () => {
  double = await startOllamaTestDouble({ models: ['llama3.2', { name: 'nomic-embed-text', dimension: 48 }] });
});
afterAll(() => double.close());
afterEach(() => {
  double.setDelays({ embedDelayMs: 0 });
  double.requests.length = 0;
});

const paths = () => double.requests.map((r) => r.path);

describe('createOllamaEmbedder', () => {
  it('learns the dimension from /api/show and embeds unit vectors in order, in batches', async () => {
    const e = await createOllamaEmbedder({ host: double.url, model: 'nomic-embed-text', batchSize: 2 });
    expect(e.id).toBe('ollama:nomic-embed-text');
    expect(e.dimension).toBe(48);
    const texts = ['Apple beats estimates', 'Oil falls', 'Fed holds', 'Bank merger approved', 'Chip stocks rally'];
    const vectors = await e.embed(texts);
    expect(vectors).toHaveLength(5);
    for (const [i, v] of vectors.entries()) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(Array.from(v)).toEqual(Array.from(Float32Array.from(doubleEmbedding(texts[i]!, 48))));
    }
    expect(paths()).toEqual(['/api/show', '/api/embed', '/api/embed', '/api/embed']);
    expect(double.requests[1]!.body).toEqual({ model: 'nomic-embed-text', input: texts.slice(0, 2) });
    expect(await e.embed([])).toEqual([]);
    await e.close?.();
    await expect(e.embed(['x'])).rejects.toThrow('ollama:nomic-embed-text: the embedder is closed');
  });

  it('takes a given dimension without asking, and refuses vectors of another length', async () => {
    const e = await createOllamaEmbedder({ host: double.url, model: 'nomic-embed-text', dimension: 384 });
    expect(paths()).toEqual([]);
    await expect(e.embed(['x'])).rejects.toThrow('ollama:nomic-embed-text: got a vector of length 48, expected 384');
  });

  it('learns the dimension from a probe embedding when /api/show does not say it', async () => {
    const fetchWithoutInfo: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/api/show')) return res;
      const shown = (await res.json()) as Record<string, unknown>;
      return Response.json({ ...shown, model_info: {} });
    };
    const e = await createOllamaEmbedder({ host: double.url, model: 'nomic-embed-text', fetch: fetchWithoutInfo });
    expect(e.dimension).toBe(48);
    expect(paths()).toEqual(['/api/show', '/api/embed']);
  });

  it('scales what the server returns to unit length', async () => {
    const scaled: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/api/embed')) return res;
      const body = (await res.json()) as { embeddings: number[][] };
      return Response.json({ ...body, embeddings: body.embeddings.map((v) => v.map((x) => x * 7)) });
    };
    const e = await createOllamaEmbedder({ host: double.url, model: 'nomic-embed-text', fetch: scaled, dimension: 48 });
    const [v] = await e.embed(['Apple beats estimates']);
    expect(Math.hypot(...v!)).toBeCloseTo(1, 5);
  });

  it('says to `ollama pull` a model the server does not have', async () => {
    await expect(createOllamaEmbedder({ host: double.url, model: 'mxbai-embed-large' })).rejects.toThrow(
      `ollama:mxbai-embed-large: the Ollama server at ${double.url} has no model 'mxbai-embed-large': run \`ollama pull mxbai-embed-large\` there`,
    );
    const known = await createOllamaEmbedder({ host: double.url, model: 'gone-embed', dimension: 48 });
    await expect(known.embed(['x'])).rejects.toThrow('run `ollama pull gone-embed`');
  });

  it('refuses a model that does not embed', async () => {
    await expect(createOllamaEmbedder({ host: double.url, model: 'llama3.2' })).rejects.toThrow(
      'ollama:llama3.2: llama3.2 is not an embedding model (it can: completion); set OLLAMA_EMBED_MODEL',
    );
  });

  it('names the address and OLLAMA_HOST when no server answers', async () => {
    const gone = await startOllamaTestDouble();
    await gone.close();
    await expect(createOllamaEmbedder({ host: gone.url, model: 'nomic-embed-text' })).rejects.toThrow(
      new RegExp(`cannot reach Ollama at ${gone.url} \\(ECONNREFUSED\\); is it running\\? Set OLLAMA_HOST`),
    );
  });

  it('times out a slow server, and follows the caller’s signal', async () => {
    const e = await createOllamaEmbedder({ host: double.url, model: 'nomic-embed-text', timeoutMs: 150 });
    double.setDelays({ embedDelayMs: 1000 });
    const started = performance.now();
    await expect(e.embed(['x'])).rejects.toThrow(
      `ollama:nomic-embed-text: Ollama at ${double.url} did not answer /api/embed within 150 ms (OLLAMA_HOST)`,
    );
    expect(performance.now() - started).toBeLessThan(900);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    await expect(e.embed(['x'], { signal: controller.signal })).rejects.toThrow('shutting down');
  });
});
