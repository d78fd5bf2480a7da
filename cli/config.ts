// The one typed configuration: environment variables with embedded defaults, validated at
// start-up. A bad value stops start-up with a message naming the variable and what is allowed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { z } from 'zod';
import type { StoreFault } from '../storage/fault-injecting-store.js';

/**
 * A number from `min` to `max`, or the message `allowed` (zod's own, such as "expected number,
 * received NaN", do not say what to give). A blank value is refused: Number(' ') is 0.
 */
const numberFrom = (min: number, max: number, allowed: string, whole = false) => {
  const n = z.coerce.number<string>({ error: allowed });
  return z
    .string()
    .trim()
    .min(1, allowed)
    .pipe((whole ? n.int(allowed) : n).min(min, allowed).max(max, allowed));
};
const wholeNumber = (min: number, max: number, allowed = `a whole number from ${min} to ${max}`) =>
  numberFrom(min, max, allowed, true);
/** One of `values`, said as "a, b or c" (zod's own message lists them as code: "a"|"b"|"c"). */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `${values.slice(0, -1).join(', ')}${values.length > 1 ? ' or ' : ''}${values.at(-1)}` });
/** A URL, such as `example` (zod's own message is only "Invalid URL"). */
const url = (example: string) => z.url({ error: `a URL such as ${example}` });
/** A switch: on/off (or true/false, 1/0), as a boolean. */
const onOff = (byDefault: boolean) =>
  z
    .enum(['on', 'off', 'true', 'false', '1', '0'], { error: 'on or off' })
    .transform((s) => ['on', 'true', '1'].includes(s))
    .default(byDefault);

/** Duration: plain milliseconds or a number with ms, s, m or h (e.g. 250ms, 1s). */
const duration = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h)?$/, 'a duration such as 500ms, 1s or 2m (plain numbers are ms)')
  .transform(parseDuration);

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms'];
  return Number(m[1]) * unit;
}

const FAULT = /^(store-writes)@(\d+(?:\.\d+)?(?:ms|s|m|h)?)\+(\d+(?:\.\d+)?(?:ms|s|m|h)?)$/;
const FAULTS_HELP =
  'for tests and soaks only: comma-separated KIND@START+LENGTH such as store-writes@60s+20s (KIND: store-writes)';

/**
 * TICKCAST_FAULTS (for tests and soaks only): `store-writes@60s+20s` = the time-series store's
 * writes throw from 60 s after the process started, for 20 s; several comma-separated. Throws on
 * anything else.
 */
export function parseFaults(text: string): StoreFault[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((item) => {
      const m = FAULT.exec(item);
      if (!m) throw new Error(`${JSON.stringify(item)}: ${FAULTS_HELP}`);
      const forMs = parseDuration(m[3]!);
      if (forMs <= 0) throw new Error(`${JSON.stringify(item)}: the length must be more than 0`);
      return { kind: m[1] as StoreFault['kind'], atMs: parseDuration(m[2]!), forMs };
    });
}

const faults = z.string().transform((text, ctx): StoreFault[] => {
  try {
    return parseFaults(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    return z.NEVER;
  }
});

const horizons = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'comma-separated trading-day horizons such as 1,5,21')
  .transform((s) => s.split(',').map(Number))
  .refine((h) => h.every((x) => x >= 1 && x <= 252), 'horizons between 1 and 252 trading days')
  .refine((h) => new Set(h).size === h.length, 'each horizon once');

/** Comma-separated list; empty = none. */
const list = (what: string, item: z.ZodString) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    )
    .pipe(z.array(item, { error: what }));

