// `tickcast run` listens on the API's port before it loads anything else, and holds the requests
// that arrive until the API takes the socket over (api/early-server.ts). Loading takes 1–2 s (the
// packages, tsx, the app's modules); a restart would refuse every connection for that long
// (bench/soak.ts: the restart window cost 3–4 failed one-second probes). Held instead, a request
// waits and is answered once the API attaches. WebSocket upgrades are not held but refused with
// 503 and Retry-After: held, a thousand reconnecting subscribers landed at once on a process still
// loading, and made it slower to answer (soak: SIGTERM → /healthz 200 3.5 → 5.3 s); refused, they
// retry with their own backoff, as they did when the port was closed. Only node:http here: it
// must load in milliseconds.
import { createServer } from 'node:http';

const KEY = Symbol.for('tickcast.earlyServer');

/**
 * The port and host `run` will serve on, read as cli/config.ts reads TICKCAST_PORT and
 * TICKCAST_HOST (same defaults; api/api.test.ts checks they agree). Anything it does
 * not read plainly is left to the config, which names the problem: no early listening then.
 */
export function earlyAddress(env) {
  // Empty is unset, as the config reads it.
  const portText = env.TICKCAST_PORT || undefined;
  const port = portText === undefined ? 4000 : /^\d{1,5}$/.test(portText) ? Number(portText) : null;
  const host = env.TICKCAST_HOST || '127.0.0.1';
  return port === null || port > 65_535 ? null : { host, port };
}

/**
 * Listens on `address` and holds requests until taken (upgrades: 503, see above). Resolves false (nothing left
 * open) when it cannot listen: the API's own listen then fails and says why (a port in use).
 */
export async function listenEarly(address) {
  const held = [];
  const holdRequest = (req, res) => held.push(['request', req, res]);
  const holdUpgrade = (_req, socket) =>
    socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  const server = createServer();
  server.on('request', holdRequest);
  server.on('upgrade', holdUpgrade);
  const ok = await new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(address.port, address.host, () => resolve(true));
  });
  if (!ok) return false;
  globalThis[KEY] = {
    host: address.host,
    port: address.port,
    server,
    /**
     * The server, still holding: the caller attaches its handlers, then calls release() in the same
     * tick (nothing can arrive in between), which stops holding and replays the held requests.
     */
    take() {
      delete globalThis[KEY];
      return {
        server,
        release() {
          server.off('request', holdRequest);
          server.off('upgrade', holdUpgrade);
          for (const [event, ...args] of held.splice(0)) server.emit(event, ...args);
        },
      };
    },
  };
  return true;
}
