// The HTTP server of a running tickcast, on one port: GraphQL (Yoga) at /graphql over HTTP,
// graphql-ws subscriptions on the same path, /healthz (readiness, JSON) and /metrics
// (Prometheus text: the engine's per-node series and the API's own). This file puts the parts
// together: services.ts (what resolvers read), yoga.ts (GraphQL over HTTP), http-routes.ts (the
// routes and their checks), websocket.ts (graphql-ws).
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { WebSocket } from 'ws';
import type { LiveHub, TableTopic } from '../engine/index.js';
import { createLogger, type Logger } from '../engine/log.js';
import type { MarketDataStatus } from '../engine/source-status.js';
import type { ExplanationServiceOptions } from '../explain/explanation-service.js';
import type { EarningsCalendar } from '../models/earnings-calendar.js';
import type { Calibration } from '../schemas/index.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { PipelineServices } from './context.js';
import type { EarlyServer } from './early-server.js';
import { type ErrorCode, errorBody } from './errors.js';
import { health } from './health.js';
import { httpRoutes } from './http-routes.js';
import { type ApiLimits, DEFAULT_LIMITS, RateLimiter } from './limits.js';
import type { PipelineSource } from './pipeline-view.js';
import { hubFeed, type LiveFeed } from './pubsub.js';
import { createServices } from './services.js';
import { attachGraphqlWs } from './websocket.js';
import { createGraphqlYoga } from './yoga.js';

export { type Health, health } from './health.js';

export interface ApiServer {
  /** http://host:port */
  readonly url: string;
  readonly port: number;
  /** Open graphql-ws connections. */
  connections(): number;
  /** A server started without its pipeline (no `running`) gets it here, once, when it runs. */
  pipelineStarted(binding: PipelineBinding): void;
  close(): Promise<void>;
}

/** What the server serves of the running pipeline: given in ServerOptions, or once it runs. */
export interface PipelineBinding {
  running: PipelineSource;
  serving?: PipelineServices['serving'];
  /** The market-data source's state: GraphQL `marketData`, and /healthz degraded while it is. */
  marketData?: () => MarketDataStatus | null;
  /** Explanations (retrieval sources and explainer); none = the explanation fields answer with an error. */
  explain?: Omit<ExplanationServiceOptions, 'predictions' | 'horizons' | 'registry'>;
}

/**
 * Without `running`, the server starts before its pipeline: queries of the store, the live feed
 * and the model's files answer at once, /healthz says `starting` (200 once the store answers),
 * and what reads the pipeline (the DAG and its metrics, dead letters, the models it runs, market
 * data, explanations) waits until `ApiServer.pipelineStarted` gives it.
 */
export interface ServerOptions extends Partial<PipelineBinding> {
  store: TimeSeriesStore;
  /** The hub the pipeline's `live` sinks publish to (or give `feed` directly). */
  hub?: LiveHub;
  feed?: LiveFeed;
  host: string;
  /** 0 picks a free port. */
  port: number;
  horizons?: readonly number[];
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
  /** More prom-client registries served at /metrics (e.g. the yahoo source's requests, breakers, data age). */
  registries?: readonly Registry[];
  /** The online interval calibration in force (GraphQL `calibration`); none = not calibrated. */
  calibration?: () => readonly Calibration[];
  /**
   * Public topics served with types generated from their Avro schemas (api/schema/records.ts): the
   * running pipeline's and the bundled pipelines' (`servedTopics`); none = only the fixed schema.
   */
  topics?: readonly TableTopic[];
  /** Where handler errors go (default: a text log on stderr). */
  log?: Logger;
  /** A socket already listening at host:port, its early requests held (api/early-server.ts); none = listen here. */
  early?: EarlyServer | null;
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
  const log = opts.log ?? createLogger({ name: 'tickcast api' });
  // API metrics live in their own registry, merged with the engine's for /metrics.
  const apiRegistry = new Registry();
  const registers = [apiRegistry];
  const {
    services,
    pipelineStarted,
    close: closeServices,
  } = createServices(opts, { feed, limits, registry: apiRegistry });
  const apiKeys = new Set(opts.apiKeys ?? []);
  const keyOk = (key: unknown) => apiKeys.size === 0 || (typeof key === 'string' && apiKeys.has(key));
  const yoga = createGraphqlYoga(services, { topics: opts.topics ?? [], corsOrigins: opts.corsOrigins ?? [] });

  const refused = new Counter({
    name: 'tickcast_api_refused_total',
    help: 'Requests and operations refused before execution, by code',
    labelNames: ['code'],
    registers,
  });
  const refuse = (res: ServerResponse, status: number, code: ErrorCode, message: string) => {
    refused.inc({ code });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(errorBody(code, message));
  };
  const httpLimiter = new RateLimiter<string>(limits.httpRatePerSecond, limits.httpBurst);
  const wsLimiter = new RateLimiter<WebSocket>(limits.wsRatePerSecond, limits.wsBurst);
  const sweeper = setInterval(() => {
    httpLimiter.sweep();
    wsLimiter.sweep();
  }, 10_000);
  sweeper.unref();
  // Merged once every metric is registered (the WebSocket ones come after listening) and the
  // pipeline runs (its registry: none before).
  let registry: Registry | undefined;
  const metrics = () => {
    if (registry) return registry;
    const engine = services.startedNow()?.pipeline.registry;
    const merged = Registry.merge([...(engine ? [engine] : []), apiRegistry, ...(opts.registries ?? [])]);
    if (engine) registry = merged;
    return merged;
  };
  const healthNow = () => {
    const started = services.startedNow();
    return health(started?.running ?? null, opts.store, started?.marketData);
  };

  const routes = httpRoutes({
    opts,
    yoga,
    limits,
    limiter: httpLimiter,
    keyOk,
    refuse,
    metrics,
    health: healthNow,
    registers,
    log,
  });
  const early = opts.early ?? null;
  let server: Server;
  if (early) {
    server = early.server;
    server.on('request', routes);
  } else {
    server = createServer(routes);
    // Listening first: a port in use or a host that is not this machine's fails here, as one
    // ListenError, before the WebSocket server attaches (it would log the failure as its own).
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new ListenError(err, opts.host, opts.port)));
      server.listen(opts.port, opts.host, resolve);
    });
  }
  const ws = attachGraphqlWs(server, {
    yoga,
    limits,
    limiter: wsLimiter,
    keyOk,
    refused: (code) => refused.inc({ code }),
  });
  // Both handlers attached: what arrived while the process loaded is answered now.
  early?.release();
  new Gauge({
    name: 'tickcast_api_websocket_connections',
    help: 'Open graphql-ws connections',
    registers,
    collect() {
      this.set(ws.connections());
    },
  });
  new Counter({
    name: 'tickcast_api_direct_messages_total',
    help: 'Subscription messages written pre-serialized (shared execution), not through graphql-ws',
    registers,
    collect() {
      this.reset();
      this.inc(ws.direct.sent);
    },
  });

  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    port,
    connections: () => ws.connections(),
    pipelineStarted,
    close: async () => {
      clearInterval(sweeper);
      closeServices();
      await ws.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
