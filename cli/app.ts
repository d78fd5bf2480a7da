// Wires a configured tickcast: store, live hub, earnings calendar, models, market-data
// source and the price-prediction pipeline, run on the configured transport.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { takeEarlyServer } from '../api/early-server.js';
import { watchedSymbols } from '../api/pubsub.js';
import { type ApiServer, ListenError, type PipelineBinding, startServer } from '../api/server.js';
import type { ClusterNode } from '../engine/cluster-metrics.js';
import {
  createLiveHub,
  createReplayClock,
  createWatermarkGate,
  type LiveHub,
  MemoryTransport,
  type Pipeline,
  type ReplayClock,
  type RunningPipeline,
  type RunOptions,
  runPipeline,
  type SourceOperator,
  type TableTopic,
  type WatermarkGate,
} from '../engine/index.js';
import { createLogger, type Logger, lineLogger } from '../engine/log.js';
import { ExactlyOnceRefused } from '../engine/runner.js';
import { ollamaExplainer } from '../explain/ollama-explainer.js';
import type { Explainer } from '../explain/types.js';
import { driftModel, persistenceModel } from '../models/baselines.js';
import { type CalibrationTable, createCalibrationTable } from '../models/calibration-table.js';
import {
  createLiveEarningsCalendar,
  type EarningsCalendar,
  emptyEarningsCalendar,
  type LiveEarningsCalendar,
  loadEarningsCalendar,
} from '../models/earnings-calendar.js';
import type { Embedder } from '../models/embedder.js';
import { openEmbedder } from '../models/embedders.js';
import type { Model } from '../models/model.js';
import { news } from '../operators/sources/news.js';
import { replay } from '../operators/sources/replay.js';
import { simulator } from '../operators/sources/simulator.js';
import type { MarketDataStatus, YahooFeed } from '../operators/sources/yahoo.js';
import {
  bundledPublicTopics,
  loadPipelineModule,
  PIPELINES,
  type PipelineModule,
  servedTopics,
  UnknownPipelineError,
} from '../pipelines/modules.js';
import { CALIBRATION_TABLE } from '../pipelines/price-prediction.js';
import { type DeadLetter, schemas } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { openDuckDbVectorStore } from '../storage/duckdb-vector-store.js';
import { withStoreFaults } from '../storage/fault-injecting-store.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { VectorStore } from '../storage/vector-store.js';
import {
  type ApiSetting,
  backfillFrom,
  type Config,
  ConfigError,
  dataFolderProblems,
  earningsFileProblems,
  newsFolderProblems,
} from './config.js';
import { type DeadLetterGroup, groupDeadLetters } from './summary.js';
import { loadUniverse } from './universe.js';

export interface App {
  config: Config;
  /** The diagnostic log (TICKCAST_LOG_FORMAT, TICKCAST_LOG_LEVEL), for the app's parts and its API. */
  log: Logger;
  /** The pipeline module it was built from. */
  module: PipelineModule;
  pipeline: Pipeline;
  store: TimeSeriesStore;
  hub: LiveHub;
  models: { normal: Model; earnings: Model; net?: Model | null };
  calendar: EarningsCalendar;
  /** The interval calibration the pipeline keeps current (scores → calibrate → this table). */
  calibration: CalibrationTable;
  /** What a replay waits on: the calibration table node's watermark (null: no wait). */
  feedback: WatermarkGate | null;
  /** The explanation path's parts; null with TICKCAST_EXPLAIN=off. */
  explain: ExplainParts | null;
  /** The live Yahoo feed (TICKCAST_SOURCE=yahoo), else null. */
  yahoo: YahooFeed | null;
  /** Series of the app's own parts (the yahoo source and client), served at /metrics beside the engine's. */
  registry: Registry;
}

/** What explanations need besides the time-series store: an embedder, a vector store, a writer. */
export interface ExplainParts {
  embedder: Embedder;
  vectors: VectorStore;
  /** The configured explainer; null = the grounded template. */
  explainer: Explainer | null;
  close(): Promise<void>;
}

/**
 * What is wrong with the settings together and with what they point at (a missing folder, an
 * unknown pipeline, a role without Kafka): checked before anything opens or loads, and by run
 * beside the bad values themselves (loadConfig's `also`), so that one message names them all.
 */
