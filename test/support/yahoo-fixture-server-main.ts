// Runs the Yahoo fixture server (a TEST DOUBLE serving recorded real Yahoo responses) on its own,
// for a manual live run without the internet:
//   npx tsx test/support/yahoo-fixture-server-main.ts [port] &     # prints its URL
//   YAHOO_BASE_URL=<that URL> TICKCAST_SOURCE=yahoo TICKCAST_SYMBOLS=AAPL,MSFT,GOOG,AMZN,ABBV npx tickcast run
//   kill %1
// It stops on SIGINT, SIGTERM or SIGHUP (the terminal closed), and when the npx that started it
// exits (a kill of npx reaches only npx: stop-with-launcher.ts), so its port is not left taken.
// SYNTHETIC: symbols SYN0…SYN99999 get re-keyed recorded quotes, and every symbol without a
// recorded chart window gets SYNTHETIC daily history up to 2025-02-13 (yahoo-fixture-server.ts).
import { stopWithLauncher } from './stop-with-launcher.js';
import {
  BUNDLED_YAHOO_FIXTURES,
  sharedYahooFixtures,
  startYahooFixtureServer,
  type YahooFixtureServer,
} from './yahoo-fixture-server.js';

let server: YahooFixtureServer | undefined;
let stopping = false;
const stop = () => {
  if (stopping) return; // a second signal while closing (tsx's CLI relays them, the terminal too)
  stopping = true;
  void (server?.close() ?? Promise.resolve()).finally(() => process.exit(0));
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
// Before serving: npx may be killed as soon as the URL is out, and the chain is read from it.
stopWithLauncher(stop);

const port = Number(process.argv[2] ?? 0);
server = await startYahooFixtureServer({
  dirs: [BUNDLED_YAHOO_FIXTURES, ...(sharedYahooFixtures() ? [sharedYahooFixtures()!] : [])],
  synthetic: { test: (s) => /^SYN\d+$/.test(s) },
  syntheticCharts: { test: () => true },
  port,
});
console.log(server.url);
