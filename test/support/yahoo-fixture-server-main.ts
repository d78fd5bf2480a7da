// Runs the Yahoo fixture server (a TEST DOUBLE serving recorded real Yahoo responses) on its own,
// for a manual live run without the internet:
//   npx tsx test/support/yahoo-fixture-server-main.ts [port]       # prints its URL
//   YAHOO_BASE_URL=<that URL> TICKCAST_SOURCE=yahoo TICKCAST_SYMBOLS=AAPL,MSFT,GOOG,AMZN,ABBV npx tickcast run
// SYNTHETIC: symbols SYN0…SYN99999 get re-keyed recorded quotes, and every symbol without a
// recorded chart window gets SYNTHETIC daily history up to 2025-02-13 (yahoo-fixture-server.ts).
import { BUNDLED_YAHOO_FIXTURES, sharedYahooFixtures, startYahooFixtureServer } from './yahoo-fixture-server.js';

const port = Number(process.argv[2] ?? 0);
const server = await startYahooFixtureServer({
  dirs: [BUNDLED_YAHOO_FIXTURES, ...(sharedYahooFixtures() ? [sharedYahooFixtures()!] : [])],
  synthetic: { test: (s) => /^SYN\d+$/.test(s) },
  syntheticCharts: { test: () => true },
  port,
});
console.log(server.url);
process.once('SIGINT', () => void server.close().then(() => process.exit(0)));
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