export function settingProblems(config: Omit<Config, ApiSetting>): string[] {
  return [...pathProblems(config), ...pipelineProblems(config), ...transportProblems(config)];
}

/** What the config points at: a missing folder stops start-up with a fix. */
function pathProblems(config: Omit<Config, ApiSetting>): string[] {
  const problems: string[] = [];
  if (config.TICKCAST_SOURCE === 'replay') {
    problems.push(
      ...dataFolderProblems(`TICKCAST_DATA_DIR=${JSON.stringify(config.TICKCAST_DATA_DIR)}`, config.TICKCAST_DATA_DIR),
    );
  }
  const earnings = config.TICKCAST_EARNINGS_FILE;
  problems.push(...earningsFileProblems(`TICKCAST_EARNINGS_FILE=${JSON.stringify(earnings)}`, earnings));
  if (config.TICKCAST_EXPLAIN) problems.push(...explainProblems(config));
  return problems;
}

/** TICKCAST_PIPELINE (--pipeline): a bundled pipeline's name or a file (choosePipeline loads it). */
export function pipelineProblems(config: Pick<Config, 'TICKCAST_PIPELINE'>): string[] {
  const name = config.TICKCAST_PIPELINE;
  if (PIPELINES.some((p) => p.name === name) || existsSync(resolve(name))) return [];
  return [`TICKCAST_PIPELINE=${JSON.stringify(name)} (--pipeline): ${new UnknownPipelineError(name).message}`];
}

/** Settings that need Kafka: the memory transport runs one process, without transactions. */
function transportProblems(config: Omit<Config, ApiSetting>): string[] {
  if (config.TICKCAST_TRANSPORT !== 'memory') return [];
  return [
    ...(config.TICKCAST_ROLE !== 'all'
      ? [`TICKCAST_ROLE=${config.TICKCAST_ROLE}: the source, worker and api roles need TICKCAST_TRANSPORT=kafka`]
      : []),
    ...(config.KAFKA_EXACTLY_ONCE !== false
      ? [
          'KAFKA_EXACTLY_ONCE (--exactly-once): exactly-once needs TICKCAST_TRANSPORT=kafka (the memory transport has no transactions)',
        ]
      : []),
  ];
}

/** Settings of the explanation path that cannot work together. */
function explainProblems(config: Omit<Config, ApiSetting>): string[] {
  const problems: string[] = [];
  const news = config.TICKCAST_NEWS;
  // With the yahoo source the headlines come from Yahoo; TICKCAST_NEWS=none turns them off.
  if (config.TICKCAST_SOURCE !== 'yahoo')
    problems.push(...newsFolderProblems(`TICKCAST_NEWS=${JSON.stringify(news)}`, news));
  if (config.TICKCAST_EMBEDDER === 'ollama' && !config.OLLAMA_HOST) {
    problems.push('TICKCAST_EMBEDDER=ollama: set OLLAMA_HOST to the Ollama server, e.g. http://localhost:11434');
  }
  if (config.TICKCAST_EXPLAINER === 'ollama' && !config.OLLAMA_HOST) {
    problems.push('TICKCAST_EXPLAINER=ollama: set OLLAMA_HOST to the Ollama server, e.g. http://localhost:11434');
  }
  // The embedded vector store is a file one process holds; Kafka deployments are several processes.
  if (config.TICKCAST_TRANSPORT === 'kafka' && !config.CHROMA_URL) {
    problems.push(
      'TICKCAST_TRANSPORT=kafka: explanations need a vector store every process can reach: set CHROMA_URL (or TICKCAST_EXPLAIN=off)',
    );
  }
  return problems;
}

/**
 * The explanation path's parts: the configured embedder, the vector store (Chroma when
 * CHROMA_URL is set, else the embedded database file) and the explainer (Ollama when
 * OLLAMA_HOST is set, unless TICKCAST_EXPLAINER=template).
 */
