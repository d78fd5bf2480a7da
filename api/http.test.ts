// The GraphQL-over-HTTP edges as a client meets them: requests Yoga cannot read, media types,
// security headers, GraphiQL offline, and the graphql-http audits of the spec. A real server over
// a real pipeline (one bundled ticker replayed into DuckDB), real fetch.
import { spawnSync } from 'node:child_process';
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startTestPipeline, type TestPipeline } from '../test/support/test-pipeline.js';
import { APP_CSP, GRAPHIQL_CSP } from './security-headers.js';
import type { ApiServer } from './server.js';

let pipeline: TestPipeline;
let api: ApiServer;

beforeAll(async () => {
  pipeline = await startTestPipeline(['AAPL']);
  api = await pipeline.serve({ uiDir: '/nonexistent/ui-dist' });
}, 120_000);

afterAll(() => pipeline?.close());

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

async function error(res: Response): Promise<{ status: number; code?: string; message?: string }> {
  const body = (await res.json()) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
  return { status: res.status, code: body.errors?.[0]?.extensions?.code, message: body.errors?.[0]?.message };
}

describe('requests the server cannot read get a 4xx with a GraphQL error, never a 500', () => {
  it('malformed variables or extensions in a GET or a form: names which', async () => {
    const query = encodeURIComponent('{ __typename }');
    const res = await fetch(`${api.url}/graphql?query=${query}&variables=%7Bnope`, {
      headers: { accept: 'application/json' },
    });
    expect(await error(res)).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
      message: "the variables parameter is not valid JSON: Expected property name or '}' in JSON at position 1",
    });
    const get = await fetch(`${api.url}/graphql?query=${query}&variables=%7B%7D&extensions=nope`);
    expect(await error(get)).toMatchObject({ status: 400, message: /^the extensions parameter is not valid JSON: / });
    const form = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      body: new URLSearchParams({ query: '{ __typename }', extensions: '[' }),
    });
    expect(await error(form)).toMatchObject({ status: 400, message: /^the extensions parameter is not valid JSON: / });
  });

  it('a body that is not valid JSON: one error, the parser’s detail once, the body not echoed', async () => {
    const res = await post('{"query": ');
    const body = (await res.json()) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(res.status).toBe(400);
    expect(body.errors).toEqual([
      {
        message: 'the body is not valid JSON: Unexpected end of JSON input',
        extensions: { code: 'BAD_REQUEST' },
      },
    ]);
    expect(await error(await post('nope'))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'the body is not valid JSON: Unexpected token \'o\' in "nope"',
    });
    expect(await error(await post(''))).toMatchObject({ message: 'the body is not valid JSON: it is empty' });
    // A large body is not sent back (the parser's own excerpt is a few characters).
    const large = await error(await post(`{"query": "{ __typename }", ${'x'.repeat(30_000)}}`));
    expect(large).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: /^the body is not valid JSON: / });
    expect(large.message?.length).toBeLessThan(200);
    // Whatever the accept header: a 400, not an event stream that starts with 200.
    const sse = await post('nope', { accept: 'text/event-stream' });
    expect(await error(sse)).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
  });

  it('a body without a query', async () => {
    expect(await error(await post('{"query": null}'))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(await error(await post('{"query": "  "}'))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
  });

  it('a variable missing or not of its type: 400 BAD_REQUEST naming it', async () => {
    const query = 'query ($s: String!) { prediction(symbol: $s, horizon: 1) { predictedClose } }';
    expect(await error(await post(JSON.stringify({ query, variables: { s: 5 } })))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'Variable "$s" got invalid value 5; String cannot represent a non string value: 5',
    });
    expect(await error(await post(JSON.stringify({ query })))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'Variable "$s" of required type "String!" was not provided.',
    });
  });

  it('a query whose operation cannot be picked: 400 BAD_REQUEST naming the operations it has', async () => {
    const query = 'query A { __typename } query B { __typename }';
    expect(await error(await post(JSON.stringify({ query })))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'the query has 2 operations (A, B): name the one to run in operationName',
    });
    expect(await error(await post(JSON.stringify({ query, operationName: 'C' })))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'no operation named "C" in the query (it has A, B)',
    });
    expect(await error(await post(JSON.stringify({ query, operationName: 5 })))).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'operationName must be a string (the name of an operation in the query), not a number',
    });
    const picked = await post(JSON.stringify({ query, operationName: 'B' }));
    expect(await picked.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('a mutation is a validation error saying the API has none', async () => {
    expect(await error(await post(JSON.stringify({ query: 'mutation { x }' })))).toEqual({
      status: 200,
      code: 'GRAPHQL_VALIDATION_FAILED',
      message: 'this API has no mutations: it answers queries and subscriptions',
    });
  });

  it('a method GraphQL does not use is a 405 naming GET and POST, with or without a body', async () => {
    const stream = () => new Blob(['{"query": "{ __typename }"}']).stream();
    for (const init of [
      { method: 'DELETE' },
      { method: 'PATCH', body: '{"query": "{ __typename }"}' },
      // Streamed: no content-length (a POST without one is a 411).
      { method: 'PUT', body: stream(), duplex: 'half' },
    ]) {
      const res = await fetch(`${api.url}/graphql`, init as RequestInit);
      expect(res.headers.get('allow'), init.method).toBe('GET, POST');
      expect(await error(res), init.method).toMatchObject({ status: 405, code: 'BAD_REQUEST' });
    }
    const post = await fetch(`${api.url}/graphql`, { method: 'POST', body: stream(), duplex: 'half' } as RequestInit);
    expect(await error(post)).toMatchObject({ status: 411, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('media types are case-insensitive', async () => {
    const res = await post('{"query": "{ __typename }"}', { 'content-type': 'APPLICATION/JSON; charset=UTF-8' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('a multipart body (file uploads: the schema takes none) is a 415, as other types but JSON', async () => {
    const form = new FormData();
    form.set('operations', '{nope');
    form.set('map', '{}');
    const res = await fetch(`${api.url}/graphql`, { method: 'POST', body: form });
    expect(await error(res)).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('415 and 406 say why in a body', async () => {
    const unsupported = await post('{"query": "{ __typename }"}', { 'content-type': 'text/plain' });
    expect(await error(unsupported)).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    const notAcceptable = await post('{"query": "{ __typename }"}', { accept: 'application/xml' });
    expect(notAcceptable.headers.get('accept')).toMatch(/application\/json/);
    expect(await error(notAcceptable)).toMatchObject({ status: 406, code: 'NOT_ACCEPTABLE' });
    // A subscription is an event stream (or graphql-ws), never one JSON answer.
    const subscription = await post('{"query": "subscription { pipelineMetrics { at } }"}', {
      accept: 'application/json',
    });
    expect(await error(subscription)).toEqual({
      status: 406,
      code: 'NOT_ACCEPTABLE',
      message:
        'a subscription over HTTP is an event stream: send accept: text/event-stream, or subscribe over graphql-ws',
    });
    // The connection is still usable after them (no framing headers copied onto the new body).
    expect((await post('{"query": "{ __typename }"}')).status).toBe(200);
  });
});

describe('graphql-ws: the handshake and the protocol', () => {
  /** What a client gets when it opens /graphql asking for `protocols`. */
  const handshake = (protocols?: string | string[]) =>
    new Promise<{ status?: number; body?: string; protocol?: string; error?: string }>((resolve) => {
      const socket = new WebSocket(`${api.url.replace('http', 'ws')}/graphql`, protocols);
      socket.on('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      socket.on('open', () => {
        resolve({ protocol: socket.protocol });
        socket.close();
      });
      socket.on('error', (err) => resolve({ error: err.message }));
    });

  it('a client asking for another subprotocol, or none, is told which to use (not a handshake failing without a reason)', async () => {
    for (const protocols of ['graphql-ws', undefined, ['nope', 'other']]) {
      const res = await handshake(protocols);
      expect(res.status, String(protocols)).toBe(400);
      expect(JSON.parse(res.body ?? '')).toMatchObject({
        errors: [{ message: /use the subprotocol graphql-transport-ws/, extensions: { code: 'BAD_REQUEST' } }],
      });
    }
    // subscriptions-transport-ws (Apollo's old client) is named: its subprotocol is called graphql-ws.
    expect((await handshake('graphql-ws')).body).toContain('subscriptions-transport-ws');
    expect(await handshake(['graphql-ws', 'graphql-transport-ws'])).toEqual({ protocol: 'graphql-transport-ws' });
  });

  it('a message over the limit or not UTF-8 closes the socket with its code, and is not logged as the server’s fault', async () => {
    const logged = vi.spyOn(console, 'error');
    try {
      for (const [message, code] of [
        ['x'.repeat(70_000), 1009],
        [Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 1007],
      ] as const) {
        const socket = new WebSocket(`${api.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
        socket.on('error', () => {});
        await new Promise((resolve) => socket.once('open', resolve));
        socket.send('{"type":"connection_init"}');
        await new Promise((resolve) => socket.once('message', resolve));
        socket.send(message, { binary: false });
        expect(await new Promise((resolve) => socket.once('close', resolve))).toBe(code);
      }
      expect(logged).not.toHaveBeenCalled();
    } finally {
      logged.mockRestore();
    }
  });

  it('a client that resets its connection while answers are on the way is not logged as the server’s fault', async () => {
    const logged = vi.spyOn(console, 'error');
    try {
      const reset = () =>
        new Promise<void>((resolve) => {
          const socket = new WebSocket(`${api.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
          socket.on('error', () => {});
          socket.on('open', () => socket.send('{"type":"connection_init"}'));
          socket.once('message', () => {
            const tcp = (socket as unknown as { _socket: import('node:net').Socket })._socket;
            // Large answers (the schema, 150 times) it does not read, then gone without a close:
            // a TCP reset while the server still writes.
            const schema = '__schema { types { name description fields { name description args { name } } } }';
            const query = `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: ${schema}`).join(' ')} }`;
            for (let id = 0; id < 10; id++) {
              socket.send(JSON.stringify({ id: String(id), type: 'subscribe', payload: { query } }));
            }
            tcp.pause();
            setTimeout(() => {
              tcp.resetAndDestroy();
              resolve();
            }, 200);
          });
        });
      await Promise.all(Array.from({ length: 2 }, reset));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(logged).not.toHaveBeenCalled();
    } finally {
      logged.mockRestore();
    }
  });
});

describe('security headers', () => {
  it('every response forbids framing and sets a content security policy', async () => {
    for (const path of ['/', '/healthz', '/metrics', '/graphql?query=%7B__typename%7D', '/nowhere']) {
      const res = await fetch(`${api.url}${path}`);
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('content-security-policy'), path).toBe(
        path.startsWith('/graphql') ? GRAPHIQL_CSP : APP_CSP,
      );
      await res.arrayBuffer();
    }
    expect(APP_CSP).toContain("frame-ancestors 'none'");
    expect(APP_CSP).toContain("script-src 'self'");
    expect(APP_CSP).not.toContain('unsafe-eval');
  });
});

describe('GraphiQL', () => {
  it('is served whole from this server, so it works offline', async () => {
    const res = await fetch(`${api.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('tickcast GraphQL');
    // Nothing is fetched from elsewhere: no script, stylesheet or icon with an absolute URL.
    expect(html.match(/<(script|link)[^>]+(src|href)="https?:/g) ?? []).toEqual([]);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdn\./);
  });
});

describe('GraphQL over HTTP (graphql-http audits)', () => {
  it('passes every audit of the spec', async () => {
    const results = await Promise.all(serverAudits({ url: `${api.url}/graphql` }).map((audit) => audit.fn()));
    const failed = results.filter((r) => r.status !== 'ok').map((r) => `${r.status}: ${r.name}: ${r.reason}`);
    expect(failed).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(50);
  });
});

describe('/metrics', () => {
  it('passes promtool check metrics (from Debian’s prometheus package)', async (t) => {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    expect(text).toContain('tickcast_watermark_seconds');
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error) {
      // .ci/run installs it; a developer machine may not have it.
      t.skip();
      return;
    }
    expect(`${promtool.stdout}${promtool.stderr}`.trim()).toBe('');
    expect(promtool.status).toBe(0);
  });
});
