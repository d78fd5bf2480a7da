#!/usr/bin/env node
// Entry point for `npx tickcast`: runs the TypeScript CLI through tsx (no build step); `run`
// from a cached bundle of the same sources (bin/run-bundle.js).

/** What `tickcast run` imports before its API serves (cli/app.ts serveStarting): config, store, API. */
const RUN_PACKAGES = [
  'zod',
  'commander',
  '@duckdb/node-api',
  'graphql',
  'graphql-yoga',
  'graphql-ws',
  'ws',
  '@pothos/core',
  '@pothos/plugin-relay',
  '@escape.tech/graphql-armor',
  'prom-client',
  'pino',
  'avsc',
  '@repeaterjs/repeater',
  'csv-parse',
  'cli-progress',
  'p-retry',
  'ollama',
];

// A `run` that cannot start from its bundle (below) loads those packages through Node's own
// loader first: they need no transform, and through tsx's loader hooks each of their files costs
// a round trip to the hooks' thread (graphql-yoga and its dependencies are hundreds of files):
// about 0.2 s of every start. The same files either way, so one instance of each package; other
// commands load theirs through tsx as before.
let bundle = null;
if (process.argv[2] === 'run') {
  // Listening first (bin/early-listen.js): a restart refuses connections for the milliseconds
  // this takes, not the second or two of loading below; held requests are answered after.
  const { earlyAddress, listenEarly } = await import('./early-listen.js');
  const address = process.argv.includes('--until-end') ? null : earlyAddress(process.env);
  if (address) await listenEarly(address);
  // The app as one cached bundle, without tsx's hooks (bin/run-bundle.js); else as below.
  const { bundleServes, runBundle } = await import('./run-bundle.js');
  if (bundleServes(process.argv.slice(2), process.env)) bundle = await runBundle();
  if (!bundle) await Promise.all(RUN_PACKAGES.map((name) => import(name)));
}

if (bundle) {
  // Source maps are written beside it but not switched on: Node would then read every package's
  // map as it loads (~0.2 s of each start). `NODE_OPTIONS=--enable-source-maps` names the
  // TypeScript files and lines in stack traces; `TICKCAST_BUNDLE=off` runs through tsx as before.
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