export async function openExplainParts(
  config: Omit<Config, ApiSetting>,
  opts: { dbPath?: string } = {},
): Promise<ExplainParts> {
  const problems = explainProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  const embedder = await openEmbedder(config);
  const vectors = config.CHROMA_URL
    ? // Loaded only with a Chroma server: the client is start-up time every other run would pay.
      await (await import('../storage/chroma-vector-store.js')).openChromaVectorStore({
        url: config.CHROMA_URL,
        collection: config.CHROMA_COLLECTION,
        embedder,
      })
    : await openDuckDbVectorStore({ path: opts.dbPath ?? config.TICKCAST_DB, embedder });
  const useOllama = (config.TICKCAST_EXPLAINER ?? (config.OLLAMA_HOST ? 'ollama' : 'template')) === 'ollama';
  // No explainer: the service's own template (written at once, nothing to check as it streams).
  const explainer =
    useOllama && config.OLLAMA_HOST ? ollamaExplainer({ host: config.OLLAMA_HOST, model: config.OLLAMA_MODEL }) : null;
  return {
    embedder,
    vectors,
    explainer,
    close: async () => {
      await vectors.close();
      await embedder.close?.();
    },
  };
}

/** The configured time-series store: QuestDB, or the embedded DuckDB file. */
export async function openStore(
  config: Pick<Config, 'TICKCAST_STORE' | 'TICKCAST_DB' | 'QUESTDB_URL' | 'QUESTDB_PG' | 'QUESTDB_TABLE_PREFIX'>,
  dbPath?: string,
): Promise<TimeSeriesStore> {
  if (config.TICKCAST_STORE !== 'questdb') {
    const path = dbPath ?? config.TICKCAST_DB;
    return openDuckDbStore({ path }).catch((err: unknown) => {
      throw lockedBy(err, path) ?? err;
    });
  }
  // Loaded only for QuestDB: its clients (pg, @questdb/nodejs-client) are start-up time otherwise.
  const { openQuestDbStore } = await import('../storage/questdb-store.js');
  return openQuestDbStore({ url: config.QUESTDB_URL, pg: config.QUESTDB_PG, tablePrefix: config.QUESTDB_TABLE_PREFIX });
}

/**
 * DuckDB lets one process at a time open a file: a second `tickcast run` on the same database (the
 * first still running, often forgotten in another terminal) got DuckDB's own "Could not set lock
 * on file" and exit 1. Said as the setting to change, with the process that holds it.
 */
function lockedBy(err: unknown, path: string): ConfigError | null {
  const m = /Could not set lock on file .*Conflicting lock is held in (.+?) \(PID (\d+)\)/.exec(String(err));
  if (!m) return null;
  return new ConfigError([
    `TICKCAST_DB=${path}: the database is open in another process (PID ${m[2]}, ${m[1]}): a tickcast still running? Stop it, or set TICKCAST_DB to another file`,
  ]);
}

export interface BuildOptions {
  paceMs?: number;
  dbPath?: string;
  /** `tickcast backfill`: the yahoo source fetches this history, then ends (no live cycles). */
  backfill?: { from: number; symbols?: readonly string[] };
}

/**
 * What a run opens before its models and pipeline (openApp): enough to serve the store. The rest
 * (completeApp) loads the models (TensorFlow.js), the market-data source, the explanation parts
 * and builds the pipeline.
 */
export interface AppBase {
  config: Config;
  log: Logger;
  /** The pipeline module TICKCAST_PIPELINE names. */
  module: PipelineModule;
  /** The yahoo source's universe (empty for the others). */
  universe: readonly string[];
  store: TimeSeriesStore;
  hub: LiveHub;
  calendar: EarningsCalendar;
  /** The live earnings calendar (yahoo source), else null. */
  liveCalendar: LiveEarningsCalendar | null;
  calibration: CalibrationTable;
  registry: Registry;
}

