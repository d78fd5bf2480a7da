// The HTTP server of a running tickcast, on one port: GraphQL (Yoga) at /graphql over HTTP,
// graphql-ws subscriptions on the same path, /healthz (readiness, JSON) and /metrics
// (Prometheus text: the engine's per-node series and the API's own).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type YogaInitialContext } from 'graphql-yoga';
import { Counter, Gauge, Registry } from 'prom-client';
import { type WebSocket, WebSocketServer } from 'ws';
import type { LiveHub, TableTopic } from '../engine/index.js';
import type { MarketDataStatus } from '../engine/source-status.js';
import { ExplanationService, type ExplanationServiceOptions } from '../explain/explanation-service.js';
import { type EarningsCalendar, emptyEarningsCalendar } from '../models/earnings-calendar.js';
import type { Calibration } from '../schemas/index.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { ApiContext, ApiServices } from './context.js';
import { DIRECT_SINK, type DirectSink, type DirectStats, wsDirectSink } from './direct-sink.js';
import { apiError, ErrorCode, errorBody } from './errors.js';
import { health } from './health.js';
import { httpProtocolPlugin, normalizeContentType } from './http-protocol.js';
import { LatestCache } from './latest.js';
import { type ApiLimits, armorPlugins, DEFAULT_LIMITS, RateLimiter } from './limits.js';
import { readLiveSkill } from './live-skill.js';
import { readModelInfo } from './model-info.js';
import { type PipelineSource, PipelineView } from './pipeline-view.js';
import { hubFeed, type LiveFeed } from './pubsub.js';
import { requestDurations } from './request-metrics.js';
import { schemaFor } from './schema/index.js';
import { setSecurityHeaders } from './security-headers.js';
import { useSharedSubscriptionItems } from './shared-items.js';
import { staticUi } from './static.js';

export { type Health, health } from './health.js';

export interface ApiServer {
  /** http://host:port */
  readonly url: string;
  readonly port: number;
  /** Open graphql-ws connections. */
  connections(): number;
  close(): Promise<void>;
}

export interface ServerOptions {
  running: PipelineSource;
  store: TimeSeriesStore;
  /** The hub the pipeline's `live` sinks publish to (or give `feed` directly). */
  hub?: LiveHub;
  feed?: LiveFeed;
  host: string;
  /** 0 picks a free port. */
  port: number;
  horizons?: readonly number[];
  serving?: ApiServices['serving'];
  /** When non-empty, every request needs one of these keys (`x-api-key`, or `{ apiKey }` in connection_init). */
  apiKeys?: readonly string[];
  /** Origins allowed by CORS; empty = no CORS headers (same origin only); ['*'] = any. */
  corsOrigins?: readonly string[];
  limits?: Partial<ApiLimits>;
  /** Where shipped.json lives (default models/artifacts). */
  modelDir?: string;
  /** Sampling interval of pipeline metrics, ms (default 1000). */
  metricsIntervalMs?: number;
  /** Earnings announcements (the router's calendar); none = no dates. */
  calendar?: EarningsCalendar;
  /** The built dashboard (ui/dist), served at `/`; none = the API only. */
  uiDir?: string;
  /** The market-data source's state: GraphQL `marketData`, and /healthz degraded while it is. */
  marketData?: () => MarketDataStatus | null;
  /** More prom-client registries served at /metrics (e.g. the yahoo source's requests, breakers, data age). */
  registries?: readonly Registry[];
  /** The online interval calibration in force (GraphQL `calibration`); none = not calibrated. */
  calibration?: () => readonly Calibration[];
  /**
   * Public topics served with types generated from their Avro schemas (api/schema/records.ts): the
   * running pipeline's and the bundled pipelines' (`servedTopics`); none = only the fixed schema.
   */
  topics?: readonly TableTopic[];
  /** Explanations (retrieval sources and explainer); none = the explanation fields answer with an error. */
  explain?: Omit<ExplanationServiceOptions, 'predictions' | 'horizons' | 'registry'>;
}

interface ServerContext {
  req: IncomingMessage;
  res: ServerResponse;
}

/** What Yoga's Envelop hands graphql-ws per operation, kept on rootValue for execute/subscribe. */
interface Enveloped {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
  [DIRECT_SINK]: DirectSink;
}

