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
  const client = new Ollama({ host: opts.host, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
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
