// The Yahoo fixture server (a TEST DOUBLE serving recorded real Yahoo responses; symbols SYN…
// get recorded quotes re-keyed to them: SYNTHETIC) in a child process of bench/yahoo.bench.ts, so
// its CPU is not counted in the bench's. Driven over IPC: the bench injects and clears faults and
// asks for the child's CPU and request counts; the first message sent is the server's URL.
import {
  BUNDLED_YAHOO_FIXTURES,
  sharedYahooFixtures,
  startYahooFixtureServer,
  type YahooFaultRule,
} from '../test/support/yahoo-fixture-server.js';

export type ChildRequest =
  | { id: number; op: 'inject'; rules: YahooFaultRule[] }
  | { id: number; op: 'clear' }
  | { id: number; op: 'stats' }
  | { id: number; op: 'close' };

/** Totals since the server started; the bench takes differences. */
export interface ChildStats {
  cpuUserUs: number;
  cpuSystemUs: number;
  requests: number;
  quoteRequests: number;
  /** Requests answered by an injected fault. */
  faults: number;
  /** SYNTHETIC quote records served (recorded quotes re-keyed). */
  syntheticRecords: number;
}

export type ChildMessage =
  | { ready: { url: string; fixtureDirs: string[] } }
  | { id: number; ok: true; stats?: ChildStats }
  | { id: number; ok: false; error: string };

export const SYNTHETIC_SYMBOL = /^SYN\d+$/;

const send = (m: ChildMessage) => process.send?.(m);
const dirs = [BUNDLED_YAHOO_FIXTURES, ...(sharedYahooFixtures() ? [sharedYahooFixtures()!] : [])];
const server = await startYahooFixtureServer({ dirs, synthetic: { test: (s) => SYNTHETIC_SYMBOL.test(s) } });

process.on('message', (m: ChildRequest) => {
  try {
    switch (m.op) {
      case 'inject':
        for (const rule of m.rules) server.inject(rule);
        return send({ id: m.id, ok: true });
      case 'clear':
        server.clearFaults();
        return send({ id: m.id, ok: true });
      case 'stats': {
        const cpu = process.cpuUsage();
        let quoteRequests = 0;
        let faults = 0;
        let syntheticRecords = 0;
        for (const r of server.requests) {
          if (r.endpoint === 'quote') quoteRequests++;
          if (r.served?.includes('fault')) faults++;
          syntheticRecords += r.synthetic?.length ?? 0;
        }
        const stats = {
          cpuUserUs: cpu.user,
          cpuSystemUs: cpu.system,
          requests: server.requests.length,
          quoteRequests,
          faults,
          syntheticRecords,
        };
        return send({ id: m.id, ok: true, stats });
      }
      case 'close':
        void server.close().then(() => {
          send({ id: m.id, ok: true });
          process.disconnect?.();
        });
        return;
    }
  } catch (e) {
    send({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
// The bench gone (killed, crashed): do not outlive it.
process.on('disconnect', () => void server.close().then(() => process.exit(0)));
send({ ready: { url: server.url, fixtureDirs: dirs } });
