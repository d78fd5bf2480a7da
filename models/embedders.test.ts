import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../cli/config.js';
import { type OllamaTestDouble, startOllamaTestDouble } from '../test/support/ollama-test-double.js';
import { openEmbedder } from './embedders.js';
import { MINILM_ID } from './minilm-embedder.js';

let double: OllamaTestDouble;
beforeAll(async () => {
  double = await startOllamaTestDouble({ models: [{ name: 'nomic-embed-text', dimension: 768 }] });
});
afterAll(() => double.close());

describe('openEmbedder', () => {
  it('opens the in-process MiniLM by default, loading nothing yet', async () => {
    const e = await openEmbedder(loadConfig({}));
    expect([e.id, e.dimension]).toEqual([MINILM_ID, 384]);
    await e.close?.();
  });

  it('opens the Ollama embedder on OLLAMA_HOST with OLLAMA_EMBED_MODEL', async () => {
    const e = await openEmbedder(loadConfig({ TICKCAST_EMBEDDER: 'ollama', OLLAMA_HOST: double.url }));
    expect([e.id, e.dimension]).toEqual(['ollama:nomic-embed-text', 768]);
    expect(double.requests.map((r) => r.path)).toEqual(['/api/show']);
  });

  it('is configured by name, and a bad name stops start-up saying what is allowed', () => {
    expect(() => loadConfig({ TICKCAST_EMBEDDER: 'bert' })).toThrow(/TICKCAST_EMBEDDER="bert": minilm or ollama/);
    expect(() => loadConfig({ OLLAMA_EMBED_MODEL: 'two words' })).toThrow(
      /OLLAMA_EMBED_MODEL="two words": an Ollama model name/,
    );
    expect(loadConfig({}).OLLAMA_EMBED_MODEL).toBe('nomic-embed-text');
  });
});
