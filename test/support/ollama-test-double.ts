// TEST DOUBLE of an Ollama server — not Ollama, and no model runs in it. No Ollama server can be
// installed here (../shared/NOTES.md, "LLM, embeddings, vectors"), so this speaks the subset of
// Ollama's HTTP API that tickcast's code calls through the real `ollama` npm client, with replies
// each test scripts. What it promises is what ollama-test-double.test.ts checks with that client.
//   POST /api/chat  /api/generate   `stream` defaults to true (the client sends false unless asked):
//        application/x-ndjson lines, the last `done: true` with `done_reason` and timings in ns;
//        stream: false answers one JSON object. The reply comes from the test's responder: text
//        chunks (any text: hallucinated numbers, invalid citations), an error before streaming
//        (`{"error"}` with a status), an `{"error"}` line mid-stream, or a stream cut without its
//        done line (ended, or the connection dropped), a malformed (non-JSON) line among the others, or
//        a body that is not Ollama's at all (`rawBody`: a proxy's HTML page). `format` (a JSON schema)
//        is recorded.
//   POST /api/embed (input: string | string[]) and the legacy /api/embeddings (prompt): unit
//        vectors from a hashed bag of words, so equal texts give equal vectors and texts sharing
//        words are closer than texts that share none.
//   GET  /api/tags  /api/version  /        POST /api/show
// An unknown model is 404 {"error":"model 'x' not found"}, a model without the capability is 400.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fnv1a, readBody } from './doubles-shared.js';

export interface OllamaDoubleModel {
  /** As `ollama list` shows it; `x` also answers to `x:latest`. */
  name: string;
  /** Default: embedding when the name contains "embed" or "minilm", else completion. */
  capabilities?: Array<'completion' | 'embedding'>;
  /** Length of its embeddings; default 768. */
  dimension?: number;
}

/** A chat or generate request as the responder sees it. */
export interface OllamaDoubleRequest {
  path: '/api/chat' | '/api/generate';
  model: string;
  stream: boolean;
  /** /api/chat's messages. */
  messages: Array<{ role: string; content: string }>;
  /** /api/generate's prompt (and system). */
  prompt?: string;
  system?: string;
  /** The JSON schema or "json", when the request asked for structured output. */
  format?: unknown;
  body: Record<string, unknown>;
}

export type OllamaDoubleReply =
  | {
      /** The text, in the pieces the stream sends (one line each). */
      chunks: string[];
      /** done_reason of the last line; default "stop". */
      doneReason?: string;
      /** Send only this many chunks, then stop without the done line. */
      cutAfter?: number;
      /** With cutAfter: drop the connection instead of ending the response. */
      hangUp?: boolean;
      /** Instead of the done line (after cutAfter chunks, if set), a mid-stream `{"error": …}` line. */
      errorLine?: string;
      /** Wait before each chunk (overrides the double's chunkDelayMs). */
      chunkDelayMs?: number;
      /**
       * A malformed NDJSON line (this text as is, not JSON) sent after `malformedAfter` chunks (default: all of
       * them); the other chunks and the done line follow as usual.
       */
      malformedLine?: string;
      malformedAfter?: number;
    }
  | { error: string; status?: number }
  /** Not Ollama's API at all: this body as the whole answer (a proxy's HTML page, say), default status 200. */
  | { rawBody: string; status?: number; contentType?: string };

export type OllamaDoubleResponder = (request: OllamaDoubleRequest) => OllamaDoubleReply | Promise<OllamaDoubleReply>;

export interface OllamaDoubleOptions {
  /** Default: llama3.2 (completion) and nomic-embed-text (embedding, 768-d). */
  models?: Array<string | OllamaDoubleModel>;
  /** Default: `replyText('Test double reply from <model>.')`. */
  responder?: OllamaDoubleResponder;
  /** Wait before each streamed chunk. */
  chunkDelayMs?: number;
  /** Wait before answering an embedding request. */
  embedDelayMs?: number;
  /** What /api/version answers. */
  version?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The parsed JSON body (undefined for GET; the raw text when it was not JSON). */
  body: unknown;
}

export interface OllamaTestDouble {
  /** e.g. http://127.0.0.1:38123, what OLLAMA_HOST would be. */
  url: string;
  /** Every request served, in order. */
  requests: RecordedRequest[];
  setResponder(responder: OllamaDoubleResponder): void;
  setModels(models: Array<string | OllamaDoubleModel>): void;
  setDelays(delays: { chunkDelayMs?: number; embedDelayMs?: number }): void;
  close(): Promise<void>;
}

/** A reply streaming `text` word by word (each chunk a word and the space after it). */
export function replyText(text: string, extra: Omit<Extract<OllamaDoubleReply, { chunks: string[] }>, 'chunks'> = {}) {
  return { chunks: text.match(/\S+\s*|\s+/g) ?? [], ...extra };
}

