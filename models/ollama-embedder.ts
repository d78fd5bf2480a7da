// The Ollama embedder: an embedding model (OLLAMA_EMBED_MODEL, e.g. nomic-embed-text) on an
// Ollama server (OLLAMA_HOST), through the `ollama` npm client's /api/embed. Creating it asks the
// server for the model (/api/show: its embedding length and that it embeds at all, else one probe
// embedding), so a missing model or server fails at start-up with a message that says what to do.
// Texts go in batches; every vector is checked for length and scaled to unit length. Each request
// has a timeout and follows the caller's AbortSignal (the client takes neither for /api/embed, so
// they ride on the fetch it is given).
import { Ollama, type ShowResponse } from 'ollama';
import type { Embedder } from './embedder.js';

export interface OllamaEmbedderOptions {
  /** The server, e.g. http://localhost:11434 (OLLAMA_HOST; the client does not read it itself). */
  host: string;
  /** An embedding model the server has pulled, e.g. nomic-embed-text. */
  model: string;
  /** For tests and proxies; default the global fetch. */
  fetch?: typeof fetch;
  /** The vectors' length when known; otherwise learned from the server at creation. */
  dimension?: number;
  /** Per request; default 60 s (the first request may wait for the server to load the model). */
  timeoutMs?: number;
  /** Texts per /api/embed request; default 64. */
  batchSize?: number;
}

export const OLLAMA_EMBED_TIMEOUT_MS = 60_000;
export const OLLAMA_EMBED_BATCH = 64;

/** The Ollama server is unreachable, slow, or lacks the model: a setting or an outage, not a bug. */
export class OllamaError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OllamaError';
  }
}

export async function createOllamaEmbedder(opts: OllamaEmbedderOptions): Promise<Embedder> {
  const id = `ollama:${opts.model}`;
  const timeoutMs = opts.timeoutMs ?? OLLAMA_EMBED_TIMEOUT_MS;
  const batchSize = opts.batchSize ?? OLLAMA_EMBED_BATCH;
  const baseFetch = opts.fetch ?? globalThis.fetch;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`${id}: batchSize must be ≥ 1, got ${batchSize}`);

  /** Runs one client call with a timeout and the caller's signal, turning failures into plain messages. */
  const call = async <T>(what: string, run: (client: Ollama) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const client = new Ollama({
      host: opts.host,
      fetch: (input, init) => baseFetch(input, { ...init, signal: both }),
    });
    try {
      return await run(client);
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) {
        throw new OllamaError(
          `${id}: Ollama at ${opts.host} did not answer ${what} within ${timeoutMs} ms (OLLAMA_HOST)`,
        );
      }
      throw describeFailure(e, id, opts.host, opts.model, what);
    }
  };

  const embedBatch = async (texts: string[], dimension: number | undefined, signal?: AbortSignal) => {
    const { embeddings } = await call('/api/embed', (c) => c.embed({ model: opts.model, input: texts }), signal);
    if (!Array.isArray(embeddings) || embeddings.length !== texts.length) {
      throw new Error(
        `${id}: asked for ${texts.length} embeddings, got ${Array.isArray(embeddings) ? embeddings.length : 'none'}`,
      );
    }
    return embeddings.map((v) => toUnit(v, dimension ?? v.length, id));
  };

  const dimension = opts.dimension ?? (await learnDimension());

  async function learnDimension(): Promise<number> {
    const shown = await call('/api/show', (c) => c.show({ model: opts.model }));
    const { length, capabilities } = embeddingInfo(shown);
    if (capabilities && !capabilities.includes('embedding')) {
      throw new OllamaError(
        `${id}: ${opts.model} is not an embedding model (it can: ${capabilities.join(', ')}); set OLLAMA_EMBED_MODEL to one, e.g. nomic-embed-text (\`ollama pull nomic-embed-text\`)`,
      );
    }
    if (length !== undefined) return length;
    const [probe] = await embedBatch(['dimension probe'], undefined);
    return probe!.length;
  }

  let closed = false;
  return {
    id,
    dimension,
    async embed(texts, o = {}) {
      if (closed) throw new Error(`${id}: the embedder is closed`);
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        out.push(...(await embedBatch(texts.slice(i, i + batchSize), dimension, o.signal)));
      }
      return out;
    },
    async close() {
      closed = true;
    },
  };
}

/** The embedding length and capabilities /api/show reports (`<architecture>.embedding_length`). */
function embeddingInfo(shown: ShowResponse): { length?: number; capabilities?: string[] } {
  const info = (shown.model_info ?? {}) as unknown as Record<string, unknown>;
  const arch = info['general.architecture'];
  const length = typeof arch === 'string' ? info[`${arch}.embedding_length`] : undefined;
  return {
    ...(typeof length === 'number' && Number.isInteger(length) && length > 0 ? { length } : {}),
    ...(Array.isArray(shown.capabilities) ? { capabilities: shown.capabilities } : {}),
  };
}

function toUnit(v: number[], dimension: number, id: string): Float32Array {
  if (!Array.isArray(v) || v.length !== dimension) {
    throw new Error(`${id}: got a vector of length ${Array.isArray(v) ? v.length : typeof v}, expected ${dimension}`);
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (!Number.isFinite(norm) || norm === 0) throw new Error(`${id}: got a zero or non-finite vector`);
  return Float32Array.from(v, (x) => x / norm);
}

/** A failed call as a message that says what is wrong and what to do. */
function describeFailure(e: unknown, id: string, host: string, model: string, what: string): Error {
  const err = e as { name?: string; status_code?: number; error?: string; message?: string; cause?: unknown };
  if (err.name === 'ResponseError' && err.status_code === 404) {
    return new OllamaError(
      `${id}: the Ollama server at ${host} has no model '${model}': run \`ollama pull ${model}\` there (or set OLLAMA_EMBED_MODEL)`,
    );
  }
  if (err.name === 'ResponseError') {
    return new OllamaError(
      `${id}: Ollama at ${host} answered ${what} with ${err.status_code}: ${err.error ?? err.message}`,
    );
  }
  const cause = err.cause as { code?: string; message?: string } | undefined;
  const reason = cause?.code ?? cause?.message ?? err.message ?? String(e);
  return new OllamaError(
    `${id}: cannot reach Ollama at ${host} (${reason}); is it running? Set OLLAMA_HOST to its address`,
    {
      cause: e,
    },
  );
}
