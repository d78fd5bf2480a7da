// Wires a configured tickcast: store, live hub, earnings calendar, models, market-data
// source and the price-prediction pipeline, run on the configured transport.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type ApiServer, startServer } from '../api/server.js';
import {
  createLiveHub,
  type LiveHub,
  MemoryTransport,
  type Pipeline,
  type RunningPipeline,
  runPipeline,
} from '../engine/index.js';
import { ExactlyOnceRefused } from '../engine/runner.js';
import { driftModel, persistenceModel } from '../models/baselines.js';
import { type EarningsCalendar, emptyEarningsCalendar, loadEarningsCalendar } from '../models/earnings-calendar.js';
import type { Model } from '../models/model.js';
import { loadShipped } from '../models/shipped.js';
import { replay } from '../operators/sources/replay.js';
import { simulator } from '../operators/sources/simulator.js';
import { pricePrediction } from '../pipelines/price-prediction.js';
import { type DeadLetter, schemas } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { openQuestDbStore } from '../storage/questdb-store.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import { type Config, ConfigError } from './config.js';

export interface App {
  config: Config;
  pipeline: Pipeline;
  store: TimeSeriesStore;
  hub: LiveHub;
  models: { normal: Model; earnings: Model };
  calendar: EarningsCalendar;
}

