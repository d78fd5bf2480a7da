// The part of @confluentinc/kafka-javascript's KafkaJS-style API that the kafka transport uses,
// typed here rather than imported: the package is an optional dependency (a native build), so
// the engine must type-check and load without it. `loadKafka` imports it only when asked.

export interface KafkaHeaders {
  [key: string]: Buffer | string | Array<Buffer | string> | undefined;
}

export interface KafkaMessageOut {
  key?: string | null;
  value: Buffer | null;
  partition?: number;
  headers?: KafkaHeaders;
  /** Epoch ms as a string. */
  timestamp?: string;
}

export interface KafkaMessageIn {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  offset: string;
  headers?: KafkaHeaders;
}

export interface KafkaBatchPayload {
  batch: { topic: string; partition: number; messages: KafkaMessageIn[] };
  resolveOffset(offset: string): void;
  isStale(): boolean;
}

export interface KafkaProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  sendBatch(batch: { topicMessages: Array<{ topic: string; messages: KafkaMessageOut[] }> }): Promise<unknown>;
  // Transactional producers (a `transactionalId`) only. The client has one transaction at a
  // time per producer: transaction() resolves with the producer itself.
  transaction(): Promise<KafkaProducer>;
  /** Adds a consumer's offsets to the transaction; the consumer gives the group metadata (KIP-447). */
  sendOffsets(args: {
    consumer: KafkaConsumer;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
  }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * The package's librdkafka-style producer (no KafkaJS layer): produce() per message with no
 * promise or opaque per message, and, with `delivery.report.only.error`, delivery reports only
 * for failures. A third of the CPU per message of the KafkaJS producer, measured here.
 */
export interface RdKafkaProducer {
  connect(options: object, cb: (err: Error | null) => void): unknown;
  disconnect(cb: (err?: Error | null) => void): unknown;
  produce(
    topic: string,
    partition: number | null,
    value: Buffer | null,
    key: string | null,
    timestamp: number,
    opaque: undefined,
    headers: Array<Record<string, string>> | undefined,
  ): unknown;
  flush(timeoutMs: number, cb: (err: Error | null) => void): unknown;
  setPollInterval(ms: number): unknown;
  on(event: 'delivery-report', cb: (err: Error | null, report: { topic: string; partition: number }) => void): unknown;
  on(event: 'event.error', cb: (err: Error) => void): unknown;
}

/** A message as the librdkafka-style consumer delivers it. */
export interface RdKafkaMessage {
  topic: string;
  partition: number;
  offset: number;
  key?: Buffer | string | null;
  value: Buffer | null;
  timestamp?: number;
  /** One object per header, of one name each. */
  headers?: Array<Record<string, Buffer | string>>;
}

/**
 * The package's librdkafka-style consumer (no KafkaJS layer): consume(n) hands over up to n
 * messages from librdkafka's own queue in one call; offsets are committed by hand.
 */
export interface RdKafkaConsumer {
  connect(options: object, cb: (err: Error | null) => void): unknown;
  disconnect(cb: (err?: Error | null) => void): unknown;
  subscribe(topics: string[]): unknown;
  /** Waits up to the default consume timeout (only for the first message, when so set). */
  consume(count: number, cb: (err: Error | null, messages: RdKafkaMessage[]) => void): unknown;
  setDefaultConsumeTimeout(timeoutMs: number): void;
  setDefaultIsTimeoutOnlyForFirstMessage(on: boolean): void;
  commitCb(
    offsets: Array<{ topic: string; partition: number; offset: number; metadata?: string | null }>,
    cb: (err: Error | null) => void,
  ): unknown;
  committed(
    partitions: Array<{ topic: string; partition: number }>,
    timeoutMs: number,
    cb: (err: Error | null, offsets: Array<{ topic: string; partition: number; metadata?: string | null }>) => void,
  ): unknown;
  on(
    event: 'rebalance',
    cb: (err: { code?: number }, assignment: Array<{ topic: string; partition: number }>) => void,
  ): unknown;
  on(event: 'event.stats', cb: (event: { message: string }) => void): unknown;
  on(event: 'event.error', cb: (err: Error) => void): unknown;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

export interface KafkaConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(config: {
    eachBatchAutoResolve?: boolean;
    partitionsConsumedConcurrently?: number;
    eachBatch: (payload: KafkaBatchPayload) => Promise<void>;
  }): Promise<void>;
  /** `metadata`: a text stored with the offset (the engine's commit marks); null for none. */
  commitOffsets(offsets: Array<TopicPartitionOffset & { metadata?: string | null }>): Promise<void>;
  /**
   * The group's committed offsets and their metadata, for any partitions (owned or not): one
   * OffsetFetch by this consumer to its group coordinator, like a commit (not an admin request).
   */
  committed(
    partitions: Array<{ topic: string; partition: number }>,
    timeoutMs?: number,
  ): Promise<Array<{ topic: string; partition: number; offset: string; metadata?: string | null }>>;
  pause(topics: Array<{ topic: string; partitions?: number[] }>): unknown;
  resume(topics: Array<{ topic: string; partitions?: number[] }>): void;
  seek(to: TopicPartitionOffset): void;
}

export interface KafkaAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(options?: { timeout?: number }): Promise<string[]>;
  createTopics(options: {
    timeout?: number;
    topics: Array<{
      topic: string;
      numPartitions: number;
      replicationFactor?: number;
      configEntries?: Array<{ name: string; value: string }>;
    }>;
  }): Promise<boolean>;
  deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void>;
  fetchTopicMetadata(options: {
    topics: string[];
    timeout?: number;
  }): Promise<Array<{ name: string; partitions: Array<{ partitionId: number; leader: number }> }>>;
  fetchTopicOffsets(
    topic: string,
    options?: { timeout?: number },
  ): Promise<Array<{ partition: number; offset: string; high: string; low: string }>>;
  // Deliberately no coordinator requests (fetchOffsets, describeGroups): librdkafka can abort the
  // process on them when a connection drops mid-request (librdkafka #4605). Lag comes from the
  // consumers' statistics instead.
}

