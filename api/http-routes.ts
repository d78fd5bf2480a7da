// The HTTP routes of the server's one port: /graphql (rate limit, API key and body size checked
// before Yoga), /metrics, /healthz, and the dashboard. A handler that throws answers 500 without
// a stack on the wire, and the error goes to the log.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../engine/log.js';
import { ErrorCode } from './errors.js';
import type { Health } from './health.js';
import { normalizeContentType } from './http-protocol.js';
import type { ApiLimits, RateLimiter } from './limits.js';
import { requestDurations } from './request-metrics.js';
import { setSecurityHeaders } from './security-headers.js';
import type { ServerOptions } from './server.js';
import { staticUi } from './static.js';
import type { GraphqlYoga } from './yoga.js';

export interface RouteDeps {
  opts: ServerOptions;
  yoga: GraphqlYoga;
  limits: ApiLimits;
  limiter: RateLimiter<string>;
  keyOk: (key: unknown) => boolean;
  /** Answers a request refused before Yoga (and counts it). */
  refuse: (res: ServerResponse, status: number, code: ErrorCode, message: string) => void;
  /** /metrics: every registry merged (read per request: workers' registries come and go). */
  metrics: () => Registry;
  /** /healthz: readiness now. */
  health: () => Promise<Health>;
  /** Registers where the request-duration histogram lives. */
  registers: Registry[];
  log: Logger;
}

export function httpRoutes(deps: RouteDeps): RequestListener {
  const { opts, yoga, limits, refuse, log } = deps;
  const ui = opts.uiDir ? staticUi(opts.uiDir) : null;
  const timeRequest = requestDurations(deps.registers);

  const graphql = async (req: IncomingMessage, res: ServerResponse) => {
    if (!deps.limiter.take(req.socket.remoteAddress ?? '?')) {
      res.setHeader('retry-after', '1');
      return refuse(res, 429, ErrorCode.RATE_LIMITED, 'too many requests: slow down');
    }
    // CORS preflights carry no key; Yoga answers them.
    if (req.method !== 'OPTIONS' && !deps.keyOk(req.headers['x-api-key'])) {
      return refuse(res, 401, ErrorCode.UNAUTHENTICATED, 'missing or unknown API key (header x-api-key)');
    }
    // A POST (the one request whose body Yoga reads) needs a content-length within the limit:
    // node's parser then reads exactly that many bytes (it refuses content-length together with
    // transfer-encoding), so Yoga's own streaming body limit is redundant and is off (yoga.ts).
    // Other methods go on to Yoga's 405 (GET and POST only), which does not read their body.
    if (req.method === 'POST') {
      const length = Number(req.headers['content-length']);
      if (req.headers['content-length'] === undefined || !Number.isFinite(length)) {
        return refuse(res, 411, ErrorCode.PAYLOAD_TOO_LARGE, 'POST needs a content-length');
      }
      if (length > limits.maxPayloadBytes) {
        return refuse(res, 413, ErrorCode.PAYLOAD_TOO_LARGE, `body over ${limits.maxPayloadBytes} bytes`);
      }
    }
    normalizeContentType(req.headers);
    return yoga(req, res, { req, res });
  };

  const route = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path === '/graphql') return graphql(req, res);
    if (path === '/metrics') {
      const registry = deps.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(await registry.metrics());
    } else if (path === '/healthz') {
      const h = await deps.health();
      res.writeHead(h.status === 'down' ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(h));
    } else if (!(ui && (await ui(req, res, path)))) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: try /graphql, /metrics or /healthz\n');
    }
  };

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] || '/';
    timeRequest(path, res);
    setSecurityHeaders(res, path);
    route(req, res, path).catch((err: unknown) => {
      log.error({ err, method: req.method, path }, 'request failed');
      // Never a stack trace on the wire; the cause is in the log.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  };
}