/** Checks the settings, chooses the pipeline module and opens the store, live hub and calendar. */
export async function openApp(config: Config, opts: BuildOptions = {}): Promise<AppBase> {
  const problems = settingProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  const log = appLogger(config);
  // First: a pipeline that does not exist stops start-up before anything opens.
  const module = await choosePipeline(config);
  // Read before anything opens: a bad TICKCAST_SYMBOLS stops start-up with nothing to close.
  const universe = config.TICKCAST_SOURCE === 'yahoo' ? loadUniverse(config.TICKCAST_SYMBOLS) : [];
  // TICKCAST_FAULTS (tests and soaks only): writes that fail on a schedule; none: the store itself.
  const store = withStoreFaults(await openStore(config, opts.dbPath), config.TICKCAST_FAULTS, {
    log: lineLogger(log, 'warn'),
  });
  try {
    const { calendar, live } = await openCalendar(config);
    return {
      config,
      log,
      module,
      universe,
      store,
      hub: createLiveHub(),
      calendar,
      liveCalendar: live,
      calibration: createCalibrationTable(),
      registry: new Registry(),
    };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

/**
 * The models, the market-data source, the explanation parts and the pipeline, on what openApp
 * opened. On failure it closes what it opened itself; the store is the caller's.
 */
export async function completeApp(base: AppBase, opts: BuildOptions = {}): Promise<App> {
  const {
    config,
    log,
    module: chosen,
    universe,
    store,
    hub,
    calendar,
    liveCalendar: live,
    calibration,
    registry,
  } = base;
  const models = await chooseModels(config, calendar);
  // A replay waits for the calibration of the days before each day (not a live source: its days
  // are hours apart). Attached in startPipeline with the memory transport only: through Kafka each
  // day would wait a round trip over five hops, and replays there run ahead of the calibration.
  const feedback =
    config.TICKCAST_SOURCE === 'replay' && config.TICKCAST_CALIBRATION ? createWatermarkGate(CALIBRATION_TABLE) : null;
  const yahoo = live ? await openYahooFeed(config, { universe, hub, registry, backfill: opts.backfill, log }) : null;
  // Headlines replay in step with the prices: the news source waits for the replay to pass each one's time.
  const clock = config.TICKCAST_SOURCE === 'replay' ? createReplayClock() : undefined;
  const paceMs = opts.paceMs ?? config.TICKCAST_PACE;
  // Only for a pipeline that explains (a Kafka run of sma-cross needs no Chroma).
  const explain =
    config.TICKCAST_EXPLAIN && chosen.explains !== false
      ? await openExplainParts(config, { dbPath: opts.dbPath })
      : null;
  try {
    const pipeline = chosen.build({
      registry,
      source: marketSource(config, { yahoo, backfill: opts.backfill, paceMs, clock, feedback }),
      calendar,
      models,
      store,
      hub,
      partitions: config.TICKCAST_PARTITIONS,
      ...(yahoo && config.TICKCAST_MINUTE_BARS ? { minuteBars: { sources: ['yahoo'] } } : {}),
      ...(yahoo && live && !opts.backfill ? { liveEarnings: { source: yahoo.earnings, calendar: live } } : {}),
      scoring: { ...(config.TICKCAST_CALIBRATION ? { table: calibration } : {}), registry },
      ...(explain
        ? {
            explain: {
              embedder: explain.embedder,
              vectors: explain.vectors,
              news: opts.backfill ? undefined : headlineSource(config, yahoo, clock),
            },
          }
        : {}),
    });
    return {
      config,
      log,
      module: chosen,
      pipeline,
      store,
      hub,
      models,
      calendar,
      calibration,
      feedback,
      explain,
      yahoo,
      registry,
    };
  } catch (err) {
    await explain?.close().catch(() => {});
    throw err;
  }
}

/** openApp, then completeApp: a configured tickcast, ready to start. */
export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<App> {
  const base = await openApp(config, opts);
  try {
    return await completeApp(base, opts);
  } catch (err) {
    await base.store.close().catch(() => {});
    throw err;
  }
}

/** The diagnostic log the configuration asks for (text for people by default, JSON for collectors). */
function appLogger(config: Config): Logger {
  return createLogger({ format: config.TICKCAST_LOG_FORMAT, level: config.TICKCAST_LOG_LEVEL });
}

/** The pipeline module TICKCAST_PIPELINE (--pipeline) names; an unknown one stops start-up with the choices. */
export async function choosePipeline(config: Pick<Config, 'TICKCAST_PIPELINE'>): Promise<PipelineModule> {
  try {
    return await loadPipelineModule(config.TICKCAST_PIPELINE);
  } catch (err) {
    const why = err instanceof UnknownPipelineError ? err.message : String(err instanceof Error ? err.message : err);
    throw new ConfigError([`TICKCAST_PIPELINE=${JSON.stringify(config.TICKCAST_PIPELINE)} (--pipeline): ${why}`]);
  }
}

/**
 * The earnings calendar of the file; with the yahoo source, live: Yahoo's upcoming dates over the
 * file, applied by the pipeline's earnings-calendar sink in every process that routes.
 */
async function openCalendar(
  config: Config,
): Promise<{ calendar: EarningsCalendar; live: LiveEarningsCalendar | null }> {
  const file =
    config.TICKCAST_EARNINGS_FILE === 'none'
      ? emptyEarningsCalendar()
      : await loadEarningsCalendar(config.TICKCAST_EARNINGS_FILE);
  if (config.TICKCAST_SOURCE !== 'yahoo') return { calendar: file, live: null };
  const live = createLiveEarningsCalendar(file);
  return { calendar: live, live };
}

/**
 * The yahoo feed on the process's one Yahoo client, over the configured universe. Its modules load
 * only for the yahoo source (yahoo-finance2 and the resilience libraries: start-up time otherwise).
 */
async function openYahooFeed(
  config: Config,
  deps: {
    universe: readonly string[];
    hub: LiveHub;
    registry: Registry;
    backfill: BuildOptions['backfill'];
    log: Logger;
  },
): Promise<YahooFeed> {
  const { universe, log } = deps;
  const [{ createYahooFeed, defaultPollMs }, { createYahooClient }] = await Promise.all([
    import('../operators/sources/yahoo.js'),
    import('../operators/sources/yahoo-client.js'),
  ]);
  return createYahooFeed({
    client: createYahooClient({
      ...(config.YAHOO_BASE_URL ? { baseUrl: config.YAHOO_BASE_URL } : {}),
      requestsPerMinute: config.YAHOO_RATE,
      concurrency: config.YAHOO_CONCURRENCY,
      log: (level, message) => log[level]({ source: 'yahoo' }, message),
    }),
    symbols: universe,
    watched: () => watchedSymbols(deps.hub),
    pollMs: config.TICKCAST_POLL ?? defaultPollMs(universe.length, config.YAHOO_RATE),
    requestsPerMinute: config.YAHOO_RATE,
    backfillConcurrency: config.YAHOO_CONCURRENCY,
    ...(deps.backfill ? {} : optional('backfillFrom', backfillFrom(config.TICKCAST_BACKFILL_FROM))),
    ...(config.TICKCAST_MINUTE_BARS ? { intradayLagMs: 2 * 60_000 } : {}),
    registry: deps.registry,
    log: lineLogger(log),
  });
}

/** Where quotes come from: Yahoo (live, or a backfill alone), the SYNTHETIC simulator, or the CSV replay. */
function marketSource(
  config: Config,
  o: {
    yahoo: YahooFeed | null;
    backfill: BuildOptions['backfill'];
    paceMs: number;
    clock: ReplayClock | undefined;
    feedback: WatermarkGate | null;
  },
): SourceOperator<{ quotes: typeof schemas.Quote }> {
  if (o.yahoo) return o.backfill ? o.yahoo.backfillOnly(o.backfill.from, o.backfill.symbols) : o.yahoo.quotes;
  if (config.TICKCAST_SOURCE === 'simulator') {
    return simulator({ symbols: config.TICKCAST_SIM_SYMBOLS, ticks: config.TICKCAST_SIM_TICKS, paceMs: o.paceMs });
  }
  return replay({
    dir: config.TICKCAST_DATA_DIR,
    paceMs: o.paceMs,
    clock: o.clock,
    ...(o.feedback ? { feedback: o.feedback.wait } : {}),
  });
}

/**
 * Where headlines come from: Yahoo's with the yahoo source, else the bundled sets (none with
 * TICKCAST_NEWS=none). The replay's clock only runs where the replay runs (a source process):
 * anywhere else the news would wait for it forever.
 */
function headlineSource(
  config: Config,
  yahoo: YahooFeed | null,
  clock: ReplayClock | undefined,
): SourceOperator<{ news: typeof schemas.News }> | undefined {
  if (config.TICKCAST_NEWS === 'none') return undefined;
  if (yahoo) return yahoo.news;
  return news({ dir: config.TICKCAST_NEWS, ...(clock && config.TICKCAST_ROLE !== 'worker' ? { clock } : {}) });
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

/**
 * What GraphQL `marketData` and /healthz say of the source: the yahoo feed's status, or for a
 * replay (or the simulator) its node's state and event time.
 */
export function marketDataOf(app: App, running: RunningPipeline): () => MarketDataStatus | null {
  if (app.yahoo) return () => app.yahoo!.status();
  return () => {
    const node = running.metrics.snapshot().find((n) => n.node === 'market-data');
    if (!node) return null;
    return {
      source: app.config.TICKCAST_SOURCE,
      state: node.status === 'running' ? 'live' : node.status === 'idle' ? 'starting' : 'stopped',
      marketOpen: null,
      newestQuoteTs: node.watermark ?? null,
      symbols: 0,
      staleSymbols: 0,
      dataAgeMaxMs: null,
      dataAgeMedianMs: null,
      breakers: [],
      lastCycleAt: null,
      backfill: null,
    };
  };
}

/** The shipped pair (default), or a baseline on both branches when asked or nothing is shipped. */
async function chooseModels(
  config: Config,
  calendar: EarningsCalendar,
): Promise<{ normal: Model; earnings: Model; net?: Model | null }> {
  if (config.TICKCAST_MODEL === 'shipped') {
    // With the router's calendar: normal forecasts whose window holds an announcement widen too.
    // Loaded here, not at start-up: the shipped nets bring TensorFlow.js (openApp serves without it).
    const { loadShipped } = await import('../models/shipped.js');
    const shipped = await loadShipped(undefined, { calendar });
    if (shipped) {
      // The API serves the configured horizons: each must be one the model forecasts.
      const served = shipped.normal.horizons;
      const missing = config.TICKCAST_HORIZONS.filter((h) => !served.includes(h));
      if (missing.length > 0) {
        throw new ConfigError([
          `TICKCAST_HORIZONS=${config.TICKCAST_HORIZONS.join(',')}: the shipped model ${shipped.normal.name} forecasts ${served.join(', ')} trading days, not ${missing.join(', ')} (choose among them, or TICKCAST_MODEL=persistence for any horizon)`,
        ]);
      }
      return shipped;
    }
    appLogger(config).warn('no shipped model (run `npx tickcast train`); using persistence');
  }
  const make = config.TICKCAST_MODEL === 'drift' ? driftModel : persistenceModel;
  const model = make({ horizons: config.TICKCAST_HORIZONS });
  return { normal: model, earnings: model };
}

/** How a process runs its part of the pipeline on Kafka, from the configuration. */
export function kafkaRunOptions(c: Config, pipeline: Pipeline): RunOptions {
  return {
    batchSize: c.TICKCAST_BATCH_SIZE,
    // API replicas each need every record (their own subscribers): a group of their own.
    groupPrefix: `${c.KAFKA_TOPIC_PREFIX}${pipeline.name}${c.TICKCAST_ROLE === 'api' ? `.api-${hostname()}-${process.pid}` : ''}`,
    nodes: nodesFor(pipeline, c.TICKCAST_ROLE),
    exactlyOnce: c.KAFKA_EXACTLY_ONCE,
    commitIntervalMs: c.KAFKA_COMMIT_INTERVAL,
    chaining: c.TICKCAST_CHAINING,
  };
}

export async function startPipeline(app: App): Promise<RunningPipeline> {
  const log = lineLogger(app.log);
  if (app.config.TICKCAST_TRANSPORT === 'memory') {
    const problems = transportProblems(app.config);
    if (problems.length > 0) throw new ConfigError(problems);
    const running = await runPipeline(app.pipeline, {
      transport: new MemoryTransport(),
      batchSize: app.config.TICKCAST_BATCH_SIZE,
      chaining: app.config.TICKCAST_CHAINING,
      log,
    });
    if (app.pipeline.nodes.some((n) => n.id === CALIBRATION_TABLE)) app.feedback?.attach(running);
    return running;
  }
  // Loaded only for Kafka: the client is an optional native package, the registry client is heavy.
  const [{ createKafkaTransport }, { RegistrySerde }] = await Promise.all([
    import('../engine/transports/kafka/kafka-transport.js'),
    import('../engine/transports/kafka/registry-serde.js'),
  ]);
  const c = app.config;
  const transport = await createKafkaTransport({
    brokers: c.KAFKA_BROKERS.split(','),
    topicPrefix: c.KAFKA_TOPIC_PREFIX,
    sessionTimeoutMs: c.KAFKA_SESSION_TIMEOUT,
    consumer: c.KAFKA_CONSUMER,
    clientId: `tickcast-${c.TICKCAST_ROLE}-${process.pid}`,
    ...(c.KAFKA_INSTANCE_ID ? { instanceId: c.KAFKA_INSTANCE_ID } : {}),
    log,
  });
  const running = await runPipeline(app.pipeline, {
    transport,
    serde: new RegistrySerde({ url: c.SCHEMA_REGISTRY_URL }),
    ...kafkaRunOptions(c, app.pipeline),
    log,
  }).catch(async (err: unknown) => {
    await transport.close();
    // A bad node list is a configuration error: exit 2 with the variable named, like the others.
    if (err instanceof ExactlyOnceRefused) {
      const value = c.KAFKA_EXACTLY_ONCE === true ? 'on' : String(c.KAFKA_EXACTLY_ONCE);
      throw new ConfigError(err.problems.map((p) => `KAFKA_EXACTLY_ONCE=${JSON.stringify(value)}: ${p}`));
    }
    throw err;
  });
  // The runner closes its producer and consumers; the transport's admin connection is ours. After a
  // finished run it stays open (the API and the summary read the dead-letter topics back through
  // it): whoever ends the process closes it (`running.transport.close()`); after a failure, here.
  running.done.catch(() => transport.close());
  return running;
}

/**
 * The nodes a process runs for its role. With several workers exactly one process must run the
 * sources (role `source`, or one `all`): each worker that ran them would produce every quote again.
 * Sinks that feed what a process serves (`feedsApi`: the live fan-out, the skill series of
 * /metrics) run where the API serves: in `all` and `api`, not in `worker`.
 */
export function nodesFor(pipeline: Pipeline, role: Config['TICKCAST_ROLE']): string[] {
  const serves = (n: Pipeline['nodes'][number]) => n.operator.kind === 'sink' && n.operator.feedsApi === true;
  const runs: Record<Config['TICKCAST_ROLE'], (n: Pipeline['nodes'][number]) => boolean> = {
    all: () => true,
    source: (n) => n.operator.kind === 'source',
    worker: (n) => n.operator.kind !== 'source' && !serves(n),
    // The API's own tables too (e.g. the earnings calendar it shows): the nodes every process reads.
    api: (n) => serves(n) || n.everyProcess,
  };
  return pipeline.nodes.filter(runs[role]).map((n) => n.id);
}

/** `cluster` (scaled out): the pipeline view shows every process's figures, not this one's. */
export async function serve(
  app: App,
  running: RunningPipeline,
  cluster?: { nodes(): Map<string, ClusterNode> } | null,
): Promise<ApiServer> {
  return listening(
    app.config,
    startServer({
      ...serverOptions(app),
      topics: servedTopics(app.pipeline),
      ...pipelineBinding(app, running, cluster ?? undefined),
    }),
  );
}

/**
 * The API on the store alone, before the models load and the pipeline is built (start-up is
 * mostly importing them): stored predictions, bars and the live feed answer at once, /healthz
 * says `starting`, and what reads the pipeline waits until `pipelineStarted` gives it. Null when
 * the schema cannot be known before the pipeline is built (a module file that does not declare its
 * public topics): serve it with `serve` once it runs.
 */
export async function serveStarting(base: AppBase): Promise<ApiServer | null> {
  const topics = topicsBeforeBuild(base.module);
  if (!topics) return null;
  return listening(base.config, startServer({ ...serverOptions(base), topics }));
}

/** A server from serveStarting gets its running pipeline. */
export function pipelineStarted(
  server: ApiServer,
  app: App,
  running: RunningPipeline,
  cluster?: { nodes(): Map<string, ClusterNode> } | null,
): void {
  // The schema was made from the module's declaration: the built pipeline must serve no other topic.
  const known = new Set((topicsBeforeBuild(app.module) ?? []).map((t) => t.name));
  const undeclared = servedTopics(app.pipeline).filter((t) => !known.has(t.name));
  if (undeclared.length > 0) {
    throw new Error(
      `pipeline ${app.pipeline.name}: public topic(s) ${undeclared.map((t) => t.name).join(', ')} not in its module's publicTopics (the API's schema is made from them)`,
    );
  }
  server.pipelineStarted(pipelineBinding(app, running, cluster ?? undefined));
}

/**
 * The public topics the API will serve, known before the pipeline is built: a bundled module's
 * (and the other bundled ones', as servedTopics), or a module file's declared publicTopics; null
 * when a module file declares none.
 */
export function topicsBeforeBuild(module: PipelineModule): TableTopic[] | null {
  if (!PIPELINES.includes(module) && !module.publicTopics) return null;
  const out = new Map<string, TableTopic>();
  for (const t of [...(module.publicTopics ?? []), ...bundledPublicTopics()]) if (!out.has(t.name)) out.set(t.name, t);
  return [...out.values()];
}

/** A port in use or a foreign host is configuration, not a crash: name the setting (exit 2). */
function listening(config: Config, server: Promise<ApiServer>): Promise<ApiServer> {
  return server.catch((err: unknown) => {
    throw err instanceof ListenError ? new ConfigError([listenProblem(err, config)]) : err;
  });
}

function listenProblem(err: ListenError, c: Config): string {
  return err.code === 'EADDRINUSE'
    ? `TICKCAST_PORT=${c.TICKCAST_PORT}: ${err.message} (stop what holds it, or choose another port; 0 picks any free one)`
    : `TICKCAST_HOST=${JSON.stringify(c.TICKCAST_HOST)}: ${err.message} (use an address of this machine, e.g. 127.0.0.1 or 0.0.0.0)`;
}

/** The server's settings that do not depend on the running pipeline. */
function serverOptions(
  app: Pick<AppBase, 'config' | 'store' | 'hub' | 'calendar' | 'calibration' | 'registry' | 'log'>,
) {
  const c = app.config;
  return {
    store: app.store,
    hub: app.hub,
    host: c.TICKCAST_HOST,
    port: c.TICKCAST_PORT,
    // `tickcast run` listened before loading (bin/early-listen.js): take that socket over.
    early: takeEarlyServer(c.TICKCAST_HOST, c.TICKCAST_PORT),
    horizons: c.TICKCAST_HORIZONS,
    calendar: app.calendar,
    ...(c.TICKCAST_CALIBRATION ? { calibration: () => app.calibration.groups() } : {}),
    registries: [app.registry],
    log: app.log,
    // The dashboard, built by `npm run build` (npm start builds it when missing).
    uiDir: fileURLToPath(new URL('../ui/dist', import.meta.url)),
    apiKeys: c.TICKCAST_API_KEYS,
    corsOrigins: c.TICKCAST_CORS_ORIGINS,
    limits: { httpRatePerSecond: c.TICKCAST_API_RATE, httpBurst: 2 * c.TICKCAST_API_RATE },
  };
}

/** What the server serves of the running pipeline: its metrics, the models, market data, explanations. */
function pipelineBinding(
  app: App,
  running: RunningPipeline,
  cluster: { nodes(): Map<string, ClusterNode> } | undefined,
): PipelineBinding {
  const c = app.config;
  const model = (m: Model) => ({ name: m.name, version: m.version });
  return {
    running: cluster ? { ...running, cluster } : running,
    serving: { normal: model(app.models.normal), earnings: model(app.models.earnings) },
    marketData: marketDataOf(app, running),
    ...(app.explain
      ? {
          explain: {
            sources: { store: app.store, vectors: app.explain.vectors, embedder: app.explain.embedder },
            ...(app.explain.explainer ? { explainer: app.explain.explainer } : {}),
            firstTextTimeoutMs: c.OLLAMA_TIMEOUT,
            totalTimeoutMs: 6 * c.OLLAMA_TIMEOUT,
            retrieval: { marketMinSimilarity: c.TICKCAST_MARKET_MIN_SIMILARITY },
          },
        }
      : {}),
  };
}

/**
 * Dead letters of every topic, read back from the `.dlq` topics through the transport (memory or
 * Kafka) and grouped by what went wrong (`groupDeadLetters`). Empty when the transport cannot read.
 */
export async function deadLetterReasons(
  running: Pick<RunningPipeline, 'pipeline' | 'transport'>,
): Promise<DeadLetterGroup[]> {
  const read = running.transport.readTopic?.bind(running.transport);
  if (!read) return [];
  const letters: Array<{ topic: string; letter: DeadLetter }> = [];
  for (const t of running.pipeline.topics.values()) {
    for (const m of await read(t.deadLetterTopic)) {
      letters.push({ topic: t.name, letter: schemas.DeadLetter.type.fromBuffer(m.value!) as DeadLetter });
    }
  }
  return groupDeadLetters(letters);
}
