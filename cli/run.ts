// `tickcast run` and `tickcast backfill`: a pipeline from a configuration, its progress, the API
// beside it (run without --until-end), and the end-of-run summary.

import type { ApiServer } from '../api/server.js';
import type { RunningPipeline } from '../engine/index.js';
import { lineLogger } from '../engine/log.js';
import {
  type App,
  buildApp,
  completeApp,
  deadLetterReasons,
  openApp,
  pipelineStarted,
  serve,
  serveStarting,
  settingProblems,
  startPipeline,
} from './app.js';
import { openCluster, untilRunEnded } from './cluster.js';
import {
  API_SETTINGS,
  type ApiSetting,
  apiAtDefaults,
  backfillFrom,
  type Config,
  loadConfig,
  parseDuration,
  settingsExcept,
} from './config.js';
import { type CliIo, processIo } from './io.js';
import { startProgress, taskProgress } from './progress.js';
import { printSummary } from './summary.js';

export interface RunArgs {
  pipeline?: string;
  untilEnd?: boolean;
  pace?: string;
  db?: string;
  transport?: string;
  role?: string;
  exactlyOnce?: boolean;
}

/** `tickcast run`: the pipeline, and (unless --until-end) the API and dashboard beside it. */
export async function runCommand(opts: RunArgs, io: CliIo = processIo()): Promise<void> {
  const env = {
    ...io.env,
    ...(opts.transport ? { TICKCAST_TRANSPORT: opts.transport } : {}),
    ...(opts.role ? { TICKCAST_ROLE: opts.role } : {}),
    ...(opts.exactlyOnce ? { KAFKA_EXACTLY_ONCE: 'on' } : {}),
    ...(opts.pipeline ? { TICKCAST_PIPELINE: opts.pipeline } : {}),
  };
  // One message for every problem: --pace and the folders beside the settings' values.
  const also = (c: Omit<Config, ApiSetting>) => [
    ...(opts.pace === undefined ? [] : paceProblems(opts.pace)),
    ...settingProblems(c),
  ];
  // --until-end serves nothing: a bad API setting (TICKCAST_PORT) does not stop it.
  const config = opts.untilEnd
    ? apiAtDefaults(loadConfig(env, { settings: settingsExcept(...API_SETTINGS), also }))
    : loadConfig(env, { also });
  // Started through npm (`npx tickcast`, `npm start`: npm sets npm_command), a `kill` of npm does
  // not reach this process: it watches its parent (below). Started directly (`node bin/tickcast.js`,
  // under nohup or a process manager), it outlives whoever started it, as such a server should.
  const parent = process.env.npm_command ? process.ppid : null;
  const paceMs = opts.pace === undefined ? undefined : parseDuration(opts.pace);
  const base = await openApp(config, { paceMs, dbPath: opts.db });
  // Serving starts as soon as the store is open: start-up is mostly importing and loading the
  // models and the pipeline (a second or two), and meanwhile the stored predictions and bars answer
  // (a restart's time without the API). What reads the pipeline waits for it (serveStarting).
  const announce = (s: ApiServer) => {
    io.err(`tickcast: GraphQL on ${s.url}/graphql (ws too); ${s.url}/metrics, /healthz`);
    io.err(`tickcast: dashboard on ${s.url}/`);
  };
  const symbols = new Set<string>();
  // A SIGTERM or SIGINT while starting (the API already answers) is kept, and stops the run once
  // it has started, closing what it opened, instead of killing the process where it stands.
  let startSignal: string | null = null;
  const onStartTerm = () => (startSignal = 'SIGTERM');
  const onStartInt = () => (startSignal = 'SIGINT');
  process.once('SIGTERM', onStartTerm);
  process.once('SIGINT', onStartInt);
  const started = await (async () => {
    let server: ApiServer | null = null;
    let app: App | undefined;
    try {
      server = opts.untilEnd ? null : await serveStarting(base);
      if (server) announce(server);
      app = await completeApp(base, { paceMs, dbPath: opts.db });
      io.err(
        `tickcast: ${config.TICKCAST_SOURCE} → ${config.TICKCAST_TRANSPORT} transport → ${app.store.kind} (${app.store.kind === 'questdb' ? config.QUESTDB_URL : (opts.db ?? config.TICKCAST_DB)}); models ${app.models.normal.name}@${app.models.normal.version}`,
      );
      const unsubscribe = app.hub.subscribe('bars', (bar) => symbols.add((bar as { symbol: string }).symbol));
      return { server, app, unsubscribe, running: await startPipeline(app) };
    } catch (err) {
      // Nothing runs yet: close what is open (in a test's process, nothing may stay listening).
      await server?.close().catch(() => {});
      await app?.explain?.close().catch(() => {});
      await base.store.close().catch(() => {});
      throw err;
    } finally {
      process.off('SIGTERM', onStartTerm);
      process.off('SIGINT', onStartInt);
    }
  })();
  const { app, running, unsubscribe } = started;
  let { server } = started;
  // Scaled out (Kafka): publish this process's metrics, and follow everyone's.
  const cluster = await openCluster(config, running, lineLogger(app.log));
  const worker = config.TICKCAST_ROLE === 'worker';
  if (server) pipelineStarted(server, app, running, cluster);
  else if (!opts.untilEnd) {
    server = await serve(app, running, cluster);
    announce(server);
  }
  // Symbols are counted on the live bars; a pipeline without them (or a source of workers) shows none.
  const liveBars = running.pipeline.nodes.some((n) => n.operator.name === 'live' && n.reads.includes('bars'));
  // A worker has a share of the nodes and no source: quotes through it would mean nothing.
  const progress = worker
    ? { stop() {} }
    : startProgress(
        running,
        () => (liveBars && !(cluster && config.TICKCAST_ROLE === 'source') ? symbols.size : null),
        {
          predictionsPerQuote: config.TICKCAST_HORIZONS.length,
          ...(cluster ? { stats: () => cluster.stats() } : {}),
        },
      );

  let stopping = false;
  // The end-of-run report (summary, dead letters) while it is written: a signal meanwhile lets it
  // finish before closing what it reads, and the run then says nothing more ("replay finished").
  let reporting: Promise<unknown> = Promise.resolve();
  const waiting = new AbortController();
  const shutdown = async (signal: string) => {
    if (stopping) return; // one stop, whatever comes next (SIGTERM after Ctrl-C, the parent gone)
    stopping = true;
    clearInterval(orphaned);
    io.err(`\ntickcast: ${signal}, stopping`);
    progress.stop();
    waiting.abort();
    // A node that fails while stopping (a broker gone, say) is reported, not a crash.
    await running.stop().catch((err: unknown) => io.err(`tickcast: while stopping: ${String(err)}`));
    await reporting;
    // Its last snapshot: the others (and `tickcast status`) see this process exited.
    await cluster?.close().catch(() => {});
    // Stopping: a transport that fails to close (a broker gone) does not stop the rest closing.
    await closeApp(app, running, server, { quiet: true });
    process.exit(0);
  };
  const onSigint = () => void shutdown('SIGINT');
  const onSigterm = () => void shutdown('SIGTERM');
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  // Started through `npx` (or npm), a `kill` of that process does not reach this one: it would
  // run on, orphaned, holding its partitions. When the parent goes away, stop as on SIGTERM (the
  // parent as it was before start-up: it may go away while the models load, the API already up).
  const orphaned = setInterval(() => {
    if (parent !== null && process.ppid !== parent && !stopping) void shutdown('parent process exited');
  }, 1000);
  orphaned.unref();
  if (startSignal) void shutdown(startSignal);
  try {
    await untilDone();
  } finally {
    // Run to the end: nothing is left to stop (in a test's process too, where it runs in-process).
    if (opts.untilEnd && !stopping) {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      clearInterval(orphaned);
    }
  }

  async function untilDone(): Promise<void> {
    const summary = await running.done.catch((err: unknown) => {
      if (stopping) return null;
      throw err;
    });
    if (stopping || !summary) return; // shutdown() closes the store and exits
    unsubscribe();
    if (cluster && worker) {
      // A worker's share is not the run's: the source process prints the run's summary.
      const nodes = summary.nodes.length;
      io.err(
        `tickcast: worker ${cluster.process.id}: every input of its ${nodes} nodes has ended (the run's summary: the source process, or \`tickcast status\`)`,
      );
      if (opts.untilEnd) {
        await cluster.close();
        await closeApp(app, running);
      }
      return;
    }
    let result = summary;
    if (cluster && !summary.stopped) {
      // The other processes may still be working on what this one produced: the run has finished
      // when every node has ended in every process.
      const waitedFrom = performance.now();
      if (
        !(await untilRunEnded(cluster, app.pipeline, {
          signal: waiting.signal,
          log: lineLogger(app.log),
        }))
      ) {
        return; // stopped meanwhile: shutdown() exits
      }
      const nodes = cluster.stats();
      result = {
        ...summary,
        durationMs: summary.durationMs + performance.now() - waitedFrom,
        nodes,
        deadLetters: nodes.reduce((n, s) => n + s.deadLetters, 0),
      };
    }
    progress.stop();
    if (cluster && config.TICKCAST_ROLE === 'api') {
      // The source process prints the run's summary; one is enough.
      io.err(
        `tickcast: the run has finished in every process (\`tickcast status\` for its figures); still serving ${server?.url} (Ctrl-C to stop)`,
      );
      if (!opts.untilEnd) return;
    }
    const report = (async () => {
      // With Kafka the dead-letter topics are read back from the broker; a failure costs the reasons only.
      const reasons = await deadLetterReasons(running).catch((err: unknown) => {
        io.err(`tickcast: dead-letter reasons not read: ${err instanceof Error ? err.message : String(err)}`);
        return [];
      });
      if (!(cluster && config.TICKCAST_ROLE === 'api')) {
        await printSummary(result, app.store, reasons, io.out, app.explain?.vectors ?? null);
      }
    })();
    reporting = report.catch(() => {});
    await report;
    if (stopping) return; // a signal came while reporting: shutdown() closes and exits
    if (opts.untilEnd) {
      await cluster?.close();
      await closeApp(app, running);
      return;
    }
    if (!summary.stopped) io.err(`tickcast: replay finished; still serving ${server?.url} (Ctrl-C to stop)`);
  }
}

