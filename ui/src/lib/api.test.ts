// The dashboard's API client against a REAL tickcast API (a pipeline that replayed KO into DuckDB),
// from a page (happy-dom) served from that server: queries over fetch, subscriptions over one
// graphql-ws connection, its state for the header, and the API key paths (HTTP 401, close 4403).
import { get } from 'svelte/store';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { ApiServer } from '../../../api/server.js';
import { openPage, startTestPipeline, type TestPipeline } from '../../test/api-server';
import type * as Api from './api';

const KEY = 'a-key-of-16-chars-min';
const DEADLINE_MS = 20_000;

let pipeline: TestPipeline;
let server: ApiServer;
let page: ReturnType<typeof openPage>;

/** The sockets graphql-ws opened (happy-dom's WebSocket, over the network), and their close codes. */
const sockets: WebSocket[] = [];
const socketEvents = new EventTarget();
let onOpen: (() => void) | null = null;

/** Resolves with the next close of any socket with `code` (any code: undefined), or fails at the deadline. */
function socketClosed(code?: number): Promise<CloseEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socketEvents.removeEventListener('close', on);
      reject(new Error(`no socket closed with ${code ?? 'any code'} within ${DEADLINE_MS} ms`));
    }, DEADLINE_MS);
    const on = (e: Event) => {
      const event = (e as CustomEvent<CloseEvent>).detail;
      if (code !== undefined && event.code !== code) return;
      clearTimeout(timer);
      socketEvents.removeEventListener('close', on);
      resolve(event);
    };
    socketEvents.addEventListener('close', on);
  });
}

/** Resolves once the connection state satisfies `ok`, or fails at the deadline with the last state. */
function stateWhere(api: typeof Api, ok: (s: Api.ConnectionState) => boolean): Promise<Api.ConnectionState> {
  return new Promise((resolve, reject) => {
    let last: Api.ConnectionState | undefined;
    let stop: (() => void) | undefined;
    const timer = setTimeout(() => {
      stop?.();
      reject(new Error(`connection state still ${JSON.stringify(last)} after ${DEADLINE_MS} ms`));
    }, DEADLINE_MS);
    stop = api.connectionState.subscribe((s) => {
      last = s;
      if (!ok(s)) return;
      clearTimeout(timer);
      queueMicrotask(() => stop?.());
      resolve(s);
    });
  });
}

