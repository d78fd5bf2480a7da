// The HTTP server of a running tickcast: /metrics (Prometheus text) and /healthz for now;
// the GraphQL API (issue: GraphQL API) mounts on this same server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningPipeline } from '../engine/index.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';

export interface ApiServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface Health {
  status: 'ok' | 'degraded' | 'down';
  store: { kind: string; ok: boolean };
  nodes: Array<{ node: string; status: string; lastError: string | null }>;
}

export async function health(running: RunningPipeline, store: TimeSeriesStore): Promise<Health> {
  const ok = await store.ping().catch(() => false);
  const nodes = running.metrics.snapshot().map((n) => ({ node: n.node, status: n.status, lastError: n.lastError }));
  const failing = nodes.some((n) => n.status === 'failed');
  const retrying = nodes.some((n) => n.status === 'retrying');
  return { status: !ok || failing ? 'down' : retrying ? 'degraded' : 'ok', store: { kind: store.kind, ok }, nodes };
}

export async function startServer(opts: {
  running: RunningPipeline;
  store: TimeSeriesStore;
  host: string;
  port: number;
}): Promise<ApiServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = async () => {
      if (path === '/metrics') {
        const registry = opts.running.metrics.registry;
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(await registry.metrics());
      } else if (path === '/healthz') {
        const h = await health(opts.running, opts.store);
        res.writeHead(h.status === 'down' ? 503 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(h));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found: try /metrics or /healthz\n');
      }
    };
    reply().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' ? new Error(`port ${opts.port} is in use: set TICKCAST_PORT to a free port`) : err,
      ),
    );
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