/** The API could not listen: the port is taken, or the host is not an address of this machine. */
export class ListenError extends Error {
  readonly code: string | undefined;
  constructor(
    cause: NodeJS.ErrnoException,
    readonly host: string,
    readonly port: number,
  ) {
    super(
      cause.code === 'EADDRINUSE'
        ? `port ${port} is in use`
        : cause.code === 'EADDRNOTAVAIL' || cause.code === 'ENOTFOUND' || cause.code === 'EAI_AGAIN'
          ? `${host} is not an address of this machine`
          : `cannot listen on ${host}:${port}: ${cause.message}`,
      { cause },
    );
    this.name = 'ListenError';
    this.code = cause.code;
  }
}

export async function startServer(opts: ServerOptions): Promise<ApiServer> {
  const limits: ApiLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const feed = opts.feed ?? (opts.hub ? hubFeed(opts.hub) : null);
  if (!feed) throw new Error('startServer: give the live hub (hub) or a LiveFeed (feed)');
  const latest = new LatestCache(feed, opts.store);
  const pipeline = new PipelineView(opts.running, opts.metricsIntervalMs);
  // API metrics live in their own registry, merged with the engine's for /metrics.
  const apiRegistry = new Registry();
  const registers = [apiRegistry];
  const horizons = opts.horizons ?? [1, 5, 21];
  const explanations = opts.explain
    ? new ExplanationService({
        ...opts.explain,
        horizons,
        registry: apiRegistry,
        predictions: { latest: (s, h) => latest.prediction(s, h), has: (s) => latest.has(s) },
        announced: true,
      })
    : null;
  // A new prediction makes the cached explanations of the older one stale.
  const unwatchExplained = explanations
    ? feed.subscribeAll('predictions', (p) => explanations.onPrediction(p))
    : () => undefined;
  let modelInfo: ReturnType<typeof readModelInfo> | null = null;
  const services: ApiServices = {
    store: opts.store,
    feed,
    latest,
    pipeline,
    running: opts.running,
    horizons,
    limits,
    calendar: opts.calendar ?? emptyEarningsCalendar(),
    modelInfo: () => {
      modelInfo ??= readModelInfo(opts.modelDir);
      return modelInfo;
    },
    serving: opts.serving ?? {
      normal: { name: 'unknown', version: 'unknown' },
      earnings: { name: 'unknown', version: 'unknown' },
    },
    explanations,
    marketData: () => opts.marketData?.() ?? null,
    calibration: () => opts.calibration?.() ?? [],
    liveSkill: () => readLiveSkill(opts.registries ?? []),
  };
  const apiKeys = new Set(opts.apiKeys ?? []);
  const keyOk = (key: unknown) => apiKeys.size === 0 || (typeof key === 'string' && apiKeys.has(key));
  const origins = opts.corsOrigins ?? [];

  let graphiqlPage: string | undefined;
  const yoga = createYoga<ServerContext, ApiContext>({
    schema: schemaFor(opts.topics ?? []),
    graphqlEndpoint: '/graphql',
    context: () => ({ services }),
    // (graphql-jit was tried for fan-out: its subscribe drops variable arguments of the root field.)
    plugins: [httpProtocolPlugin(), armorPlugins(limits), useSharedSubscriptionItems()],
    // Enforced on content-length before Yoga (see the request handler): Yoga's limit pipes every
    // body through a TransformStream and an AbortSignal, a large part of a small query's cost.
    maxRequestBodySize: false,
    // Resolver errors that are not GraphQLErrors become "Unexpected error." with no stack.
    maskedErrors: { isDev: false },
    cors: origins.length === 0 ? false : { origin: origins.includes('*') ? '*' : [...origins] },
    logging: 'error',
    // GraphiQL from the package's own bundle, not a CDN: it works offline. Rendered once (megabytes).
    graphiql: { title: 'tickcast GraphQL' },
    renderGraphiQL: (opts) => (graphiqlPage ??= renderGraphiQL(opts)),
  });

  const refused = new Counter({
    name: 'tickcast_api_refused_total',
    help: 'Requests and operations refused before execution, by code',
    labelNames: ['code'],
    registers,
  });

  const httpLimiter = new RateLimiter<string>(limits.httpRatePerSecond, limits.httpBurst);
  const wsLimiter = new RateLimiter<WebSocket>(limits.wsRatePerSecond, limits.wsBurst);
  const sweeper = setInterval(() => {
    httpLimiter.sweep();
    wsLimiter.sweep();
  }, 10_000);
  sweeper.unref();

  const refuse = (res: ServerResponse, status: number, code: ErrorCode, message: string) => {
    refused.inc({ code });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(errorBody(code, message));
  };

  const ui = opts.uiDir ? staticUi(opts.uiDir) : null;
  const timeRequest = requestDurations(registers);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    timeRequest(path ?? '/', res);
    setSecurityHeaders(res, path ?? '/');
    const reply = async () => {
      if (path === '/graphql') {
        if (!httpLimiter.take(req.socket.remoteAddress ?? '?')) {
          res.setHeader('retry-after', '1');
          return refuse(res, 429, ErrorCode.RATE_LIMITED, 'too many requests: slow down');
        }
        // CORS preflights carry no key; Yoga answers them.
        if (req.method !== 'OPTIONS' && !keyOk(req.headers['x-api-key'])) {
          return refuse(res, 401, ErrorCode.UNAUTHENTICATED, 'missing or unknown API key (header x-api-key)');
        }
        // Every request that may carry a body needs a content-length within the limit: node's
        // parser then reads exactly that many bytes (it refuses content-length together with
        // transfer-encoding), so Yoga's own streaming body limit is redundant and is off below.
        if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS') {
          const length = Number(req.headers['content-length']);
          if (req.headers['content-length'] === undefined || !Number.isFinite(length)) {
            return refuse(res, 411, ErrorCode.PAYLOAD_TOO_LARGE, `${req.method} needs a content-length`);
          }
          if (length > limits.maxPayloadBytes) {
            return refuse(res, 413, ErrorCode.PAYLOAD_TOO_LARGE, `body over ${limits.maxPayloadBytes} bytes`);
          }
        }
        normalizeContentType(req.headers);
        return yoga(req, res, { req, res });
      }
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(await registry.metrics());
      } else if (path === '/healthz') {
        const h = await health(opts.running, opts.store, opts.marketData);
        res.writeHead(h.status === 'down' ? 503 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(h));
      } else if (!(ui && (await ui(req, res, path ?? '/')))) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found: try /graphql, /metrics or /healthz\n');
      }
    };
    reply().catch(() => {
      // Never a stack trace on the wire; the cause is in the server's log.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });

  // Listening first: a port in use or a host that is not this machine's fails here, as one
  // ListenError, before the WebSocket server attaches (it would log the failure as its own).
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ListenError(err, opts.host, opts.port)));
    server.listen(opts.port, opts.host, resolve);
  });
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: limits.maxPayloadBytes });
  let wsConnections = 0;
  new Gauge({
    name: 'tickcast_api_websocket_connections',
    help: 'Open graphql-ws connections',
    registers,
    collect() {
      this.set(wsConnections);
    },
  });
  const direct: DirectStats = { sent: 0 };
  new Counter({
    name: 'tickcast_api_direct_messages_total',
    help: 'Subscription messages written pre-serialized (shared execution), not through graphql-ws',
    registers,
    collect() {
      this.reset();
      this.inc(direct.sent);
    },
  });
  const registry = Registry.merge([pipeline.registry, apiRegistry, ...(opts.registries ?? [])]);
  wss.on('connection', (socket) => {
    wsConnections++;
    socket.once('close', () => {
      wsConnections--;
      wsLimiter.forget(socket);
    });
  });
  const refusal = (code: ErrorCode, message: string): readonly GraphQLError[] => {
    refused.inc({ code });
    return [apiError(code, message)];
  };
  const disposeWs = useServer<{ apiKey?: unknown } | undefined, { socket: WebSocket; request: IncomingMessage }>(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args) as never,
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args) as never,
      // false closes the socket with 4403 Forbidden.
      onConnect: (ctx) => keyOk(ctx.connectionParams?.apiKey ?? ctx.extra.request.headers['x-api-key']),
      onSubscribe: async (ctx, id, payload: SubscribePayload) => {
        if (!wsLimiter.take(ctx.extra.socket)) return refusal(ErrorCode.RATE_LIMITED, 'too many operations: slow down');
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

  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    port,
    connections: () => wsConnections,
    close: async () => {
      clearInterval(sweeper);
      pipeline.close();
      latest.close();
      unwatchExplained();
      await disposeWs.dispose();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
