// The socket `tickcast run` listened on before it loaded (bin/early-listen.js), for the API to take
// over: requests that arrived meanwhile were held, not refused, and are answered once it attaches.
import type { Server } from 'node:http';

/**
 * A listening server, still holding what arrives: attach the handlers, then release() in the same
 * tick, which stops holding and replays the held requests to them.
 */
export interface EarlyServer {
  readonly server: Server;
  release(): void;
}

interface Handoff {
  readonly host: string;
  readonly port: number;
  readonly server: Server;
  take(): EarlyServer;
}

const KEY = Symbol.for('tickcast.earlyServer');

/**
 * The early server if it listens where the API is to listen (`port` 0: it picked one), else null.
 * One that listens elsewhere (the config read the settings another way) is closed, so nothing is
 * left holding requests that no one will answer.
 */
export function takeEarlyServer(host: string, port: number): EarlyServer | null {
  const handoff = (globalThis as { [KEY]?: Handoff })[KEY];
  if (!handoff) return null;
  const early = handoff.take();
  if (handoff.host === host && handoff.port === port) return early;
  close(early);
  return null;
}

/**
 * Closes the early server if nothing took it: a `run` that ended without serving (`--help`, a config refused)
 * would otherwise hold its port, and the process, open.
 */
export function closeEarlyServer(): void {
  const early = (globalThis as { [KEY]?: Handoff })[KEY]?.take();
  if (early) close(early);
}

function close(early: EarlyServer): void {
  early.server.close();
  early.server.closeAllConnections();
}