/** Checks what the config points at, so a missing folder stops start-up with a fix. */
export function checkPaths(config: Config): void {
  const problems: string[] = [];
  if (config.TICKCAST_SOURCE === 'replay') {
    const dir = config.TICKCAST_DATA_DIR;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      problems.push(`TICKCAST_DATA_DIR=${JSON.stringify(dir)}: no such folder (point it at per-ticker daily CSVs)`);
    } else if (!readdirSync(dir).some((f) => f.toLowerCase().endsWith('.csv'))) {
      problems.push(`TICKCAST_DATA_DIR=${JSON.stringify(dir)}: holds no .csv files`);
    }
  }
  const earnings = config.TICKCAST_EARNINGS_FILE;
  if (earnings !== 'none' && !existsSync(earnings)) {
    problems.push(`TICKCAST_EARNINGS_FILE=${JSON.stringify(earnings)}: no such file (or set it to none)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

export async function buildApp(config: Config, opts: { paceMs?: number; dbPath?: string } = {}): Promise<App> {
  checkPaths(config);
  const store =
    config.TICKCAST_STORE === 'questdb'
      ? await openQuestDbStore({
          url: config.QUESTDB_URL,
          pg: config.QUESTDB_PG,
          tablePrefix: config.QUESTDB_TABLE_PREFIX,
        })
      : await openDuckDbStore({ path: opts.dbPath ?? config.TICKCAST_DB });
  const hub = createLiveHub();
  const calendar =
    config.TICKCAST_EARNINGS_FILE === 'none'
      ? emptyEarningsCalendar()
      : await loadEarningsCalendar(config.TICKCAST_EARNINGS_FILE);
  const models = await chooseModels(config);
  const paceMs = opts.paceMs ?? config.TICKCAST_PACE;
  const source =
    config.TICKCAST_SOURCE === 'simulator'
      ? simulator({ symbols: config.TICKCAST_SIM_SYMBOLS, ticks: config.TICKCAST_SIM_TICKS, paceMs })
      : replay({ dir: config.TICKCAST_DATA_DIR, paceMs });
  const pipeline = pricePrediction({
    source,
    calendar,
    models,
    store,
    hub,
    partitions: config.TICKCAST_PARTITIONS,
  });
  return { config, pipeline, store, hub, models, calendar };
}

/** The shipped pair (default), or a baseline on both branches when asked or nothing is shipped. */
async function chooseModels(config: Config): Promise<{ normal: Model; earnings: Model }> {
  if (config.TICKCAST_MODEL === 'shipped') {
    const shipped = await loadShipped();
    if (shipped) return shipped;
    console.error('tickcast: no shipped model (run `npx tickcast train`); using persistence');
  }
  const make = config.TICKCAST_MODEL === 'drift' ? driftModel : persistenceModel;
  const model = make({ horizons: config.TICKCAST_HORIZONS });
  return { normal: model, earnings: model };
}

export async function startPipeline(app: App): Promise<RunningPipeline> {
  const log = (line: string) => console.error(line);
  if (app.config.TICKCAST_TRANSPORT === 'memory') {
    if (app.config.TICKCAST_ROLE !== 'all') {
      throw new ConfigError([
        `TICKCAST_ROLE=${app.config.TICKCAST_ROLE}: the source, worker and api roles need TICKCAST_TRANSPORT=kafka`,
      ]);
    }
    if (app.config.KAFKA_EXACTLY_ONCE !== false) {
      throw new ConfigError([
        'KAFKA_EXACTLY_ONCE (--exactly-once): exactly-once needs TICKCAST_TRANSPORT=kafka (the memory transport has no transactions)',
      ]);
    }
    return runPipeline(app.pipeline, {
      transport: new MemoryTransport(),
      batchSize: app.config.TICKCAST_BATCH_SIZE,
      log,
    });
  }
  // Loaded only for Kafka: the client is an optional native package, the registry client is heavy.
  const [{ createKafkaTransport }, { RegistrySerde }] = await Promise.all([
    import('../engine/kafka-transport.js'),
    import('../engine/registry-serde.js'),
  ]);
  const c = app.config;
  const transport = await createKafkaTransport({
    brokers: c.KAFKA_BROKERS.split(','),
    topicPrefix: c.KAFKA_TOPIC_PREFIX,
    sessionTimeoutMs: c.KAFKA_SESSION_TIMEOUT,
    clientId: `tickcast-${c.TICKCAST_ROLE}-${process.pid}`,
    ...(c.KAFKA_INSTANCE_ID ? { instanceId: c.KAFKA_INSTANCE_ID } : {}),
    log,
  });
  const running = await runPipeline(app.pipeline, {
    transport,
    serde: new RegistrySerde({ url: c.SCHEMA_REGISTRY_URL }),
    batchSize: c.TICKCAST_BATCH_SIZE,
    // API replicas each need every record (their own subscribers): a group of their own.
    groupPrefix: `${c.KAFKA_TOPIC_PREFIX}${app.pipeline.name}${c.TICKCAST_ROLE === 'api' ? `.api-${hostname()}-${process.pid}` : ''}`,
    nodes: nodesFor(app.pipeline, c.TICKCAST_ROLE),
    exactlyOnce: c.KAFKA_EXACTLY_ONCE,
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
  // The runner closes its producer and consumers; the transport's admin connection is ours.
  running.done.then(
    () => transport.close(),
    () => transport.close(),
  );
  return running;
}

/**
 * The nodes a process runs for its role. With several workers exactly one process must run the
 * sources (role `source`, or one `all`): each worker that ran them would produce every quote again.
 * The live fan-out sinks (operator `live`) feed this process's API, so they run where the API
 * serves subscribers: in `all` and `api`, not in `worker`.
 */
export function nodesFor(pipeline: Pipeline, role: Config['TICKCAST_ROLE']): string[] {
  const live = (n: Pipeline['nodes'][number]) => n.operator.kind === 'sink' && n.operator.name === 'live';
  const runs: Record<Config['TICKCAST_ROLE'], (n: Pipeline['nodes'][number]) => boolean> = {
    all: () => true,
    source: (n) => n.operator.kind === 'source',
    worker: (n) => n.operator.kind !== 'source' && !live(n),
    api: live,
  };
  return pipeline.nodes.filter(runs[role]).map((n) => n.id);
}

export async function serve(app: App, running: RunningPipeline): Promise<ApiServer> {
  const c = app.config;
  const model = (m: Model) => ({ name: m.name, version: m.version });
  return startServer({
    running,
    store: app.store,
    hub: app.hub,
    host: c.TICKCAST_HOST,
    port: c.TICKCAST_PORT,
    horizons: c.TICKCAST_HORIZONS,
    serving: { normal: model(app.models.normal), earnings: model(app.models.earnings) },
    calendar: app.calendar,
    // The dashboard, built by `npm run build` (npm start builds it when missing).
    uiDir: fileURLToPath(new URL('../ui/dist', import.meta.url)),
    apiKeys: c.TICKCAST_API_KEYS,
    corsOrigins: c.TICKCAST_CORS_ORIGINS,
    limits: { httpRatePerSecond: c.TICKCAST_API_RATE, httpBurst: 2 * c.TICKCAST_API_RATE },
  });
}

/** Dead letters of every topic, grouped by reason (first 60 characters), most frequent first. */
export function deadLetterReasons(running: RunningPipeline): Array<{ topic: string; reason: string; count: number }> {
  if (!(running.transport instanceof MemoryTransport)) return [];
  const counts = new Map<string, { topic: string; reason: string; count: number }>();
  for (const t of running.pipeline.topics.values()) {
    for (const m of running.transport.read(t.deadLetterTopic)) {
      const letter = schemas.DeadLetter.type.fromBuffer(m.value!) as DeadLetter;
      const reason = `${letter.kind}: ${letter.reason.replace(/^[^:]+:\d+: /, '').replace(/\d+(\.\d+)?/g, 'N')}`;
      const key = `${t.name}|${reason}`;
      const entry = counts.get(key) ?? { topic: t.name, reason, count: 0 };
      entry.count++;
      counts.set(key, entry);
    }
  }
  return [...counts.values()].sort((a, b) => b.count - a.count);
}
