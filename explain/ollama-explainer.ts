// The Ollama explainer: a chat model on an Ollama server writes the explanation from the
// retrieved facts and headlines (explain/prompt.ts), streamed as it is generated. Its text is
// checked like any explainer's; a failure falls back to the template (explanation-service.ts).
import { Ollama } from 'ollama';
import { SYSTEM_PROMPT, userPrompt } from './prompt.js';
import type { Explainer, ExplainOptions, ExplanationContext } from './types.js';

export interface OllamaExplainerOptions {
  /** The server, e.g. http://localhost:11434 (the client does not read OLLAMA_HOST itself). */
  host: string;
  model: string;
  /** Sampling temperature; low, so the model copies numbers rather than paraphrasing them. */
  temperature?: number;
  /** For tests and proxies. */
  fetch?: typeof fetch;
}

export function ollamaExplainer(opts: OllamaExplainerOptions): Explainer {
  const client = new Ollama({ host: opts.host, fetch: checkedReplies(opts.fetch ?? fetch) });
  return {
    name: `ollama:${opts.model}`,
    async explain(ctx: ExplanationContext, o: ExplainOptions = {}): Promise<string> {
      // One client per server; each call's stream is aborted on its own when the signal fires.
      const stream = await client.chat({
        model: opts.model,
        stream: true,
        options: { temperature: opts.temperature ?? 0.1 },
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: userPrompt(ctx) },
        ],
      });
      const abort = () => stream.abort();
      // The signal may have fired while the request was starting.
      if (o.signal?.aborted) abort();
      o.signal?.addEventListener('abort', abort, { once: true });
      let text = '';
      try {
        for await (const part of stream) {
          const delta = part.message?.content ?? '';
          if (delta) {
            text += delta;
            o.onText?.(delta);
          }
          if (part.done) return text;
        }
      } finally {
        o.signal?.removeEventListener('abort', abort);
      }
      if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
      throw new Error(`ollama ${opts.model}: the stream ended without done`);
    },
  };
}

/** Longest piece of a malformed reply quoted in an error. */
const QUOTED = 80;

/**
 * `fetch` with replies checked for what the `ollama` client expects, so a server or proxy that is not Ollama fails
 * the call with a reason that says so. The client skips a streamed line that is not JSON (with a console warning)
 * and would serve the text around it as if nothing were missing: here such a line errors the stream instead. An
 * error status with a body that is not JSON (a proxy's HTML page) becomes a short `{error}` naming the status.
 */
export function checkedReplies(base: typeof fetch): typeof fetch {
  return async (input, init) => {
    const res = await base(input, init);
    const json = res.headers.get('content-type')?.includes('json') ?? false;
    if (!res.ok && !json) {
      const text = await res.text().catch(() => '');
      const error = `malformed reply: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}, not an Ollama answer${text ? `: ${quote(text)}` : ''}`;
      return new Response(JSON.stringify({ error }), {
        status: res.status,
        statusText: res.statusText,
        headers: { 'content-type': 'application/json' },
      });
    }
    if (!res.ok || !res.body) return res;
    return new Response(res.body.pipeThrough(ndjsonLines()), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  };
}

/** Passes bytes through, erroring the stream at the first complete line that is not JSON. */
function ndjsonLines(): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let buffer = '';
  let line = 0;
  const check = (part: string, controller: TransformStreamDefaultController<Uint8Array>): boolean => {
    line++;
    if (part.trim() === '') return true;
    try {
      JSON.parse(part);
      return true;
    } catch {
      controller.error(new Error(`malformed reply: line ${line} is not JSON: ${quote(part)}`));
      return false;
    }
  };
  return new TransformStream({
    transform(chunk, controller) {
      buffer += decoder.decode(chunk, { stream: true });
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) if (!check(part, controller)) return;
      controller.enqueue(chunk);
    },
    flush(controller) {
      buffer += decoder.decode();
      check(buffer, controller);
    },
  });
}

function quote(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > QUOTED ? `${t.slice(0, QUOTED)}…` : t;
}
