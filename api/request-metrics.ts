// API latency for /metrics: every HTTP request, from its arrival to the end of its response, by
// route and status code. graphql-ws messages are not HTTP requests (their subscribers are
// tickcast_api_websocket_connections).
import type { ServerResponse } from 'node:http';
import { Histogram, type Registry } from 'prom-client';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A bounded label: the API's routes, and `ui` for everything else (the dashboard, 404s). */
export type Route = 'graphql' | 'metrics' | 'healthz' | 'ui';

export function routeOf(path: string): Route {
  return path === '/graphql' ? 'graphql' : path === '/metrics' ? 'metrics' : path === '/healthz' ? 'healthz' : 'ui';
}

/** Registers `tickcast_api_request_duration_seconds`; the returned function times one request. */
export function requestDurations(registers: Registry[]): (path: string, res: ServerResponse) => void {
  const durations = new Histogram({
    name: 'tickcast_api_request_duration_seconds',
    help: 'HTTP requests from arrival to the end of the response, by route and status code',
    labelNames: ['route', 'code'],
    buckets: BUCKETS,
    registers,
  });
  return (path, res) => {
    const end = durations.startTimer({ route: routeOf(path) });
    // 'close' follows the last byte, or an aborted response.
    res.once('close', () => end({ code: String(res.statusCode) }));
  };
}