export const configSchema = z.object({
  TICKCAST_TRANSPORT: oneOf(['memory', 'kafka']).default('memory'),
  /**
   * What this process runs: all (default), source (market data → quotes only), worker (the
   * transforms and store sinks; N workers share the partitions through Kafka consumer groups)
   * or api (the live fan-out sinks, each replica reading every partition, and the API).
   */
  TICKCAST_ROLE: oneOf(['all', 'source', 'worker', 'api']).default('all'),
  /** Which pipeline runs: a name (`tickcast pipelines`) or the path of a module exporting `pipeline`. */
  TICKCAST_PIPELINE: z.string().min(1).default('price-prediction'),
  /** replay (the bundled CSVs), yahoo (live Yahoo Finance quotes, history, news, earnings) or simulator (SYNTHETIC). */
  TICKCAST_SOURCE: oneOf(['replay', 'yahoo', 'simulator']).default('replay'),
  /** yahoo: the universe, a comma-separated list of tickers or a file of them (cli/universe.ts). */
  TICKCAST_SYMBOLS: z.string().min(1).default('data/universe/sp500-constituents.csv'),
  /** yahoo: the quote cycle while the market is open; default derived from the universe and YAHOO_RATE. */
  TICKCAST_POLL: duration.refine((ms) => ms >= 1000 && ms <= 86_400_000, 'between 1s and 24h').optional(),
  /** yahoo: daily history on start: a day (YYYY-MM-DD), a number of days back (400d), or none. */
  TICKCAST_BACKFILL_FROM: z
    .string()
    .regex(
      /^(none|\d{1,5}d|\d{4}-\d{2}-\d{2})$/,
      'a day such as 2024-01-02, a number of days back such as 400d, or none',
    )
    .refine((s) => {
      if (!/^\d{4}/.test(s)) return true;
      const t = Date.parse(`${s}T00:00:00Z`);
      return !Number.isNaN(t) && new Date(t).toISOString().startsWith(s);
    }, 'not a calendar day')
    .default('400d'),
  /** yahoo: minute bars (interval 1m) from the live quotes beside the daily ones the models read. */
  TICKCAST_MINUTE_BARS: onOff(false),
  /** Online interval calibration from the live scores (models/conformal.ts); off: the models' own intervals. */
  TICKCAST_CALIBRATION: onOff(true),
  /** yahoo: requests a minute to Yahoo, shared by every call (0: no limit). */
  YAHOO_RATE: numberFrom(0, 100_000, 'requests a minute from 0 (no limit) to 100000').default(100),
  /** yahoo: requests in flight at once. */
  YAHOO_CONCURRENCY: wholeNumber(1, 64).default(4),
  /** yahoo: an origin standing in for Yahoo (a proxy, or the fixture server in tests); unset: Yahoo. */
  YAHOO_BASE_URL: url('http://127.0.0.1:8080').optional(),
  /** duckdb: the embedded file (TICKCAST_DB); questdb: a QuestDB server (QUESTDB_URL, QUESTDB_PG). */
  TICKCAST_STORE: oneOf(['duckdb', 'questdb']).default('duckdb'),
  TICKCAST_DATA_DIR: z.string().min(1).default('data/sp500-daily'),
  /** 'none' runs without an earnings calendar (every day is a normal day). */
  TICKCAST_EARNINGS_FILE: z.string().default('data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv'),
  TICKCAST_DB: z.string().min(1).default('data/tickcast.duckdb'),
  TICKCAST_PARTITIONS: wholeNumber(1, 1024).default(4),
  TICKCAST_BATCH_SIZE: wholeNumber(1, 100_000).default(20_000),
  TICKCAST_PACE: duration.default(0),
  TICKCAST_HORIZONS: horizons.default([1, 5, 21]),
  TICKCAST_MODEL: oneOf(['shipped', 'persistence', 'drift']).default('shipped'),
  TICKCAST_SIM_SYMBOLS: wholeNumber(1, 100_000).default(500),
  /** Ticks (trading days) the simulator produces before it ends. */
  TICKCAST_SIM_TICKS: wholeNumber(1, 100_000).default(250),
  /** 0: any free port (printed at start-up), e.g. for several workers on one host. */
  TICKCAST_PORT: wholeNumber(0, 65_535, 'a port number: 0 (any free one) to 65535').default(4000),
  TICKCAST_HOST: z.string().min(1).default('127.0.0.1'),
  /** API keys for /graphql (header x-api-key, or connection_init { apiKey }); none = open. */
  TICKCAST_API_KEYS: list(
    'API keys of 16+ characters: letters, digits, - and _',
    z.string().regex(/^[A-Za-z0-9_-]{16,}$/, 'API keys of 16+ characters: letters, digits, - and _'),
  ).default([]),
  /** Origins allowed to call /graphql from a browser; none = same origin only; * = any. */
  TICKCAST_CORS_ORIGINS: list(
    'origins such as https://dash.example.com, or *',
    z.string().regex(/^(\*|https?:\/\/[^\s/,]+)$/, 'origins such as https://dash.example.com, or *'),
  ).default([]),
  /** /graphql requests per second per client IP. */
  TICKCAST_API_RATE: wholeNumber(1, 1_000_000).default(2000),
  /** Comma-separated host:port list, used when TICKCAST_TRANSPORT=kafka. */
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,:\s]+:\d+(,[^,:\s]+:\d+)*$/, 'comma-separated host:port pairs such as localhost:9092')
    .default('localhost:9092'),
  /** Prepended to topic and consumer-group names: several deployments can share a cluster. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-"')
    .default(''),
  /** How long the group waits for a silent worker before its partitions move to the others. */
  KAFKA_SESSION_TIMEOUT: duration.default(10_000),
  /**
   * At-least-once: how often each node writes its changelog and commits its offsets (outputs go
   * at once); a key changed within it is written once. 0 commits every batch. Exactly-once
   * transforms commit every batch, in their transaction.
   */
  KAFKA_COMMIT_INTERVAL: duration.refine((ms) => ms <= 60_000, 'at most 60s').default(1000),
  /**
   * The consumer of at-least-once nodes: kafkajs (the client's KafkaJS-style one) or rdkafka
   * (librdkafka's consume(n): less CPU per message, opt-in; engine/README.md). Exactly-once
   * transforms always use kafkajs.
   */
  KAFKA_CONSUMER: oneOf(['kafkajs', 'rdkafka']).default('kafkajs'),
  /** With Kafka: how often each process publishes its per-node metrics to `tickcast.metrics`. */
  TICKCAST_METRICS_INTERVAL: duration.default(2000),
  /**
   * Exactly-once for the Kafka→Kafka transforms (outputs, changelog and offsets in one
   * transaction): off, on (every transform) or a comma-separated list of node ids.
   */
  KAFKA_EXACTLY_ONCE: z
    .string()
    .regex(/^[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*$/, 'on, off, or comma-separated node ids such as bars,features')
    .transform((s): boolean | string[] => {
      if (['on', 'true', '1'].includes(s)) return true;
      if (['off', 'false', '0'].includes(s)) return false;
      return s.split(',');
    })
    .default(false),
  /**
   * This process's name in transactional ids (exactly-once); default host name and pid. Distinct
   * per running worker; the same when one restarts lets it abort its predecessor's open transaction.
   */
  KAFKA_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-"')
    .default(''),
  SCHEMA_REGISTRY_URL: url('http://localhost:8081').default('http://localhost:8081'),
  /** QuestDB's HTTP port: ILP writes. */
  QUESTDB_URL: url('http://localhost:9000').default('http://localhost:9000'),
  /** QuestDB's PostgreSQL wire port: reads. */
  QUESTDB_PG: z
    .string()
    .regex(
      /^postgres(ql)?:\/\/\S+$/,
      'a postgres:// connection string such as postgres://admin:quest@localhost:8812/qdb',
    )
    .default('postgres://admin:quest@localhost:8812/qdb'),
  /** Prepended to the QuestDB table names (bars, predictions). */
  QUESTDB_TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_]*$/, 'letters, digits and "_"')
    .default(''),
  /**
   * Operator chaining (engine/chains.ts): consecutive transforms keyed alike run as one task and
   * hand records on in-process; off: every hop goes through the transport (for comparison).
   */
  TICKCAST_CHAINING: onOff(true),
  /** Explanations: news and fact sheets embedded into a vector store, explained on request. */
  TICKCAST_EXPLAIN: onOff(true),
  /** Folder of headline CSVs (Finviz, Reuters, Benzinga formats) replayed into the news topic, or none. */
  TICKCAST_NEWS: z.string().min(1).default('data/news'),
  /** Set: retrieval runs on this Chroma server; unset: in the embedded database (TICKCAST_DB). */
  CHROMA_URL: url('http://localhost:8000').optional(),
  /** The Chroma collection (one per deployment; it records its embedder and refuses another's vectors). */
  CHROMA_COLLECTION: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$/,
      '3 to 63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit',
    )
    .default('tickcast-documents'),
  /** Set: explanations are written by OLLAMA_MODEL on this Ollama server (and it can embed, TICKCAST_EMBEDDER). */
  OLLAMA_HOST: url('http://localhost:11434').optional(),
  OLLAMA_MODEL: z
    .string()
    .regex(/^[A-Za-z0-9._:/-]+$/, 'an Ollama model name such as llama3.2:3b')
    .default('llama3.2:3b'),
  /** template or ollama; default ollama when OLLAMA_HOST is set, else template. */
  TICKCAST_EXPLAINER: oneOf(['template', 'ollama']).optional(),
  /**
   * Least cosine similarity of a market-wide headline to the market query, cited when a symbol has
   * no headlines of its own (explain/retrieval.ts); tuned for the embedded MiniLM embedder.
   */
  TICKCAST_MARKET_MIN_SIMILARITY: numberFrom(-1, 1, 'a number from -1 to 1').default(0.3),
  /** How long the Ollama explainer may take to write its first words before the template takes over. */
  OLLAMA_TIMEOUT: duration.default(20_000),
  /**
   * What turns headlines and fact sheets into vectors: minilm (all-MiniLM-L6-v2 in-process, its
   * weights in the repository) or ollama (OLLAMA_EMBED_MODEL on the OLLAMA_HOST server).
   */
  TICKCAST_EMBEDDER: oneOf(['minilm', 'ollama']).default('minilm'),
  /** The Ollama embedding model, when TICKCAST_EMBEDDER=ollama (pulled on the server first). */
  OLLAMA_EMBED_MODEL: z
    .string()
    .regex(/^[A-Za-z0-9._:/-]+$/, 'an Ollama model name such as nomic-embed-text or mxbai-embed-large:335m')
    .default('nomic-embed-text'),
  /**
   * FOR TESTS AND SOAKS ONLY: faults injected on a schedule (`npm run soak`), e.g.
   * `store-writes@60s+20s`: store writes throw from 60 s after start-up for 20 s (parseFaults).
   */
  TICKCAST_FAULTS: faults.default([]),
  /** The diagnostic log (engine/log.ts): `text` for people, `json` (pino objects) for collectors. */
  TICKCAST_LOG_FORMAT: oneOf(['text', 'json']).default('text'),
  TICKCAST_LOG_LEVEL: oneOf(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema>;

const DAY_MS = 86_400_000;

/** TICKCAST_BACKFILL_FROM as epoch ms (00:00 UTC of the day), or undefined for none. */
export function backfillFrom(value: string, now = Date.now()): number | undefined {
  if (value === 'none') return undefined;
  const days = /^(\d+)d$/.exec(value);
  if (days) return Math.floor(now / DAY_MS) * DAY_MS - Number(days[1]) * DAY_MS;
  return Date.parse(`${value}T00:00:00Z`);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`tickcast: bad configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Setting = keyof Config;

/** The API server's settings: a command that neither serves nor asks a server has no use for them. */
export const API_SETTINGS = [
  'TICKCAST_PORT',
  'TICKCAST_HOST',
  'TICKCAST_API_KEYS',
  'TICKCAST_CORS_ORIGINS',
  'TICKCAST_API_RATE',
] as const satisfies readonly Setting[];
export type ApiSetting = (typeof API_SETTINGS)[number];

/** Every setting but `left`. */
export function settingsExcept<const L extends Setting>(...left: L[]): Exclude<Setting, L>[] {
  return (Object.keys(configSchema.shape) as Setting[]).filter((k): k is Exclude<Setting, L> => !left.includes(k as L));
}

/**
 * `config` with the API's settings at their defaults, for what builds a tickcast that serves
 * nothing (`run --until-end`, `backfill`): they were not read, so a bad one did not stop it.
 */
export function apiAtDefaults(config: Omit<Config, ApiSetting>): Config {
  return { ...readConfig({}).config, ...config };
}

/**
 * Every setting from `env`, each bad one at its default, beside `problems`: one line per bad
 * value naming the variable, what was given and what is allowed.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): {
  config: Config;
  problems: Partial<Record<Setting, string>>;
} {
  const config: { [k: string]: unknown } = {};
  const problems: Partial<Record<Setting, string>> = {};
  // Each setting on its own (no check spans two), so that one bad value hides none of the others.
  for (const [key, schema] of Object.entries(configSchema.shape)) {
    const value = env[key];
    const parsed = value === undefined || value === '' ? schema.safeParse(undefined) : schema.safeParse(value);
    if (parsed.success) {
      config[key] = parsed.data;
      continue;
    }
    // One line per variable: a value can fail several checks (a number too big and not whole).
    const why = [...new Set(parsed.error.issues.map((i) => i.message))].join('; ');
    problems[key as Setting] = `${key}=${JSON.stringify(value)}: ${why}`;
    config[key] = schema.parse(undefined);
  }
  return { config: config as Config, problems };
}

/**
 * Reads the config from `env` (process.env by default): the `settings` a command uses (every one
 * by default; the others are neither checked nor returned), then `also` (what
 * else the command needs: its options, folders, settings that go together). Throws one
 * ConfigError naming every problem: `also` runs even beside bad values (at their defaults
 * meanwhile), so that a user fixes everything in one go, not one message after another.
 */
export function loadConfig<K extends Setting = Setting>(
  env: NodeJS.ProcessEnv = process.env,
  opts: { settings?: readonly K[]; also?: (config: NoInfer<Pick<Config, K>>) => string[] } = {},
): Pick<Config, K> {
  const { config: read, problems } = readConfig(env);
  const used = opts.settings ?? (Object.keys(configSchema.shape) as K[]);
  const config = Object.fromEntries(used.map((k) => [k, read[k]])) as Pick<Config, K>;
  const all = [...used.flatMap((k) => problems[k] ?? []), ...(opts.also?.(config) ?? [])];
  if (all.length > 0) throw new ConfigError(all);
  return config;
}

/** What is wrong with a folder of per-ticker daily CSVs (`label` names the setting or option). */
export function dataFolderProblems(label: string, dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    return [`${label}: no such folder (point it at per-ticker daily CSVs)`];
  if (!readdirSync(dir).some((f) => f.toLowerCase().endsWith('.csv'))) return [`${label}: holds no .csv files`];
  return [];
}

/**
 * What is wrong with a folder of headline CSVs (`none` is fine: no headlines): missing, or
 * holding no .csv file (the news source would stop the run mid-replay).
 */
export function newsFolderProblems(label: string, dir: string): string[] {
  if (dir === 'none') return [];
  const fix = '(point it at headline CSVs, or set it to none)';
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [`${label}: no such folder ${fix}`];
  if (!readdirSync(dir).some((f) => f.toLowerCase().endsWith('.csv'))) return [`${label}: holds no .csv files ${fix}`];
  return [];
}

/** What is wrong with an earnings dates file (`none` is fine: no dates). */
export function earningsFileProblems(label: string, file: string): string[] {
  return file !== 'none' && !existsSync(file) ? [`${label}: no such file (or set it to none)`] : [];
}

/** The --data and --earnings options of the offline commands (or the settings they default to). */
export function dataOptionProblems(
  config: Pick<Config, 'TICKCAST_DATA_DIR' | 'TICKCAST_EARNINGS_FILE'>,
  args: { data?: string; earnings?: string },
): string[] {
  const dir = args.data ?? config.TICKCAST_DATA_DIR;
  const earnings = args.earnings ?? config.TICKCAST_EARNINGS_FILE;
  const label = (option: string, setting: string, value: string, given: boolean) =>
    given ? `${option} ${JSON.stringify(value)}` : `${setting}=${JSON.stringify(value)}`;
  return [
    ...dataFolderProblems(label('--data', 'TICKCAST_DATA_DIR', dir, args.data !== undefined), dir),
    ...earningsFileProblems(
      label('--earnings', 'TICKCAST_EARNINGS_FILE', earnings, args.earnings !== undefined),
      earnings,
    ),
  ];
}