/** The first message of a subscription (or its error), within the deadline. */
function firstOf<T>(api: typeof Api, text: string, variables: Record<string, unknown> = {}) {
  return new Promise<{ data?: T; error?: Api.ApiError }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message within ${DEADLINE_MS} ms`)), DEADLINE_MS);
    const done = (r: { data?: T; error?: Api.ApiError }) => {
      clearTimeout(timer);
      // Not from inside the handler: Node's ws hands over every frame of a chunk in one task, so
      // the server's `complete` right behind this message would release graphql-ws's lock a second
      // time and the client would stop reconnecting. A browser runs microtasks between messages.
      queueMicrotask(() => sub.unsubscribe());
      resolve(r);
    };
    const sub = api.subscribe<T>(
      text,
      variables,
      (data) => done({ data }),
      (error) => done({ error }),
    );
  });
}

/** A fresh copy of the module (its own socket and state), as a page load would have. */
async function loadApi(): Promise<typeof Api> {
  vi.resetModules();
  return import('./api');
}

beforeAll(async () => {
  pipeline = await startTestPipeline(['KO']);
  server = await pipeline.serve();
  page = openPage(`${server.url}/`);
  class Counted extends (page.window.WebSocket as unknown as typeof WebSocket) {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
      this.addEventListener('open', () => onOpen?.());
      this.addEventListener('close', (e) => socketEvents.dispatchEvent(new CustomEvent('close', { detail: e })));
    }
  }
  vi.stubGlobal('WebSocket', Counted);
}, 120_000);

afterAll(async () => {
  vi.useRealTimers();
  await page?.close();
  await pipeline?.close();
});

/** graphql-ws reports a close it will not retry to console.error (taken when the client is made). */
let reported: MockInstance<typeof console.error>;

describe('an open server (no API keys)', () => {
  let api: typeof Api;
  beforeAll(async () => {
    reported = vi.spyOn(console, 'error').mockImplementation(() => {});
    api = await loadApi();
  });
  afterAll(() => reported.mockRestore());

  it('the page asks the server it was served from', () => {
    expect(document.baseURI).toBe(`${server.url}/`);
  });

  it('query() returns the data', async () => {
    expect(await api.query<{ health: { status: string } }>('{ health { status } }')).toEqual({
      health: { status: 'ok' },
    });
    const q = await api.query<{ latestBar: { close: number } | null }>(
      'query ($s: String!) { latestBar(symbol: $s) { close } }',
      { s: 'ko' },
    );
    expect(q.latestBar?.close).toBeGreaterThan(0);
  });

  it('a GraphQL error becomes an ApiError with its code (and the unknown symbols)', async () => {
    const err = await api.query('{ latestBar(symbol: "NOPE") { close } }').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(api.ApiError);
    expect(err).toMatchObject({
      code: 'UNKNOWN_SYMBOL',
      symbols: ['NOPE'],
      message: expect.stringMatching(/unknown symbol/),
    });
    const syntax = await api.query('{ latestBar(').catch((e: unknown) => e);
    expect(syntax).toBeInstanceOf(api.ApiError);
    expect(syntax).toMatchObject({
      code: 'GRAPHQL_PARSE_FAILED',
      symbols: [],
      message: expect.stringMatching(/^Syntax Error/),
    });
  });

  it('connect() opens the socket at once: connecting, then live', async () => {
    expect(get(api.connectionState)).toEqual({ kind: 'connecting', attempt: 0 });
    const opened = sockets.length;
    api.connect();
    api.connect(); // one socket for the session
    expect(await stateWhere(api, (s) => s.kind === 'live')).toEqual({ kind: 'live' });
    expect(sockets.length).toBe(opened + 1);
  });

  it('subscribe() delivers the messages of a subscription', async () => {
    const first = await firstOf<{ pipelineMetrics: { at: string; nodes: Array<{ node: string }> } }>(
      api,
      'subscription { pipelineMetrics { at nodes { node } } }',
    );
    expect(first.error).toBeUndefined();
    expect(Date.parse(first.data!.pipelineMetrics.at)).toBeGreaterThan(0);
    expect(first.data!.pipelineMetrics.nodes.map((n) => n.node)).toContain('market-data');
  });

  it('a subscription the server refuses ends with an ApiError', async () => {
    const r = await firstOf(api, 'subscription ($s: [String!]!) { predictions(symbols: $s) { id } }', { s: ['NOPE'] });
    expect(r.data).toBeUndefined();
    expect(r.error).toBeInstanceOf(api.ApiError);
    expect(r.error).toMatchObject({ code: 'UNKNOWN_SYMBOL', symbols: ['NOPE'] });
  });

  it('when the server goes away: queries fail with NETWORK, the socket reconnects with backoff', async () => {
    const closed = socketClosed();
    await server.close();
    await closed;
    const err = await api.query('{ health { status } }').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(api.ApiError);
    expect(err).toMatchObject({ code: 'NETWORK', message: 'The API is not reachable. Is tickcast running?' });
    // A retry has started (attempt 1), keeping the reason of the close.
    const s = await stateWhere(api, (s) => s.kind === 'reconnecting' && s.attempt >= 1);
    expect(s).toMatchObject({ kind: 'reconnecting', reason: expect.stringMatching(/^(Going away|code \d+)$/) });
  });

  it('back on the same address with API keys: the socket is closed with 4403, the state is unauthorized, no retry', async () => {
    // Fake timers from the moment the refused socket opens: a retry would wait on one of them.
    onOpen = () => {
      onOpen = null;
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    };
    const refused = socketClosed(4403);
    server = await pipeline.serve({ port: server.port, apiKeys: [KEY] });
    await refused;
    try {
      expect(get(api.connectionState)).toEqual({ kind: 'unauthorized', refused: false });
      const count = sockets.length;
      await vi.advanceTimersByTimeAsync(60_000); // past the longest backoff (10 s)
      expect(sockets.length).toBe(count);
      expect(reported).toHaveBeenCalledWith(expect.objectContaining({ code: 4403 }));
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a server that needs an API key', () => {
  let api: typeof Api;
  beforeAll(async () => {
    reported = vi.spyOn(console, 'error').mockImplementation(() => {});
    sessionStorage.clear();
    api = await loadApi();
  });
  afterAll(() => {
    sessionStorage.clear();
    reported.mockRestore();
  });

  it('a query without a key: HTTP 401, UNAUTHENTICATED, the state asks for a key', async () => {
    expect(api.apiKey()).toBeNull();
    const err = await api.query('{ health { status } }').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(api.ApiError);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(get(api.connectionState)).toEqual({ kind: 'unauthorized', refused: false });
  });

  it('useApiKey() keeps the key for the session and reloads; a wrong one is refused', async () => {
    const reload = vi.spyOn(location, 'reload').mockImplementation(() => {});
    try {
      api.useApiKey('not-the-right-key-at-all');
      expect(reload).toHaveBeenCalledTimes(1);
      expect(sessionStorage.getItem('tickcast.apiKey')).toBe('not-the-right-key-at-all');
      await expect(api.query('{ health { status } }')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(get(api.connectionState)).toEqual({ kind: 'unauthorized', refused: true });

      api.useApiKey(`  ${KEY}\n`);
      expect(api.apiKey()).toBe(KEY);
    } finally {
      reload.mockRestore();
    }
  });

  it('with the right key, queries and subscriptions work', async () => {
    // The page reloads after useApiKey: a fresh module.
    api = await loadApi();
    expect(await api.query('{ health { status } }')).toEqual({ health: { status: 'ok' } });
    const first = await firstOf<{ pipelineMetrics: { at: string } }>(api, 'subscription { pipelineMetrics { at } }');
    expect(first.data?.pipelineMetrics.at).toEqual(expect.any(String));
    expect(get(api.connectionState)).toEqual({ kind: 'live' });
  });

  it('a key the server stops accepting: close 4403, unauthorized and refused, given up', async () => {
    sessionStorage.setItem('tickcast.apiKey', 'revoked-key-0123456789');
    // The server restarts without that key; the socket reconnects with it and is refused.
    const dropped = socketClosed();
    await server.close();
    await dropped;
    const refused = socketClosed(4403);
    server = await pipeline.serve({ port: server.port, apiKeys: [KEY] });
    await refused;
    expect(get(api.connectionState)).toEqual({ kind: 'unauthorized', refused: true });
    // graphql-ws gives up on it (no retry) and says so, a few promise turns after the close.
    await vi.waitFor(() => expect(reported).toHaveBeenCalledWith(expect.objectContaining({ code: 4403 })), {
      timeout: DEADLINE_MS,
    });
  });

  it('apiKey() is null when storage is disabled', () => {
    vi.stubGlobal('sessionStorage', {
      getItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      setItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
    });
    const reload = vi.spyOn(location, 'reload').mockImplementation(() => {});
    try {
      expect(api.apiKey()).toBeNull();
      expect(() => api.useApiKey(KEY)).not.toThrow();
      expect(reload).toHaveBeenCalled();
    } finally {
      reload.mockRestore();
      vi.stubGlobal('sessionStorage', page.window.sessionStorage);
    }
  });
});