/** The double's embedding of `text`: a hashed bag of lower-case words, unit length. */
export function doubleEmbedding(text: string, dimension: number): number[] {
  const v = new Array<number>(dimension).fill(0);
  const words = text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  for (const w of words) {
    const h = fnv1a(w);
    v[h % dimension]! += (h >>> 31) & 1 ? -1 : 1;
  }
  const norm = Math.hypot(...v);
  if (norm === 0) {
    v[0] = 1; // no words: a fixed unit vector, as a real model still embeds an empty text
    return v;
  }
  return v.map((x) => x / norm);
}

const NS_PER_MS = 1_000_000;

export async function startOllamaTestDouble(opts: OllamaDoubleOptions = {}): Promise<OllamaTestDouble> {
  let models = (opts.models ?? ['llama3.2', 'nomic-embed-text']).map(toModel);
  let responder: OllamaDoubleResponder = opts.responder ?? ((r) => replyText(`Test double reply from ${r.model}.`));
  let chunkDelayMs = opts.chunkDelayMs ?? 0;
  let embedDelayMs = opts.embedDelayMs ?? 0;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const findModel = (name: unknown) =>
    typeof name === 'string' ? models.find((m) => m.name === name || `${m.name}:latest` === name) : undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const method = req.method ?? 'GET';
    const text = method === 'POST' ? await readBody(req) : '';
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    requests.push({ method, path, body });

    const route = ROUTES[path];
    if (!route) return sendText(res, 404, '404 page not found');
    if (route !== method) return sendText(res, 405, '405 method not allowed');
    if (path === '/') return sendText(res, 200, 'Ollama is running');
    if (path === '/api/version') return sendJson(res, 200, { version: opts.version ?? '0.12.6' });
    if (path === '/api/tags') return sendJson(res, 200, { models: models.map(listing) });

    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendJson(res, 400, {
        error: typeof body === 'string' ? 'invalid character in JSON body' : 'missing request body',
      });
    }
    const request = body as Record<string, unknown>;
    // /api/show also takes the older `name`.
    const modelName = request.model ?? (path === '/api/show' ? request.name : undefined);
    if (typeof modelName !== 'string' || modelName === '') return sendJson(res, 400, { error: 'model is required' });
    const model = findModel(modelName);
    if (!model) return sendJson(res, 404, { error: `model '${modelName}' not found` });

    if (path === '/api/show') return sendJson(res, 200, show(model));
    if (path === '/api/embed' || path === '/api/embeddings') {
      if (!model.capabilities.includes('embedding')) {
        return sendJson(res, 400, { error: `"${modelName}" does not support embeddings` });
      }
      const started = performance.now();
      if (embedDelayMs > 0) await sleep(embedDelayMs);
      if (res.destroyed) return;
      if (path === '/api/embeddings') {
        return sendJson(res, 200, { embedding: doubleEmbedding(String(request.prompt ?? ''), model.dimension) });
      }
      const input = request.input;
      const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input.map(String) : [];
      return sendJson(res, 200, {
        model: modelName,
        embeddings: texts.map((t) => doubleEmbedding(t, model.dimension)),
        total_duration: Math.round((performance.now() - started) * NS_PER_MS) + 1_000,
        load_duration: 1_000,
        prompt_eval_count: texts.reduce((n, t) => n + wordCount(t), 0),
      });
    }

    // /api/chat, /api/generate
    const what = path === '/api/chat' ? 'chat' : 'generate';
    if (!model.capabilities.includes('completion')) {
      return sendJson(res, 400, { error: `"${modelName}" does not support ${what}` });
    }
    const stream = request.stream !== false;
    const messages = Array.isArray(request.messages)
      ? (request.messages as Array<{ role?: unknown; content?: unknown }>).map((m) => ({
          role: String(m.role ?? ''),
          content: String(m.content ?? ''),
        }))
      : [];
    const reply = await responder({
      path: path as OllamaDoubleRequest['path'],
      model: modelName,
      stream,
      messages,
      ...(typeof request.prompt === 'string' ? { prompt: request.prompt } : {}),
      ...(typeof request.system === 'string' ? { system: request.system } : {}),
      ...(request.format !== undefined ? { format: request.format } : {}),
      body: request,
    });
    if ('rawBody' in reply) {
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'text/html; charset=utf-8' });
      res.end(reply.rawBody);
      return;
    }
    if (!('chunks' in reply)) return sendJson(res, reply.status ?? 500, { error: reply.error });
    const promptWords =
      wordCount(String(request.prompt ?? '')) + messages.reduce((n, m) => n + wordCount(m.content), 0);
    await answer(res, { path, modelName, stream, reply, promptWords, delayMs: reply.chunkDelayMs ?? chunkDelayMs });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(e) });
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setResponder(r) {
      responder = r;
    },
    setModels(list) {
      models = list.map(toModel);
    },
    setDelays(d) {
      chunkDelayMs = d.chunkDelayMs ?? chunkDelayMs;
      embedDelayMs = d.embedDelayMs ?? embedDelayMs;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ROUTES: Record<string, 'GET' | 'POST'> = {
  '/': 'GET',
  '/api/version': 'GET',
  '/api/tags': 'GET',
  '/api/show': 'POST',
  '/api/chat': 'POST',
  '/api/generate': 'POST',
  '/api/embed': 'POST',
  '/api/embeddings': 'POST',
};

interface Answer {
  path: string;
  modelName: string;
  stream: boolean;
  reply: Extract<OllamaDoubleReply, { chunks: string[] }>;
  promptWords: number;
  delayMs: number;
}

/** Streams (or, with stream: false, sends at once) a scripted chat/generate reply. */
async function answer(res: ServerResponse, a: Answer): Promise<void> {
  const started = performance.now();
  const { reply } = a;
  const sent = reply.cutAfter === undefined ? reply.chunks : reply.chunks.slice(0, reply.cutAfter);
  const cut = reply.cutAfter !== undefined;
  const chat = a.path === '/api/chat';
  const piece = (content: string, done: boolean) => ({
    model: a.modelName,
    created_at: new Date().toISOString(),
    ...(chat ? { message: { role: 'assistant', content } } : { response: content }),
    done,
  });
  const timings = () => {
    const total = Math.round((performance.now() - started) * NS_PER_MS) + 2_000_000;
    return {
      done_reason: reply.doneReason ?? 'stop',
      ...(chat ? {} : { context: [1, 2, 3] }),
      total_duration: total,
      load_duration: 1_000_000,
      prompt_eval_count: a.promptWords,
      prompt_eval_duration: 500_000,
      eval_count: sent.length,
      eval_duration: total - 1_500_000,
    };
  };

  if (!a.stream) {
    for (const _ of sent) if (a.delayMs > 0) await sleep(a.delayMs);
    if (res.destroyed) return;
    if (reply.errorLine !== undefined) return sendJson(res, 500, { error: reply.errorLine });
    if (cut) {
      res.destroy(); // a non-streamed answer cut short is a dropped connection
      return;
    }
    return sendJson(res, 200, { ...piece(sent.join(''), true), ...timings() });
  }

  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const malformedAt = reply.malformedLine === undefined ? -1 : (reply.malformedAfter ?? sent.length);
  for (const [i, chunk] of sent.entries()) {
    if (i === malformedAt) res.write(`${reply.malformedLine}\n`);
    if (a.delayMs > 0) await sleep(a.delayMs);
    if (res.destroyed) return; // the client went away (aborted or timed out)
    res.write(`${JSON.stringify(piece(chunk, false))}\n`);
  }
  if (malformedAt >= sent.length && !res.destroyed) res.write(`${reply.malformedLine}\n`);
  if (reply.errorLine !== undefined) {
    res.end(`${JSON.stringify({ error: reply.errorLine })}\n`);
  } else if (cut && reply.hangUp) {
    res.destroy();
  } else if (cut) {
    res.end();
  } else {
    res.end(`${JSON.stringify({ ...piece('', true), ...timings() })}\n`);
  }
}

function toModel(m: string | OllamaDoubleModel): Required<OllamaDoubleModel> {
  const spec = typeof m === 'string' ? { name: m } : m;
  const embedding = /embed|minilm/i.test(spec.name);
  return {
    name: spec.name,
    capabilities: spec.capabilities ?? [embedding ? 'embedding' : 'completion'],
    dimension: spec.dimension ?? 768,
  };
}

function details(m: Required<OllamaDoubleModel>) {
  const family = m.capabilities.includes('embedding') ? 'nomic-bert' : 'llama';
  return {
    parent_model: '',
    format: 'gguf',
    family,
    families: [family],
    parameter_size: m.capabilities.includes('embedding') ? '137M' : '3.2B',
    quantization_level: m.capabilities.includes('embedding') ? 'F16' : 'Q4_K_M',
  };
}

function listing(m: Required<OllamaDoubleModel>) {
  const name = m.name.includes(':') ? m.name : `${m.name}:latest`;
  return {
    name,
    model: name,
    modified_at: '2026-01-01T00:00:00Z',
    size: 1_000_000,
    digest: fnv1a(m.name).toString(16).padStart(8, '0').repeat(8),
    details: details(m),
  };
}

function show(m: Required<OllamaDoubleModel>) {
  const d = details(m);
  return {
    modelfile: `# test double\nFROM ${m.name}\n`,
    parameters: '',
    template: '{{ .Prompt }}',
    details: d,
    model_info: { 'general.architecture': d.family, [`${d.family}.embedding_length`]: m.dimension },
    capabilities: m.capabilities,
    modified_at: '2026-01-01T00:00:00Z',
  };
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(payload));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
