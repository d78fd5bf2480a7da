#!/usr/bin/env node
// Entry point for `npx tickcast`: runs the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';

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

// `run` loads those packages through Node's own loader first: they need no transform, and
// through tsx's loader hooks each of their files costs a round trip to the hooks' thread
// (graphql-yoga and its dependencies are hundreds of files): about 0.2 s of every start and
// restart before the API answers (bench/README.md, soak: the restart window). The same files
// either way, so one instance of each package; other commands load theirs through tsx as before.
if (process.argv[2] === 'run') {
  // Listening first (bin/early-listen.js): a restart refuses connections for the milliseconds
  // this takes, not the second or two of loading below; held requests are answered after.
  const { earlyAddress, listenEarly } = await import('./early-listen.js');
  const address = process.argv.includes('--until-end') ? null : earlyAddress(process.env);
  if (address) await listenEarly(address);
  await Promise.all(RUN_PACKAGES.map((name) => import(name)));
}

register();
await import('../cli/main.ts');
