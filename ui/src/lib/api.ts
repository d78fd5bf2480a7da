// Talking to the tickcast API: queries over HTTP POST, subscriptions over one graphql-ws
// connection that reconnects by itself (with backoff) and publishes its state for the header.
// A server started with TICKCAST_API_KEYS refuses requests without a key (HTTP 401, socket close
// 4403): then the state is `unauthorized`, retrying stops, and the header asks for a key, kept
// for the browser session (sessionStorage), never in the URL.
import { print } from '@0no-co/graphql.web';
import { type Client, createClient } from 'graphql-ws';
import { type Readable, writable } from 'svelte/store';
import type { TadaDocumentNode } from './graphql';

export type ConnectionState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'live' }
  | { kind: 'reconnecting'; attempt: number; reason: string }
  /** The server needs an API key: none was given (`refused` false) or the one given was refused. */
  | { kind: 'unauthorized'; refused: boolean };

const KEY_ITEM = 'tickcast.apiKey';
/** The key given in this browser session, if any. */
export function apiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_ITEM);
  } catch {
    return null; // storage disabled: the key lasts as long as the page
  }
}

/** Uses `key` from now on (this session), then reloads so every view fetches with it. */
export function useApiKey(key: string): void {
  try {
    sessionStorage.setItem(KEY_ITEM, key.trim());
  } catch {}
  location.reload();
}

const unauthorized = () => connection.set({ kind: 'unauthorized', refused: apiKey() !== null });
/** graphql-ws close code of a refused connection_init (the server's onConnect said no). */
const FORBIDDEN = 4403;

const connection = writable<ConnectionState>({ kind: 'connecting', attempt: 0 });
export const connectionState: Readable<ConnectionState> = connection;

/** A GraphQL error with its stable `extensions.code` (UNKNOWN_SYMBOL, RATE_LIMITED, …). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
    /** For UNKNOWN_SYMBOL: the symbols the API does not know. */
    readonly symbols: readonly string[] = [],
  ) {
    super(message);
  }
}

interface GqlError {
  message: string;
  extensions?: { code?: string; symbols?: unknown };
}

interface GqlBody<T> {
  data?: T | null;
  errors?: readonly GqlError[];
}

function toError(errors: readonly GqlError[]): ApiError {
  const first = errors[0];
  const symbols = first?.extensions?.symbols;
  return new ApiError(
    first?.message ?? 'unknown error',
    first?.extensions?.code ?? null,
    Array.isArray(symbols) ? symbols.filter((s): s is string => typeof s === 'string') : [],
  );
}

const endpoint = new URL('graphql', document.baseURI);

/** Variables a document needs: none may be omitted when it declares none. */
type Args<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

/** Runs a typed document (ui/src/lib/graphql.ts): its result type comes from the schema. */
export function query<R, V>(doc: TadaDocumentNode<R, V>, ...args: Args<V>): Promise<R>;
/** Runs a query given as text (dynamic documents, e.g. a batch of aliases): its type is the caller's word. */
export function query<T>(text: string, variables?: Record<string, unknown>): Promise<T>;
export async function query<T>(doc: string | TadaDocumentNode<T, unknown>, variables: unknown = {}): Promise<T> {
  const text = typeof doc === 'string' ? doc : print(doc);
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(apiKey() === null ? {} : { 'x-api-key': apiKey()! }),
      },
      body: JSON.stringify({ query: text, variables }),
    });
  } catch {
    throw new ApiError('The API is not reachable. Is tickcast running?', 'NETWORK');
  }
  if (res.status === 401) unauthorized();
  const body = (await res.json().catch(() => ({}))) as GqlBody<T>;
  if (body.errors?.length) throw toError(body.errors);
  if (!res.ok || !body.data) throw new ApiError(`The API answered ${res.status}`, 'HTTP');
  return body.data;
}

let client: Client | null = null;
let attempt = 0;

function ws(): Client {
  if (client) return client;
  const url = new URL(endpoint);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  client = createClient({
    url: url.href,
    // One socket for the whole session, kept open between views.
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    connectionParams: () => {
      const key = apiKey();
      return key === null ? {} : { apiKey: key };
    },
    // Any close is worth retrying (the server restarts, laptops sleep) except a refused key:
    // retrying cannot fix that, the person can.
    shouldRetry: (event) => !(event instanceof CloseEvent && event.code === FORBIDDEN),
    retryWait: async (n) => {
      await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** n) * (0.5 + Math.random() / 2)));
    },
    on: {
      connecting: () => {
        connection.update((s) =>
          s.kind === 'unauthorized'
            ? s
            : s.kind === 'live' || s.kind === 'reconnecting'
              ? { kind: 'reconnecting', attempt: ++attempt, reason: s.kind === 'reconnecting' ? s.reason : 'closed' }
              : { kind: 'connecting', attempt },
        );
      },
      connected: () => {
        attempt = 0;
        connection.set({ kind: 'live' });
      },
      closed: (event) => {
        if (event instanceof CloseEvent && event.code === FORBIDDEN) return unauthorized();
        const reason = event instanceof CloseEvent ? event.reason || `code ${event.code}` : 'network';
        connection.set({ kind: 'reconnecting', attempt, reason });
      },
    },
  });
  return client;
}

export interface Subscription {
  unsubscribe(): void;
}

/**
 * Subscribes and calls `onData` per message; errors (bad input, limits) go to `onError` and
 * end that subscription. A dropped connection resubscribes on its own.
 */
export function subscribe<R, V>(
  doc: TadaDocumentNode<R, V>,
  variables: V,
  onData: (data: R) => void,
  onError?: (err: ApiError) => void,
): Subscription;
export function subscribe<T>(
  text: string,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  onError?: (err: ApiError) => void,
): Subscription;
export function subscribe<T>(
  doc: string | TadaDocumentNode<T, unknown>,
  variables: unknown,
  onData: (data: T) => void,
  onError: (err: ApiError) => void = () => {},
): Subscription {
  const text = typeof doc === 'string' ? doc : print(doc);
  const dispose = ws().subscribe<T>(
    { query: text, variables: variables as Record<string, unknown> },
    {
      next: (msg) => {
        if (msg.errors?.length) onError(toError(msg.errors as readonly GqlError[]));
        else if (msg.data) onData(msg.data as T);
      },
      error: (err) => {
        if (Array.isArray(err)) onError(toError(err as readonly GqlError[]));
        // Socket-level errors are the connection's business: retried, shown in the header.
      },
      complete: () => {},
    },
  );
  return { unsubscribe: dispose };
}

/** Opens the socket early so the header shows the state from the first paint. */
export function connect(): void {
  ws();
}