export interface BackfillArgs {
  symbols?: string;
  from?: string;
  db?: string;
}

/**
 * `tickcast backfill`: daily history from Yahoo for a universe, written through the pipeline's
 * topics (quotes → bars → features → predictions) into the stores, then a summary. Idempotent:
 * the stores upsert on (symbol, interval, ts) and (symbol, ts, horizon), so a second run over the
 * same days rewrites the same rows and adds none.
 */
export async function backfillCommand(opts: BackfillArgs, io: CliIo = processIo()): Promise<void> {
  // Serves nothing: a bad API setting (TICKCAST_PORT) does not stop it.
  const loaded = loadConfig(
    {
      ...io.env,
      TICKCAST_SOURCE: 'yahoo',
      ...(opts.symbols ? { TICKCAST_SYMBOLS: opts.symbols } : {}),
      ...(opts.from ? { TICKCAST_BACKFILL_FROM: opts.from } : {}),
    },
    {
      settings: settingsExcept(...API_SETTINGS),
      also: (c) => [
        ...(c.TICKCAST_BACKFILL_FROM === 'none'
          ? ['--from none: give a first day such as 2024-01-02, or days back such as 400d']
          : []),
        ...settingProblems(c),
      ],
    },
  );
  const config = apiAtDefaults(loaded);
  // Never undefined: loadConfig refused none.
  const from = backfillFrom(config.TICKCAST_BACKFILL_FROM)!;
  const app = await buildApp(config, { dbPath: opts.db, backfill: { from } });
  const status = () => app.yahoo!.status();
  io.err(
    `tickcast: backfill of ${status().symbols} symbols from ${new Date(from).toISOString().slice(0, 10)} (Yahoo, daily) → ${app.store.kind} (${opts.db ?? config.TICKCAST_DB})`,
  );
  const running = await startPipeline(app);
  const fetched = taskProgress('backfill', 'symbols fetched');
  const timer = setInterval(() => {
    const b = status().backfill;
    if (b) fetched.update(b.done, b.total);
  }, 250);
  const summary = await running.done.finally(() => {
    clearInterval(timer);
    const b = status().backfill;
    if (b) fetched.update(b.done, b.total);
    fetched.stop();
  });
  const reasons = await deadLetterReasons(running).catch(() => []);
  await printSummary(summary, app.store, reasons, io.out, app.explain?.vectors ?? null);
  await closeApp(app, running);
}

/**
 * What a run opened, closed in order: the transport (its admin connection: the summary read the
 * dead letters through it), the API server if one serves, the explanation parts, the store.
 */
async function closeApp(
  app: App,
  running: RunningPipeline,
  server?: { close(): Promise<void> } | null,
  opts: { quiet?: boolean } = {},
): Promise<void> {
  await (opts.quiet ? running.transport.close().catch(() => {}) : running.transport.close());
  await server?.close();
  await app.explain?.close();
  await app.store.close();
}

/** What is wrong with --pace (a duration), naming the option. */
function paceProblems(text: string): string[] {
  try {
    parseDuration(text);
    return [];
  } catch {
    return [`--pace ${JSON.stringify(text)}: a duration such as 500ms, 1s or 2m`];
  }
}
