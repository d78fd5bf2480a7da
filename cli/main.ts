// The `tickcast` command line: run the pipeline, print the DAG.
import { Command, Option } from 'commander';
import { createLiveHub } from '../engine/index.js';
import { lineLogger } from '../engine/log.js';
import { ExplainError } from '../explain/explanation-service.js';
import { persistenceModel } from '../models/baselines.js';
import { emptyEarningsCalendar } from '../models/earnings-calendar.js';
import { OllamaError } from '../models/ollama-embedder.js';
import { news } from '../operators/sources/news.js';
import { replay } from '../operators/sources/replay.js';
import { PIPELINES } from '../pipelines/modules.js';
import { ChromaUnreachableError } from '../storage/chroma-vector-store.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { openDuckDbVectorStore } from '../storage/duckdb-vector-store.js';
import { QuestDbError } from '../storage/questdb-store.js';
import { buildApp, choosePipeline, deadLetterReasons, serve, startPipeline } from './app.js';
import { type CalibrationArgs, calibrationCommand } from './calibration.js';
import { openCluster, untilRunEnded } from './cluster.js';
import { backfillFrom, ConfigError, loadConfig, parseDuration } from './config.js';
import { doctorChecks, printChecks } from './doctor.js';
import { type EvaluateArgs, evaluateCommand } from './evaluate.js';
import { type ExplainArgs, explainCommand } from './explain.js';
import { startProgress, taskProgress } from './progress.js';
import { type StatusArgs, statusCommand } from './status.js';
import { printSummary } from './summary.js';
import { printTable } from './table.js';
import { type TrainArgs, trainCommand } from './train.js';

interface RunArgs {
  pipeline?: string;
  untilEnd?: boolean;
  pace?: string;
  db?: string;
  transport?: string;
  role?: string;
  exactlyOnce?: boolean;
}

