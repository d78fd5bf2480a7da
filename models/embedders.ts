// The embedder the configuration names (TICKCAST_EMBEDDER): the one place that chooses, so the
// CLI, the news operator and the explanation service share one space of vectors. The options are
// the config's own fields, so `openEmbedder(loadConfig())` works as it is.
import type { Embedder } from './embedder.js';
import { openMiniLmEmbedder } from './minilm-embedder.js';
import { createOllamaEmbedder } from './ollama-embedder.js';

export const EMBEDDERS = ['minilm', 'ollama'] as const;
export type EmbedderName = (typeof EMBEDDERS)[number];

export interface EmbedderChoice {
  TICKCAST_EMBEDDER: EmbedderName;
  /** Required for ollama. */
  OLLAMA_HOST?: string | undefined;
  OLLAMA_EMBED_MODEL: string;
}

export interface EmbedderExtras {
  /** minilm: the model folder (default: the one in the repository) and onnxruntime threads (default 1). */
  minilmDir?: string;
  threads?: number;
  /** ollama: for tests and proxies. */
  fetch?: typeof fetch;
}

/**
 * The configured embedder. minilm loads lazily (on the first embed); ollama asks the server for
 * the model now, so a missing model or server is reported at start-up.
 */
export async function openEmbedder(choice: EmbedderChoice, extras: EmbedderExtras = {}): Promise<Embedder> {
  switch (choice.TICKCAST_EMBEDDER) {
    case 'minilm':
      return openMiniLmEmbedder({
        ...(extras.minilmDir ? { dir: extras.minilmDir } : {}),
        ...(extras.threads ? { threads: extras.threads } : {}),
      });
    case 'ollama':
      if (!choice.OLLAMA_HOST) throw new RangeError('TICKCAST_EMBEDDER=ollama needs OLLAMA_HOST, the Ollama server');
      return createOllamaEmbedder({
        host: choice.OLLAMA_HOST,
        model: choice.OLLAMA_EMBED_MODEL,
        ...(extras.fetch ? { fetch: extras.fetch } : {}),
      });
    default:
      throw new RangeError(
        `unknown embedder ${JSON.stringify(choice.TICKCAST_EMBEDDER satisfies never)}; one of ${EMBEDDERS.join(', ')}`,
      );
  }
}