export interface KafkaLogger {
  info(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  debug(message: string, extra?: object): void;
  namespace(namespace: string, logLevel?: number): KafkaLogger;
  setLogLevel(logLevel: number): void;
}

/** librdkafka properties beside the `kafkaJS` block (e.g. `linger.ms`). */
type RdKafkaProperties = {
  // biome-ignore lint/suspicious/noExplicitAny: librdkafka callbacks (rebalance_cb) take library-typed arguments
  [name: string]: string | number | boolean | object | ((...args: any[]) => unknown) | undefined;
};

export interface KafkaClient {
  producer(
    config: RdKafkaProperties & {
      kafkaJS?: { acks?: number; idempotent?: boolean; transactionalId?: string; transactionTimeout?: number };
    },
  ): KafkaProducer;
  consumer(
    config: RdKafkaProperties & { kafkaJS: { groupId: string; fromBeginning?: boolean; autoCommit?: boolean } },
  ): KafkaConsumer;
  admin(config?: RdKafkaProperties): KafkaAdmin;
  /** A librdkafka-style producer on the same brokers (`bootstrap.servers` and `client.id` are set). */
  rdProducer(config: RdKafkaProperties): RdKafkaProducer;
  /**
   * A librdkafka-style consumer on the same brokers (`bootstrap.servers` and `client.id` are set);
   * `topicConfig`: the default topic properties (`auto.offset.reset`), which it takes apart.
   */
  rdConsumer(config: RdKafkaProperties, topicConfig?: RdKafkaProperties): RdKafkaConsumer;
}

export type KafkaClientFactory = (config: {
  kafkaJS: { brokers: string[]; clientId?: string; logger?: KafkaLogger; logLevel?: number };
  [name: string]: unknown;
}) => KafkaClient;

export const KAFKA_PACKAGE = '@confluentinc/kafka-javascript';

export const KAFKA_INSTALL_HINT = [
  `the kafka transport needs the optional package ${KAFKA_PACKAGE}, which is not installed.`,
  'It builds from source here (no prebuilt binary is reachable). Install it with:',
  '  apt-get install -y libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev',
  `  CKJS_LINKING=dynamic npm install --save-optional ${KAFKA_PACKAGE}`,
].join('\n');

/** Imports the Kafka client, or throws an error that says how to install it. */
export async function loadKafka(packageName = KAFKA_PACKAGE): Promise<KafkaClientFactory> {
  let mod: { KafkaJS?: unknown; default?: unknown };
  try {
    mod = (await import(packageName)) as typeof mod;
  } catch (err) {
    const code = (err as { code?: string }).code;
    // A missing package and a package whose native build is missing say the same thing to a user.
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /\.node\b/.test(String(err))) {
      throw new Error(KAFKA_INSTALL_HINT, { cause: err });
    }
    throw err;
  }
  // CommonJS: the whole module.exports is the default export; named exports may be partial.
  const root = ((mod.default as { KafkaJS?: unknown } | undefined)?.KafkaJS ? mod.default : mod) as
    | {
        KafkaJS?: { Kafka: new (config: unknown) => Omit<KafkaClient, 'rdProducer' | 'rdConsumer'> };
        Producer?: RdKafkaProducerClass;
        KafkaConsumer?: RdKafkaConsumerClass;
      }
    | undefined;
  if (!root?.KafkaJS || !root.Producer || !root.KafkaConsumer) {
    throw new Error(`${packageName} has no KafkaJS API (version too old?)`);
  }
  const { Kafka } = root.KafkaJS;
  const { Producer, KafkaConsumer } = root;
  return (config) => {
    const kafka = new Kafka(config);
    const common = {
      'bootstrap.servers': config.kafkaJS.brokers.join(','),
      'client.id': config.kafkaJS.clientId ?? 'tickcast',
    };
    return {
      producer: (c) => kafka.producer(c),
      consumer: (c) => kafka.consumer(c),
      admin: (c) => kafka.admin(c),
      rdProducer: (c) => new Producer({ ...common, ...c }),
      rdConsumer: (c, topicConfig = {}) => new KafkaConsumer({ ...common, ...c }, topicConfig),
    };
  };
}

type RdKafkaProducerClass = new (config: RdKafkaProperties) => RdKafkaProducer;
type RdKafkaConsumerClass = new (config: RdKafkaProperties, topicConfig: RdKafkaProperties) => RdKafkaConsumer;