/** `tickcast run`: the pipeline, and (unless --until-end) the API and dashboard beside it. */
async function runCommand(opts: RunArgs): Promise<void> {
  const config = loadConfig({
    ...process.env,
    ...(opts.transport ? { TICKCAST_TRANSPORT: opts.transport } : {}),
    ...(opts.role ? { TICKCAST_ROLE: opts.role } : {}),
    ...(opts.exactlyOnce ? { KAFKA_EXACTLY_ONCE: 'on' } : {}),
    ...(opts.pipeline ? { TICKCAST_PIPELINE: opts.pipeline } : {}),
  });
  const paceMs = opts.pace === undefined ? undefined : parseDurationOption(opts.pace);
  const app = await buildApp(config, { paceMs, dbPath: opts.db });
  console.error(
    `tickcast: ${config.TICKCAST_SOURCE} → ${config.TICKCAST_TRANSPORT} transport → ${app.store.kind} (${app.store.kind === 'questdb' ? config.QUESTDB_URL : (opts.db ?? config.TICKCAST_DB)}); models ${app.models.normal.name}@${app.models.normal.version}`,
  );
  const symbols = new Set<string>();
  const unsubscribe = app.hub.subscribe('bars', (bar) => symbols.add((bar as { symbol: string }).symbol));
  const running = await startPipeline(app);
  // Scaled out (Kafka): publish this process's metrics, and follow everyone's.
  const cluster = await openCluster(config, running, lineLogger(app.log));
  const worker = config.TICKCAST_ROLE === 'worker';
  const server = opts.untilEnd ? null : await serve(app, running, cluster);
  if (server) {
    console.error(`tickcast: GraphQL on ${server.url}/graphql (ws too); ${server.url}/metrics, /healthz`);
    console.error(`tickcast: dashboard on ${server.url}/`);
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
  const waiting = new AbortController();
  const shutdown = async (signal: string) => {
    stopping = true;
    console.error(`\ntickcast: ${signal}, stopping`);
    progress.stop();
    waiting.abort();
    // A node that fails while stopping (a broker gone, say) is reported, not a crash.
    await running.stop().catch((err: unknown) => console.error(`tickcast: while stopping: ${String(err)}`));
    // Its last snapshot: the others (and `tickcast status`) see this process exited.
    await cluster?.close().catch(() => {});
    await running.transport.close().catch(() => {});
    await server?.close();
    await app.explain?.close();
    await app.store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  // Started through `npx` (or npm), a `kill` of that process does not reach this one: it would
  // run on, orphaned, holding its partitions. When the parent goes away, stop as on SIGTERM.
  const parent = process.ppid;
  const orphaned = setInterval(() => {
    if (process.ppid !== parent && !stopping) void shutdown('parent process exited');
  }, 1000);
  orphaned.unref();

  const summary = await running.done.catch((err: unknown) => {
    if (stopping) return null;
    throw err;
  });
  if (stopping || !summary) return; // shutdown() closes the store and exits
  unsubscribe();
  if (cluster && worker) {
    // A worker's share is not the run's: the source process prints the run's summary.
    const nodes = summary.nodes.length;
    console.error(
      `tickcast: worker ${cluster.process.id}: every input of its ${nodes} nodes has ended (the run's summary: the source process, or \`tickcast status\`)`,
    );
    if (opts.untilEnd) {
      await cluster.close();
      await running.transport.close();
      await app.explain?.close();
      await app.store.close();
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
    console.error(
      `tickcast: the run has finished in every process (\`tickcast status\` for its figures); still serving ${server?.url} (Ctrl-C to stop)`,
    );
    if (!opts.untilEnd) return;
  }
  // With Kafka the dead-letter topics are read back from the broker; a failure costs the reasons only.
  const reasons = await deadLetterReasons(running).catch((err: unknown) => {
    console.error(`tickcast: dead-letter reasons not read: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  });
  if (!(cluster && config.TICKCAST_ROLE === 'api')) {
    await printSummary(result, app.store, reasons, undefined, app.explain?.vectors ?? null);
  }
  if (opts.untilEnd) {
    await cluster?.close();
    await running.transport.close();
    await app.explain?.close();
    await app.store.close();
    return;
  }
  if (!summary.stopped) console.error(`tickcast: replay finished; still serving ${server?.url} (Ctrl-C to stop)`);
}

interface BackfillArgs {
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
async function backfillCommand(opts: BackfillArgs): Promise<void> {
  const config = loadConfig({
    ...process.env,
    TICKCAST_SOURCE: 'yahoo',
    ...(opts.symbols ? { TICKCAST_SYMBOLS: opts.symbols } : {}),
    ...(opts.from ? { TICKCAST_BACKFILL_FROM: opts.from } : {}),
  });
  const from = backfillFrom(config.TICKCAST_BACKFILL_FROM);
  if (from === undefined) {
    throw new ConfigError(['--from none: give a first day such as 2024-01-02, or days back such as 400d']);
  }
  const app = await buildApp(config, { dbPath: opts.db, backfill: { from } });
  const status = () => app.yahoo!.status();
  console.error(
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
  await printSummary(summary, app.store, reasons, undefined, app.explain?.vectors ?? null);
  await running.transport.close();
  await app.explain?.close();
  await app.store.close();
}

const program = new Command()
  .name('tickcast')
  .description('Real-time stock price prediction as a typed dataflow pipeline')
  .showHelpAfterError();

program
  .command('run')
  .description('run a pipeline (price-prediction by default; embedded by default) and keep serving')
  .option(
    '--pipeline <name|path>',
    'which pipeline: a name from `tickcast pipelines`, or a module file (default TICKCAST_PIPELINE)',
  )
  .option('--until-end', 'replay to the end of the data, print a summary and exit')
  .option('--pace <duration>', 'wall time per replayed trading day, e.g. 1s (default: full speed)')
  .option('--db <file>', 'embedded database file (default TICKCAST_DB)')
  .addOption(
    new Option('--transport <kind>', 'memory or kafka (default TICKCAST_TRANSPORT)').choices(['memory', 'kafka']),
  )
  .addOption(
    new Option('--role <role>', 'all, source, worker or api (default TICKCAST_ROLE; engine/README.md)').choices([
      'all',
      'source',
      'worker',
      'api',
    ]),
  )
  .option('--exactly-once', 'Kafka→Kafka transforms commit outputs and offsets in transactions (KAFKA_EXACTLY_ONCE=on)')
  .action(runCommand);

program
  .command('backfill')
  .description('daily history from Yahoo through the pipeline into the stores (idempotent: stores upsert)')
  .option('--symbols <file|list>', 'tickers: a comma-separated list or a file (default TICKCAST_SYMBOLS)')
  .option('--from <date>', 'first day YYYY-MM-DD, or days back such as 400d (default TICKCAST_BACKFILL_FROM)')
  .option('--db <file>', 'embedded database file (default TICKCAST_DB)')
  .action(backfillCommand);

program
  .command('dag')
  .description("print a pipeline's DAG (price-prediction by default)")
  .option('--pipeline <name|path>', 'which pipeline (default TICKCAST_PIPELINE)')
  .addOption(new Option('--format <format>', 'output format').choices(['json', 'mermaid']).default('json'))
  .action(async (opts: { format: 'json' | 'mermaid'; pipeline?: string }) => {
    const config = loadConfig({ ...process.env, ...(opts.pipeline ? { TICKCAST_PIPELINE: opts.pipeline } : {}) });
    const module = await choosePipeline(config);
    // Describing needs the wiring, not the data: an in-memory store, no calendar.
    const store = await openDuckDbStore({ path: ':memory:' });
    const model = persistenceModel({ horizons: config.TICKCAST_HORIZONS });
    // Nor the embedding model: a stand-in that only names itself.
    const embedder = {
      id: `describe-only:${config.TICKCAST_EMBEDDER}`,
      dimension: 1,
      embed: () => Promise.reject(new Error('describe only')),
    };
    const vectors =
      config.TICKCAST_EXPLAIN && module.explains !== false
        ? await openDuckDbVectorStore({ path: ':memory:', embedder })
        : null;
    const pipeline = module.build({
      source: replay({ dir: config.TICKCAST_DATA_DIR }),
      calendar: emptyEarningsCalendar(),
      models: { normal: model, earnings: model },
      store,
      hub: createLiveHub(),
      partitions: config.TICKCAST_PARTITIONS,
      ...(vectors
        ? {
            explain: {
              embedder,
              vectors,
              ...(config.TICKCAST_NEWS !== 'none' ? { news: news({ dir: config.TICKCAST_NEWS }) } : {}),
            },
          }
        : {}),
    });
    console.log(opts.format === 'json' ? JSON.stringify(pipeline.describe(), null, 2) : pipeline.mermaid());
    await vectors?.close();
    await store.close();
  });

program
  .command('doctor')
  .description('check what this machine and configuration need: Node, the Kafka client, tfjs, the port, the servers')
  .action(async () => {
    const checks = await doctorChecks(loadConfig());
    if (!printChecks(checks)) process.exitCode = 1;
  });

program
  .command('status')
  .description(
    'every node of a scaled-out run across its processes: status, lag, keyed state, partitions owned, ended or not',
  )
  .option('--json', 'one JSON array (one object per pipeline)')
  .action(async (opts: StatusArgs) => {
    process.exitCode = await statusCommand(loadConfig(), opts);
  });

program
  .command('pipelines')
  .description('list the pipelines `run --pipeline` and `dag --pipeline` accept')
  .option('--json', 'one JSON array')
  .action((opts: { json?: boolean }) => {
    const rows = PIPELINES.map((p) => ({ name: p.name, file: p.file, description: p.description }));
    if (opts.json) console.log(JSON.stringify(rows));
    else
      printTable(
        ['name', 'file', 'description'],
        rows.map((r) => [r.name, r.file, r.description]),
      );
  });

program
  .command('explain')
  .description("explain a symbol's latest prediction, citing the facts and headlines used")
  .argument('<symbol>', 'ticker, e.g. AAPL')
  .option('--horizon <days>', 'forecast horizon in trading days', '1')
  .option('--json', 'print the explanation as one JSON object')
  .option(
    '--db <file>',
    'read this embedded database instead of asking a running tickcast (default: ask, else TICKCAST_DB)',
  )
  .action(async (symbol: string, opts: ExplainArgs) => {
    await explainCommand(loadConfig(), symbol, opts);
  });

program
  .command('train')
  .description('train the candidate models, choose by walk-forward validation, write artifacts')
  .option('--data <dir>', 'folder of per-ticker daily CSVs (default TICKCAST_DATA_DIR)')
  .option('--earnings <file>', 'earnings dates CSV (default TICKCAST_EARNINGS_FILE)')
  .option('--train-end <date>', 'last training day, YYYY-MM-DD', '2016-12-31')
  .option('--validation-days <n>', 'trading days before --train-end used to choose the model', '126')
  .option('--artifacts <dir>', 'where to write the artifacts and shipped.json (default models/artifacts)')
  .action(async (opts: TrainArgs) => {
    await trainCommand(loadConfig(), opts);
  });

program
  .command('evaluate')
  .description('score models against the best baseline (persistence, drift, constantDrift) on held-out days')
  .option('--data <dir>', 'folder of per-ticker daily CSVs (default TICKCAST_DATA_DIR)')
  .option('--earnings <file>', 'earnings dates CSV (default TICKCAST_EARNINGS_FILE; none for no split)')
  .option('--from <date>', "first input day, YYYY-MM-DD; constantDrift's training window ends before it", '2017-02-08')
  .option('--to <date>', 'last input day, YYYY-MM-DD (default: the end of the data)')
  .option('--horizon <days>', 'forecast horizon in trading days: 1, 5 or 21', '1')
  .option('--json', 'print one JSON line last: the shipped model at this horizon')
  .option('--artifacts <dir>', 'trained nets and shipped.json to score (default models/artifacts)')
  .action(async (opts: EvaluateArgs) => {
    await evaluateCommand(loadConfig(), opts);
  });

program
  .command('calibration')
  .description(
    "replay the online interval calibration over a data set from its start: the 80% interval's coverage per horizon and regime",
  )
  .option('--data <dir>', 'folder of per-ticker daily CSVs (default TICKCAST_DATA_DIR)')
  .option('--earnings <file>', 'earnings dates CSV (default TICKCAST_EARNINGS_FILE; none for no split)')
  .option(
    '--from <date>',
    'first input day scored, YYYY-MM-DD (the calibration learns from the data start)',
    '2017-02-08',
  )
  .option('--to <date>', 'last input day, YYYY-MM-DD (default: the end of the data)')
  .option('--eta <step>', "step size at horizon 1 (0: off, the models' own intervals)")
  .option('--json', 'print one JSON line last')
  .action(async (opts: CalibrationArgs) => {
    process.exitCode = await calibrationCommand(loadConfig(), opts);
  });

function parseDurationOption(text: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw new ConfigError([`--pace ${JSON.stringify(text)}: a duration such as 500ms, 1s or 2m`]);
  }
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  if (err instanceof ExplainError) {
    // A symbol without data or a horizon not forecast: the user's input, not a bug.
    console.error(`tickcast: ${err.message}`);
    process.exit(2);
  }
  if (err instanceof ChromaUnreachableError || err instanceof OllamaError) {
    // A server that is down or misconfigured: what and where, not a stack.
    console.error(`tickcast: ${err.message}`);
    process.exit(1);
  }
  if (err instanceof QuestDbError) {
    // An unreachable server is a setting or an outage, not a bug: the message, not a stack.
    console.error(`tickcast: ${err.message}\n  (TICKCAST_STORE=questdb: check QUESTDB_URL and QUESTDB_PG)`);
    process.exit(1);
  }
  console.error(`tickcast: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
}
