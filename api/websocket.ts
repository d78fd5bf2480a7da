// graphql-ws on the server's port (path /graphql): the API key at connection_init (a refusal
// closes with 4403), a per-connection operation rate and subscription cap, then Yoga's enveloped
// execute/subscribe, with shared subscriptions writing pre-serialized messages (shared-items.ts).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import { DEPRECATED_GRAPHQL_WS_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL, type SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaInitialContext } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import { DIRECT_SINK, type DirectSink, type DirectStats, wsDirectSink } from './direct-sink.js';
import { apiError, ErrorCode, errorBody, publicError, publicResult } from './errors.js';
import type { ApiLimits, RateLimiter } from './limits.js';
import type { GraphqlYoga, ServerContext } from './yoga.js';

/** What Yoga's Envelop hands graphql-ws per operation, kept on rootValue for execute/subscribe. */
interface Enveloped {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
  [DIRECT_SINK]: DirectSink;
}

export interface GraphqlWs {
  /** Open connections. */
  connections(): number;
  /** Messages written pre-serialized, not through graphql-ws. */
  readonly direct: DirectStats;
  close(): Promise<void>;
}

export function attachGraphqlWs(
  server: Server,
  deps: {
    yoga: GraphqlYoga;
    limits: ApiLimits;
    limiter: RateLimiter<WebSocket>;
    keyOk: (key: unknown) => boolean;
    /** Counts a refused operation. */
    refused: (code: ErrorCode) => void;
  },
): GraphqlWs {
  const { yoga, limits, limiter } = deps;
  const wss = new WebSocketServer({
    server,
    path: '/graphql',
    maxPayload: limits.maxPayloadBytes,
    // graphql-ws would accept the upgrade without a subprotocol and close with 4406, which a client
    // that asked for one reports as a handshake failing with no reason ("Server sent no
    // subprotocol"): refuse it with a 400 that says which to use.
    verifyClient: ({ req }, done) => {
      const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (offered.includes(GRAPHQL_TRANSPORT_WS_PROTOCOL)) return done(true);
      deps.refused(ErrorCode.BAD_REQUEST);
      const legacy = offered.includes(DEPRECATED_GRAPHQL_WS_PROTOCOL)
        ? ` (${DEPRECATED_GRAPHQL_WS_PROTOCOL} is subscriptions-transport-ws's, not supported)`
        : '';
      const message = `use the subprotocol ${GRAPHQL_TRANSPORT_WS_PROTOCOL} (the graphql-ws library)${legacy}`;
      done(false, 400, errorBody(ErrorCode.BAD_REQUEST, message), { 'Content-Type': 'application/json' });
    },
  });
  let connections = 0;
  wss.on('connection', (socket) => {
    connections++;
    socket.once('close', () => {
      connections--;
      limiter.forget(socket);
    });
  });
  const direct: DirectStats = { sent: 0 };
  const refusal = (code: ErrorCode, message: string): readonly GraphQLError[] => {
    deps.refused(code);
    return [apiError(code, message)];
  };
  const disposable = useServer<{ apiKey?: unknown } | undefined, { socket: WebSocket; request: IncomingMessage }>(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args) as never,
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args) as never,
      // Errors as over HTTP: without Yoga's internal extensions (errors.ts publicError).
      onError: (_ctx, _id, _payload, errors) => errors.map(publicError),
      onNext: (_ctx, _id, _payload, _args, result) => publicResult(result),
      // false closes the socket with 4403 Forbidden.
      onConnect: (ctx) => deps.keyOk(ctx.connectionParams?.apiKey ?? ctx.extra.request.headers['x-api-key']),
      onSubscribe: async (ctx, id, payload: SubscribePayload) => {
        if (!limiter.take(ctx.extra.socket)) return refusal(ErrorCode.RATE_LIMITED, 'too many operations: slow down');
        // graphql-ws has already registered this operation's id, hence `>`.
        if (Object.keys(ctx.subscriptions).length > limits.maxSubscriptionsPerConnection) {
          return refusal(
            ErrorCode.RATE_LIMITED,
            `at most ${limits.maxSubscriptionsPerConnection} subscriptions per connection`,
          );
        }
        // Yoga's plugins read the request and params from the initial context; a WebSocket has no response.
        const initial: Partial<YogaInitialContext> & ServerContext = {
          req: ctx.extra.request,
          res: undefined as unknown as ServerResponse,
          params: {
            query: payload.query,
            operationName: payload.operationName ?? undefined,
            variables: payload.variables ?? undefined,
            extensions: payload.extensions ?? undefined,
          },
        };
        const { schema: s, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped(initial);
        let document: ReturnType<typeof parse>;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err as GraphQLError];
        }
        const errors = validate(s, document);
        if (errors.length > 0) return errors;
        const args: ExecutionArgs = {
          schema: s,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          // Shared subscriptions write their pre-serialized messages to the sink (shared-items.ts).
          rootValue: {
            execute,
            subscribe,
            [DIRECT_SINK]: wsDirectSink(ctx.extra.socket, id, direct),
          } satisfies Enveloped,
        };
        return args;
      },
    },
    wss,
  );
  // After graphql-ws's own listener (added by useServer), so that its error listener is there.
  wss.on('connection', (socket) => quietPeerFaults(socket, deps.refused));
  return {
    connections: () => connections,
    direct,
    close: async () => {
      await disposable.dispose();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * graphql-ws logs, with a stack, any error of a socket and any failed send as the server's own
 * ("Internal error … Please check your implementation."): a stack trace per connection or per
 * operation that any client can cause.
 * - A message over the limit or a frame that breaks the protocol (ws's WS_ERR_* codes) is the
 *   client's, and ws has already closed the socket with its code (1009, 1002, 1007): counted as
 *   refused, not logged. Any other error still reaches graphql-ws.
 * - A send to a client that has gone (a reset connection, a socket closing under it) has nowhere
 *   to go: dropped, as graphql-ws drops a message to a socket it finds closed.
 */
function quietPeerFaults(socket: WebSocket, refused: (code: ErrorCode) => void): void {
  const others = socket.listeners('error') as Array<(err: Error) => void>;
  socket.removeAllListeners('error');
  socket.on('error', (err: Error & { code?: unknown }) => {
    if (typeof err.code === 'string' && err.code.startsWith('WS_ERR_')) {
      refused(err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? ErrorCode.PAYLOAD_TOO_LARGE : ErrorCode.BAD_REQUEST);
      return;
    }
    for (const listener of others) listener.call(socket, err);
  });
  // graphql-ws's adapter sends as send(data, callback); the direct sink (direct-sink.ts) passes
  // options and ignores errors itself, and goes straight through (no closure per fan-out message).
  const send = socket.send.bind(socket) as (data: unknown, options?: unknown, cb?: unknown) => void;
  socket.send = ((data: unknown, options?: unknown, cb?: unknown) => {
    if (typeof options !== 'function') return send(data, options, cb);
    const done = options as (err?: Error) => void;
    send(data, (err?: Error) => done(err && (socket.readyState !== socket.OPEN || isGone(err)) ? undefined : err));
  }) as WebSocket['send'];
}

/** An error of a write to a peer that has gone. */
const isGone = (err: Error) =>
  ['ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END'].includes(
    (err as NodeJS.ErrnoException).code ?? '',
  );
