// What the Ollama test double promises, checked with the real `ollama` npm client (and plain
// fetch where the client hides the wire: its stream default, the ndjson lines, status codes).
import { Ollama } from 'ollama';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { doubleEmbedding, type OllamaTestDouble, replyText, startOllamaTestDouble } from './ollama-test-double.js';

let double: OllamaTestDouble;
let client: Ollama;
const defaultResponder = (r: { model: string }) => replyText(`Test double reply from ${r.model}.`);

beforeAll(async () => {
  double = await startOllamaTestDouble({ models: ['llama3.2', { name: 'nomic-embed-text', dimension: 32 }] });
  client = new Ollama({ host: double.url });
});
afterAll(() => double.close());
afterEach(() => {
  double.setResponder(defaultResponder);
  double.setDelays({ chunkDelayMs: 0, embedDelayMs: 0 });
  double.requests.length = 0;
});

const post = (path: string, body: unknown) =>
  fetch(`${double.url}${path}`, { method: 'POST', body: JSON.stringify(body) });

describe('the Ollama test double, through the real ollama client', () => {
  it('streams a chat reply chunk by chunk, ending with a done line that carries timings in ns', async () => {
    double.setResponder(() => ({ chunks: ['AAPL ', 'closed at ', '191.45 [f1].'] }));
    const parts = [];
    for await (const part of await client.chat({
      model: 'llama3.2',
      stream: true,
      messages: [{ role: 'user', content: 'Why did AAPL move?' }],
    })) {
      parts.push(part);
    }
    expect(parts.map((p) => p.message.content).join('')).toBe('AAPL closed at 191.45 [f1].');
    const last = parts.at(-1)!;
    expect(last.done).toBe(true);
    expect(last.done_reason).toBe('stop');
    expect(last.eval_count).toBe(3);
    expect(last.prompt_eval_count).toBe(4);
    for (const t of [last.total_duration, last.load_duration, last.eval_duration]) expect(t).toBeGreaterThan(1000);
    expect(parts.slice(0, -1).every((p) => !p.done)).toBe(true);
    expect(double.requests).toEqual([
      { method: 'POST', path: '/api/chat', body: expect.objectContaining({ model: 'llama3.2', stream: true }) },
    ]);
  });

  it('answers chat and generate with one object when stream is false (the client default)', async () => {
    const chat = await client.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.message).toEqual({ role: 'assistant', content: 'Test double reply from llama3.2.' });
    expect(chat.done).toBe(true);
    const gen = await client.generate({ model: 'llama3.2:latest', prompt: 'hi there', system: 'be brief' });
    expect(gen.response).toBe('Test double reply from llama3.2:latest.');
    expect(gen).toMatchObject({ done: true, done_reason: 'stop', prompt_eval_count: 2 });
  });

  it('streams generate, and gives the responder the prompt, the system text and the format', async () => {
    const schema = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
    const seen: unknown[] = [];
    double.setResponder((r) => {
      seen.push({ path: r.path, prompt: r.prompt, system: r.system, format: r.format, stream: r.stream });
      return replyText('{"text": "Revenue rose 400% [fact-99]"}');
    });
    let text = '';
    for await (const part of await client.generate({
      model: 'llama3.2',
      prompt: 'Explain',
      system: 'Cite ids',
      format: schema,
      stream: true,
    })) {
      text += part.response;
    }
    // Whatever the test scripts comes back verbatim: hallucinated numbers, citations of no fact.
    expect(JSON.parse(text)).toEqual({ text: 'Revenue rose 400% [fact-99]' });
    expect(seen).toEqual([
      { path: '/api/generate', prompt: 'Explain', system: 'Cite ids', format: schema, stream: true },
    ]);
    expect((double.requests[0]!.body as { format: unknown }).format).toEqual(schema);
  });

  it('embeds deterministic unit vectors of the model dimension, closer for texts sharing words', async () => {
    const texts = ['Apple beats earnings estimates', 'Apple earnings beat', 'Exxon oil output falls'];
    const { embeddings, model } = await client.embed({ model: 'nomic-embed-text', input: texts });
    expect(model).toBe('nomic-embed-text');
    expect(embeddings).toHaveLength(3);
    for (const v of embeddings) {
      expect(v).toHaveLength(32);
      expect(Math.hypot(...v)).toBeCloseTo(1, 9);
    }
    expect(embeddings[0]).toEqual(doubleEmbedding(texts[0]!, 32));
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(dot(embeddings[0]!, embeddings[1]!)).toBeGreaterThan(dot(embeddings[0]!, embeddings[2]!));
    const one = await client.embed({ model: 'nomic-embed-text', input: texts[0]! });
    expect(one.embeddings).toEqual([embeddings[0]]);
    const legacy = await client.embeddings({ model: 'nomic-embed-text', prompt: texts[0]! });
    expect(legacy.embedding).toEqual(embeddings[0]);
  });

  it('lists its models, shows one (with its embedding length) and says its version', async () => {
    const { models } = await client.list();
    expect(models.map((m) => m.name)).toEqual(['llama3.2:latest', 'nomic-embed-text:latest']);
    expect(models[0]!.details.family).toBe('llama');
    const shown = (await client.show({ model: 'nomic-embed-text' })) as unknown as {
      capabilities: string[];
      model_info: Record<string, unknown>;
    };
    expect(shown.capabilities).toEqual(['embedding']);
    expect(shown.model_info['nomic-bert.embedding_length']).toBe(32);
    expect((await client.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('refuses an unknown model with 404 "model \'x\' not found", on every endpoint', async () => {
    const attempts = [
      client.chat({ model: 'nope', messages: [] }),
      client.chat({ model: 'nope', messages: [], stream: true }),
      client.generate({ model: 'nope', prompt: 'x' }),
      client.embed({ model: 'nope', input: 'x' }),
      client.show({ model: 'nope' }),
    ];
    for (const attempt of attempts) {
      await expect(attempt).rejects.toMatchObject({
        name: 'ResponseError',
        error: "model 'nope' not found",
        status_code: 404,
      });
    }
  });

  it('refuses a model without the capability with 400', async () => {
    await expect(client.embed({ model: 'llama3.2', input: 'x' })).rejects.toMatchObject({ status_code: 400 });
    await expect(client.chat({ model: 'nomic-embed-text', messages: [] })).rejects.toMatchObject({
      status_code: 400,
      error: '"nomic-embed-text" does not support chat',
    });
  });

  it('fails before streaming with the scripted error and status', async () => {
    double.setResponder(() => ({ error: 'model runner has unexpectedly stopped', status: 500 }));
    await expect(client.chat({ model: 'llama3.2', messages: [], stream: true })).rejects.toMatchObject({
      error: 'model runner has unexpectedly stopped',
      status_code: 500,
    });
  });

  it('sends a mid-stream {"error"} line, which the client throws after the chunks before it', async () => {
    double.setResponder(() => ({ chunks: ['one ', 'two '], cutAfter: 1, errorLine: 'out of memory' }));
    const got: string[] = [];
    const read = async () => {
      for await (const p of await client.chat({ model: 'llama3.2', messages: [], stream: true })) {
        got.push(p.message.content);
      }
    };
    await expect(read()).rejects.toThrow('out of memory');
    expect(got).toEqual(['one ']);
  });

  it('cuts a stream without its done line (ended or dropped), which the client throws on', async () => {
    const read = async () => {
      let text = '';
      for await (const p of await client.chat({ model: 'llama3.2', messages: [], stream: true })) {
        text += p.message.content;
      }
      return text;
    };
    double.setResponder(() => ({ chunks: ['a ', 'b ', 'c '], cutAfter: 2 }));
    await expect(read()).rejects.toThrow('Did not receive done or success response in stream.');
    double.setResponder(() => ({ chunks: ['a ', 'b ', 'c '], cutAfter: 2, hangUp: true }));
    await expect(read()).rejects.toThrow();
  });

  it('paces chunks by the configured delay, and stops when the client aborts', async () => {
    double.setDelays({ chunkDelayMs: 40 });
    double.setResponder(() => ({ chunks: Array.from({ length: 50 }, (_, i) => `${i} `) }));
    const started = performance.now();
    const stream = await client.chat({ model: 'llama3.2', messages: [], stream: true });
    const got: string[] = [];
    const read = async () => {
      for await (const p of stream) {
        got.push(p.message.content);
        if (got.length === 3) stream.abort();
      }
    };
    await expect(read()).rejects.toThrow(/abort/i);
    expect(got).toHaveLength(3);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(performance.now() - started).toBeLessThan(1500);
  });
});

describe('the Ollama test double, on the wire', () => {
  it('streams application/x-ndjson when the request does not say stream (Ollama defaults to true)', async () => {
    const res = await post('/api/generate', { model: 'llama3.2', prompt: 'hi' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { response: string; done: boolean; done_reason?: string; total_duration?: number });
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.map((l) => l.response).join('')).toBe('Test double reply from llama3.2.');
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop', total_duration: expect.any(Number) });
  });

  it('answers errors as JSON {error} with a status, and unknown paths like Ollama does', async () => {
    const unknown = await post('/api/chat', { model: 'x', messages: [] });
    expect([unknown.status, unknown.headers.get('content-type'), await unknown.json()]).toEqual([
      404,
      'application/json; charset=utf-8',
      { error: "model 'x' not found" },
    ]);
    const noModel = await post('/api/embed', { input: 'x' });
    expect([noModel.status, await noModel.json()]).toEqual([400, { error: 'model is required' }]);
    expect((await fetch(`${double.url}/api/nothing`)).status).toBe(404);
    expect(await (await fetch(`${double.url}/`)).text()).toBe('Ollama is running');
  });

  it('sends a malformed (non-JSON) line among the others, or a body that is not Ollama at all', async () => {
    double.setResponder(() => ({
      chunks: ['a ', 'b '],
      malformedLine: '{"model":"llama3.2","mess',
      malformedAfter: 1,
    }));
    const text = await (await post('/api/chat', { model: 'llama3.2', messages: [] })).text();
    const lines = text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe('{"model":"llama3.2","mess');
    expect(JSON.parse(lines[3]!)).toMatchObject({ done: true });
    double.setResponder(() => ({ rawBody: '<html>Bad Gateway</html>', status: 502 }));
    const page = await post('/api/chat', { model: 'llama3.2', messages: [] });
    expect([page.status, page.headers.get('content-type'), await page.text()]).toEqual([
      502,
      'text/html; charset=utf-8',
      '<html>Bad Gateway</html>',
    ]);
  });

  it('records every request, method, path and body', async () => {
    await fetch(`${double.url}/api/tags`);
    await post('/api/embed', { model: 'nomic-embed-text', input: ['a'] });
    expect(double.requests).toEqual([
      { method: 'GET', path: '/api/tags', body: undefined },
      { method: 'POST', path: '/api/embed', body: { model: 'nomic-embed-text', input: ['a'] } },
    ]);
  });
});
