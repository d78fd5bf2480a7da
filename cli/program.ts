// The `tickcast` command line: its commands (commander) and how an error becomes an exit code.
// In-process: every command writes through a CliIo and reads its settings from it, and runCli
// returns the exit code, so tests run commands without a child process (cli/program.test.ts).
// A command's module is imported when it runs: `run` does not load what train, evaluate or
// explain need (start-up time, and a restart's time to serve again).
// main.ts runs it on the process's argv, stdout, stderr and environment.
import { Command, CommanderError, Option } from 'commander';
import { ExplainError } from '../explain/explanation-service.js';
import { OllamaError } from '../models/ollama-embedder.js';
import { ChromaUnreachableError } from '../storage/chroma-unreachable.js';
import { QuestDbError } from '../storage/questdb-error.js';
import type { CalibrationArgs } from './calibration.js';
import { ConfigError, loadConfig, readConfig } from './config.js';
import type { DagArgs } from './dag.js';
import type { EvaluateArgs } from './evaluate.js';
import type { ExplainArgs } from './explain.js';
import type { CliIo, Output } from './io.js';
import type { BackfillArgs, RunArgs } from './run.js';
import type { StatusArgs } from './status.js';
import type { TrainArgs } from './train.js';

/**
 * Runs one command line (`args` without node and the script: e.g. ['dag', '--format', 'json']).
 * Returns the exit code: the command's own (doctor, status, calibration: 1 when something is
 * wrong), 2 for a usage error (an unknown command or option, a missing argument), else the
 * error's (exitCodeOf). `run` without --until-end
 * returns 0 while it goes on serving.
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('tickcast')
    .description('Real-time stock price prediction as a typed dataflow pipeline')
    .showHelpAfterError()
    // Commander's own errors (an unknown option, a bad choice) and --help: thrown, not exited.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.replace(/\n$/, '')),
      writeErr: (text) => io.err(text.replace(/\n$/, '')),
    });

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
    .option(
      '--exactly-once',
      'Kafka→Kafka transforms commit outputs and offsets in transactions (KAFKA_EXACTLY_ONCE=on)',
    )
    .action(async (opts: RunArgs) => (await import('./run.js')).runCommand(opts, io));

  program
    .command('backfill')
    .description('daily history from Yahoo through the pipeline into the stores (idempotent: stores upsert)')
    .option('--symbols <file|list>', 'tickers: a comma-separated list or a file (default TICKCAST_SYMBOLS)')
    .option('--from <date>', 'first day YYYY-MM-DD, or days back such as 400d (default TICKCAST_BACKFILL_FROM)')
    .option('--db <file>', 'embedded database file (default TICKCAST_DB)')
    .action(async (opts: BackfillArgs) => (await import('./run.js')).backfillCommand(opts, io));

  program
    .command('dag')
    .description("print a pipeline's DAG (price-prediction by default)")
    .option('--pipeline <name|path>', 'which pipeline (default TICKCAST_PIPELINE)')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'mermaid']).default('json'))
    .action(async (opts: DagArgs) => (await import('./dag.js')).dagCommand(opts, io));

  program
    .command('doctor')
    .description('check what this machine and configuration need: Node, the Kafka client, tfjs, the port, the servers')
    .action(async () => {
      const { doctorChecks, printChecks } = await import('./doctor.js');
      // A bad setting is one of doctor's findings (exit 1 with the others), not a stop (exit 2).
      const { config, problems } = readConfig(io.env);
      const checks = await doctorChecks(config, io.env, problems);
      if (!printChecks(checks, io.out)) exitCode = 1;
    });

  program
    .command('status')
    .description(
      'every node of a scaled-out run across its processes: status, lag, keyed state, partitions owned, ended or not',
    )
    .option('--json', 'one JSON array (one object per pipeline)')
    .action(async (opts: StatusArgs) => {
      const { statusCommand, STATUS_SETTINGS } = await import('./status.js');
      exitCode = await statusCommand(loadConfig(io.env, { settings: STATUS_SETTINGS }), opts, io);
    });

  program
    .command('pipelines')
    .description('list the pipelines `run --pipeline` and `dag --pipeline` accept')
    .option('--json', 'one JSON array')
    .action(async (opts: { json?: boolean }) => {
      const [{ PIPELINES }, { printTable }] = await Promise.all([
        import('../pipelines/modules.js'),
        import('./table.js'),
      ]);
      const rows = PIPELINES.map((p) => ({ name: p.name, file: p.file, description: p.description }));
      if (opts.json) io.out(JSON.stringify(rows));
      else
        printTable(
          ['name', 'file', 'description'],
          rows.map((r) => [r.name, r.file, r.description]),
          io.out,
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
      await (await import('./explain.js')).explainCommand(symbol, opts, io);
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
      const { trainCommand, trainProblems, TRAIN_SETTINGS } = await import('./train.js');
      const also = (c: Parameters<typeof trainProblems>[0]) => trainProblems(c, opts);
      await trainCommand(loadConfig(io.env, { settings: TRAIN_SETTINGS, also }), opts, io);
    });

  program
    .command('evaluate')
    .description('score models against the best baseline (persistence, drift, constantDrift) on held-out days')
    .option('--data <dir>', 'folder of per-ticker daily CSVs (default TICKCAST_DATA_DIR)')
    .option('--earnings <file>', 'earnings dates CSV (default TICKCAST_EARNINGS_FILE; none for no split)')
    .option(
      '--from <date>',
      "first input day, YYYY-MM-DD; constantDrift's training window ends before it",
      '2017-02-08',
    )
    .option('--to <date>', 'last input day, YYYY-MM-DD (default: the end of the data)')
    .option('--horizon <days>', 'forecast horizon in trading days: 1, 5 or 21', '1')
    .option('--json', 'print one JSON line last: the shipped model at this horizon')
    .option('--artifacts <dir>', 'trained nets and shipped.json to score (default models/artifacts)')
    .action(async (opts: EvaluateArgs) => {
      const { evaluateCommand, evaluateProblems, EVALUATE_SETTINGS } = await import('./evaluate.js');
      const also = (c: Parameters<typeof evaluateProblems>[0]) => evaluateProblems(c, opts);
      await evaluateCommand(loadConfig(io.env, { settings: EVALUATE_SETTINGS, also }), opts, io);
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
      const { calibrationCommand, calibrationProblems, CALIBRATION_SETTINGS } = await import('./calibration.js');
      const also = (c: Parameters<typeof calibrationProblems>[0]) => calibrationProblems(c, opts);
      exitCode = await calibrationCommand(loadConfig(io.env, { settings: CALIBRATION_SETTINGS, also }), opts, io);
    });

  try {
    await program.parseAsync([...args], { from: 'user' });
    return exitCode;
  } catch (err) {
    // Commander has said what was wrong (and shown the help). A usage error is the user's input,
    // as a bad setting is: 2, the usual code for one (commander's own is 1, a failure's); --help 0.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    return exitCodeOf(err, io);
  }
}

/**
 * An error that stopped a command: said in one line and exit 2 when it is the user's input (a
 * setting, an argument), 1 with what and where for a server that is down, else 1 with the stack.
 */
export function exitCodeOf(err: unknown, io: Pick<Output, 'err'>): number {
  if (err instanceof ConfigError) {
    io.err(err.message);
    return 2;
  }
  if (err instanceof ExplainError) {
    // A symbol without data or a horizon not forecast: the user's input, not a bug.
    io.err(`tickcast: ${err.message}`);
    return 2;
  }
  if (err instanceof ChromaUnreachableError || err instanceof OllamaError) {
    // A server that is down or misconfigured: what and where, not a stack.
    io.err(`tickcast: ${err.message}`);
    return 1;
  }
  if (err instanceof QuestDbError) {
    // An unreachable server is a setting or an outage, not a bug: the message, not a stack.
    io.err(`tickcast: ${err.message}\n  (TICKCAST_STORE=questdb: check QUESTDB_URL and QUESTDB_PG)`);
    return 1;
  }
  io.err(`tickcast: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return 1;
}
