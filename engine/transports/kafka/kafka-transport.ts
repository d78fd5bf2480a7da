// The Kafka transport: topics on real brokers through @confluentinc/kafka-javascript (its
// KafkaJS-style API), loaded only when this transport is created. Producers wait for every
// in-sync replica (acks=all) and are idempotent; each node is one consumer group that commits
// by hand after its outputs are acknowledged (the runner's order), so delivery is at-least-once.
// Nodes may opt into exactly-once instead: a transactional producer per node commits the outputs,
// the changelog and the input offsets in one transaction (transactionalProducer).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pRetry from 'p-retry';
import {
  type Consumer,
  type IncomingMessage,
  type OutgoingMessage,
  type Producer,
  type TopicSpec,
  type Transaction,
  TransactionError,
  type Transport,
} from '../../transport.js';
import {
  type KafkaAdmin,
  type KafkaClient,
  type KafkaConsumer,
  type KafkaLogger,
  type KafkaMessageOut,
  type KafkaProducer,
  loadKafka,
} from './kafka-client.js';
import { KafkaPullConsumer, type LibrdkafkaStats, type PullConsumer, toIncoming } from './kafka-consumer.js';
import { RdKafkaPullConsumer } from './rdkafka-consumer.js';

/** librdkafka error codes (rdkafka.h): the local queue is full; a flush did not finish in time. */
const QUEUE_FULL = -184;
const TIMED_OUT = -185;
/** One flush's wait; send() flushes again until librdkafka delivers or fails every message. */
const FLUSH_TIMEOUT_MS = 10_000;
/** KafkaTransportOptions.lingerMs. */
const DEFAULT_LINGER_MS = 20;

export interface KafkaTransportOptions {
  /** host:port of one or more brokers. */
  brokers: readonly string[];
  clientId?: string;
  /** Attempts to reach a broker at start-up before giving up (default 6), backing off exponentially. */
  connectAttempts?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Per-request timeout of admin calls, default 5,000 ms. */
  requestTimeoutMs?: number;
  /** Replication factor of created topics, default 1 (a single broker). */
  replicationFactor?: number;
  /**
   * retention.ms of created data topics, default -1 (keep): records carry event time, and a
   * replay of past days would otherwise be deleted as soon as its segment closes.
   */
  retentionMs?: number;
  /**
   * Prepended to every topic name on the brokers (not in the pipeline): several pipelines or
   * test runs can share a cluster without seeing each other's topics. Default none.
   */
  topicPrefix?: string;
  /**
   * linger.ms of the at-least-once producer, default 20. Its every send ends in a flush, which
   * sends at once whatever lingers (librdkafka ≥ 1.9), so the linger adds no latency to a hop: it
   * spares librdkafka a wake-up and a small request per message while a batch is queued. (The
   * transactional producer lingers 0.)
   */
  lingerMs?: number;
  /** Messages a consumer buffers before it pauses fetching, default 50,000. */
  consumerBuffer?: number;
  /**
   * The consumer of at-least-once nodes: `kafkajs` (default), the client's KafkaJS-style consumer,
   * or `rdkafka`, its librdkafka-style consume(n) (RdKafkaPullConsumer): 0.4× the CPU per message,
   * measured, but opt-in until a flaky end-of-run difference in the services suite is understood
   * (engine/README.md). Exactly-once nodes always take the KafkaJS-style one.
   */
  consumer?: 'kafkajs' | 'rdkafka';
  /**
   * session.timeout.ms of consumers, default 10,000: how long the group waits for a worker that
   * stopped answering (killed, partitioned away) before giving its partitions to the others.
   */
  sessionTimeoutMs?: number;
  /**
   * This process's name in transactional ids (`<group>-<instanceId>`), default `<host>-<pid>`.
   * It must differ between workers that run at the same time (the same id fences the other) and
   * should stay the same when one restarts (the new instance then aborts the old one's open
   * transaction at once instead of after `transactionTimeoutMs`): the default does in a container
   * (same host name and pid after a restart), elsewhere set it.
   */
  instanceId?: string;
  /**
   * transaction.timeout.ms, default 60,000: how long the broker keeps the open transaction of a
   * producer that died and did not come back under the same id (read_committed readers of its
   * partitions wait until then). A transaction that takes longer is aborted by the broker and its
   * producer fenced: at 15 s, a 5,000-symbol step's sends on 2 loaded cores outlived it.
   */
  transactionTimeoutMs?: number;
  log?: (line: string) => void;
  /** For tests: the package to load instead of @confluentinc/kafka-javascript. */
  packageName?: string;
}

/** Loads the client, reaches a broker (with retries) and returns the transport. */
export async function createKafkaTransport(opts: KafkaTransportOptions): Promise<KafkaTransport> {
  const factory = await loadKafka(opts.packageName);
  const log = opts.log ?? ((line: string) => console.error(line));
  const client = factory({
    kafkaJS: { brokers: [...opts.brokers], clientId: opts.clientId ?? 'tickcast', logger: quietLogger(log) },
  });
  const transport = new KafkaTransport(client, opts, log);
  await transport.connect();
  return transport;
}

export class KafkaTransport implements Transport {
  readonly kind = 'kafka';
  readonly inProcess = false;
  private admin: KafkaAdmin;
  private readonly requestTimeoutMs: number;
  private readonly partitionCounts = new Map<string, number>();
  private readonly open = new Set<{ disconnect(): Promise<void> }>();
  private readonly prefix: string;

  constructor(
    private readonly client: KafkaClient,
    private readonly opts: KafkaTransportOptions,
    private readonly log: (line: string) => void,
  ) {
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5000;
    this.prefix = opts.topicPrefix ?? '';
    this.admin = client.admin();
  }

  /** Connects the admin client and checks that a broker answers, retrying with backoff. */
  async connect(): Promise<void> {
    const attempts = this.opts.connectAttempts ?? 6;
    const brokers = this.opts.brokers.join(',');
    try {
      await pRetry(
        async () => {
          try {
            await this.admin.connect();
            // connect() alone succeeds without a broker: a metadata request proves one answers.
            await this.admin.listTopics({ timeout: this.requestTimeoutMs });
          } catch (err) {
            // A client whose connect failed cannot connect again: the next attempt needs a new one.
            await this.admin.disconnect().catch(() => {});
            this.admin = this.client.admin();
            throw err;
          }
        },
        {
          retries: attempts - 1,
          minTimeout: this.opts.retryMinMs ?? 500,
          maxTimeout: this.opts.retryMaxMs ?? 8000,
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            if (retriesLeft > 0) {
              this.log(
                `kafka: broker ${brokers} not reachable (attempt ${attemptNumber}/${attempts}): ${error.message}`,
              );
            }
          },
        },
      );
    } catch (err) {
      await this.admin.disconnect().catch(() => {});
      throw new Error(
        `kafka: no broker answered at ${brokers} after ${attempts} attempts (${errorText(err)}). ` +
          'Start Kafka (npm run services:up) or set KAFKA_BROKERS.',
        { cause: err },
      );
    }
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    const existing = new Set(await this.admin.listTopics({ timeout: this.requestTimeoutMs }));
    const missing = specs.filter((s) => !existing.has(this.prefix + s.name));
    if (missing.length > 0) {
      try {
        await this.admin.createTopics({
          timeout: this.requestTimeoutMs,
          topics: missing.map((s) => ({
            topic: this.prefix + s.name,
            numPartitions: s.partitions,
            replicationFactor: this.opts.replicationFactor ?? 1,
            configEntries: this.topicConfig(s),
          })),
        });
      } catch (err) {
        // Workers starting together race to create the topics: someone else's is as good.
        const now = new Set(await this.admin.listTopics({ timeout: this.requestTimeoutMs }));
        if (!missing.every((s) => now.has(this.prefix + s.name))) throw err;
      }
      await this.untilLeaders(missing);
    }
    const present = specs.filter((s) => existing.has(this.prefix + s.name));
    if (present.length > 0) {
      const meta = await this.admin.fetchTopicMetadata({
        topics: present.map((s) => this.prefix + s.name),
        timeout: this.requestTimeoutMs,
      });
      for (const s of present) {
        const n = meta.find((m) => m.name === this.prefix + s.name)?.partitions.length;
        if (n !== s.partitions) {
          throw new Error(`topic ${s.name} exists with ${n} partitions, asked for ${s.partitions}`);
        }
      }
    }
    for (const s of specs) this.partitionCounts.set(s.name, s.partitions);
  }

  /**
   * Waits until new topics have a leader for every partition: a consumer that subscribes
   * earlier sees "unknown topic" and backs off for seconds, a producer waits for metadata.
   */
  private async untilLeaders(specs: readonly TopicSpec[]): Promise<void> {
    const until = Date.now() + 30_000;
    for (;;) {
      const meta = await this.admin
        .fetchTopicMetadata({ topics: specs.map((s) => this.prefix + s.name), timeout: this.requestTimeoutMs })
        .catch(() => []);
      const ready = specs.every((s) => {
        const m = meta.find((t) => t.name === this.prefix + s.name);
        return m !== undefined && m.partitions.length === s.partitions && m.partitions.every((p) => p.leader >= 0);
      });
      if (ready) return;
      if (Date.now() > until)
        throw new Error(`kafka: topics ${specs.map((s) => s.name).join(', ')} have no leader after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private topicConfig(s: TopicSpec): Array<{ name: string; value: string }> {
    return [
      { name: 'cleanup.policy', value: s.compacted ? 'compact' : 'delete' },
      ...(s.compacted ? [] : [{ name: 'retention.ms', value: String(this.opts.retentionMs ?? -1) }]),
      // Records carry event time, and Kafka rolls a segment per segment.ms *of record time*: a
      // replay of years would open a segment per week and exhaust the broker's file handles.
      { name: 'segment.ms', value: String(100 * 365 * 86_400_000) },
      // Control records carry far-future event times (end of stream); Kafka 4 refuses timestamps
      // more than an hour ahead unless told otherwise.
      { name: 'message.timestamp.after.max.ms', value: '9223372036854775807' },
    ];
  }

  partitions(topic: string): number {
    const n = this.partitionCounts.get(topic);
    if (n === undefined) throw new Error(`unknown topic ${topic} (not passed to ensureTopics)`);
    return n;
  }

  /** What every producer here shares, at-least-once or transactional. */
  private producerBase() {
    return {
      'compression.type': 'lz4',
      // The Java client's partitioner, so other Kafka clients agree on where a symbol lives.
      partitioner: 'murmur2_random',
    };
  }

  async producer(): Promise<Producer> {
    const producer = this.client.rdProducer({
      ...this.producerBase(),
      'linger.ms': this.opts.lingerMs ?? DEFAULT_LINGER_MS,
      'enable.idempotence': true,
      acks: -1,
      // Success is what flush() returning means; only failures are reported one by one.
      dr_cb: true,
      'delivery.report.only.error': true,
    });
    let failed = 0;
    let lastFailure: Error | null = null;
    producer.on('delivery-report', (err) => {
      if (!err) return;
      failed++;
      lastFailure = err;
    });
    const quiet = quietLogger(this.log);
    producer.on('event.error', (err) => quiet.error(errorText(err)));
    await new Promise<void>((resolve, reject) =>
      producer.connect({}, (err) => (err ? reject(new Error(`kafka producer: ${errorText(err)}`)) : resolve())),
    );
    // Delivery reports (failures) are served by this poll and by flush.
    producer.setPollInterval(100);
    const flushOnce = () =>
      new Promise<void>((resolve, reject) =>
        producer.flush(FLUSH_TIMEOUT_MS, (err) => (err ? reject(err) : resolve())),
      );
    /** Until every queued message is delivered or has failed (librdkafka gives up after message.timeout.ms). */
    const flush = async () => {
      for (;;) {
        try {
          return await flushOnce();
        } catch (err) {
          if ((err as { code?: number }).code !== TIMED_OUT) throw err;
        }
      }
    };
    const handle = { disconnect: () => new Promise<void>((resolve) => producer.disconnect(() => resolve())) };
    this.open.add(handle);
    return {
      /** Resolves when every message is acknowledged by the broker (acks=all); rejects if any failed. */
      send: async (messages) => {
        if (messages.length === 0) return;
        const failedBefore = failed;
        // The client takes one header per object. A batch's messages share one headers object
        // (node-task), so converting the last one seen converts each once.
        let lastHeaders: OutgoingMessage['headers'];
        let converted: Array<Record<string, string>> | undefined;
        for (const m of messages) {
          if (m.headers !== lastHeaders) {
            lastHeaders = m.headers;
            converted = m.headers ? Object.entries(m.headers).map(([name, value]) => ({ [name]: value })) : undefined;
          }
          const headers = converted;
          // Without an explicit partition the key decides; control records name every partition.
          const partition = m.partition ?? null;
          for (;;) {
            try {
              producer.produce(this.prefix + m.topic, partition, m.value, m.key, m.timestamp, undefined, headers);
              break;
            } catch (err) {
              // The client's local queue is full: let it drain to the broker, then go on.
              if ((err as { code?: number }).code !== QUEUE_FULL) throw err;
              await flush();
            }
          }
        }
        await flush();
        // A failure's report is served inside the flush, but reaches this thread through its own
        // event-loop callback, which can run after the flush's: the check phase comes after both.
        await new Promise((resolve) => setImmediate(resolve));
        if (failed > failedBefore) {
          throw new Error(`kafka: ${failed - failedBefore} messages not delivered: ${errorText(lastFailure)}`, {
            cause: lastFailure,
          });
        }
      },
      close: async () => {
        this.open.delete(handle);
        await flushOnce().catch(() => {});
        await handle.disconnect();
      },
    };
  }

  /**
   * A transactional producer for one node (exactly-once): transactional.id `<id>-<instanceId>`.
   * Connecting fences any older producer with the same id and aborts its open transaction, so
   * a restarted worker never lets a zombie's half-written batch become visible. Zombies after a
   * rebalance are fenced by the group instead: sendOffsets carries the consumer's generation.
   */
  async transactionalProducer(id: string): Promise<Producer> {
    const transactionalId = `${id}-${this.opts.instanceId ?? `${hostname()}-${process.pid}`}`;
    const producer: KafkaProducer = this.client.producer({
      ...this.producerBase(),
      // Its sends wait for their delivery reports, not a flush: a linger would delay each.
      'linger.ms': 0,
      kafkaJS: {
        acks: -1,
        idempotent: true,
        transactionalId,
        transactionTimeout: this.opts.transactionTimeoutMs ?? 60_000,
      },
    });
    try {
      await producer.connect(); // initTransactions: fences the previous instance
    } catch (err) {
      throw new TransactionError(
        `kafka: cannot start transactional producer ${transactionalId}: ${errorText(err)}`,
        true,
        {
          cause: err,
        },
      );
    }
    this.open.add(producer);
    const prefix = this.prefix;
    const failed = (what: string, err: unknown) =>
      new TransactionError(
        isFenced(err)
          ? `kafka: transactional id ${transactionalId} was fenced: another process uses it (give each worker its own instance id, KAFKA_INSTANCE_ID), or a transaction outlived transaction.timeout.ms (${this.opts.transactionTimeoutMs ?? 60_000} ms)`
          : `kafka: transaction of ${transactionalId} failed to ${what}: ${errorText(err)}`,
        isFatal(err),
        { cause: err },
      );
    return {
      send: async () => {
        throw new Error(`kafka: ${transactionalId} is transactional: send through transaction()`);
      },
      transaction: async (): Promise<Transaction> => {
        try {
          await producer.transaction();
        } catch (err) {
          throw failed('begin', err);
        }
        return {
          send: async (messages) => {
            if (messages.length === 0) return;
            try {
              await producer.sendBatch({ topicMessages: groupByTopic(messages, prefix) });
            } catch (err) {
              throw failed('send', err);
            }
          },
          commit: async (consumer, marks) => {
            if (!(consumer instanceof KafkaPullConsumer)) {
              throw new TransactionError('kafka: a transaction commits the offsets of a Kafka consumer only', true);
            }
            const topics = consumer.transactionOffsets();
            try {
              if (topics.length > 0) await producer.sendOffsets({ consumer: consumer.client, topics });
              await producer.commit();
            } catch (err) {
              throw failed('commit', err);
            }
            consumer.transactionCommitted(marks);
          },
          abort: async () => {
            try {
              await producer.abort();
            } catch (err) {
              // A producer that cannot abort cannot go on (typically: fenced, and a send failed first).
              throw new TransactionError(failed('abort', err).message, true, { cause: err });
            }
          },
        };
      },
      close: async () => {
        this.open.delete(producer);
        await producer.disconnect();
      },
    };
  }

  /**
   * Exactly-once nodes go through the KafkaJS-style consumer, whose group metadata the
   * transaction's sendOffsets takes (KafkaPullConsumer); at-least-once ones too, unless
   * `consumer: 'rdkafka'` picks librdkafka's consume(n) (RdKafkaPullConsumer).
   */
  async consumer(opts: { group: string; topics: readonly string[]; transactional?: boolean }): Promise<Consumer> {
    const sessionTimeoutMs = this.opts.sessionTimeoutMs ?? 10_000;
    const common = {
      // librdkafka's default, said out loud: records of aborted (exactly-once) transactions are never read.
      'isolation.level': 'read_committed',
      'fetch.wait.max.ms': 100,
      'session.timeout.ms': sessionTimeoutMs,
      'heartbeat.interval.ms': Math.max(100, Math.floor(sessionTimeoutMs / 5)),
      // Lag comes from these statistics (see PullConsumer.onStats).
      'statistics.interval.ms': 1000,
    };
    const pullOpts = {
      group: opts.group,
      topics: opts.topics,
      prefix: this.prefix,
      bufferSize: this.opts.consumerBuffer ?? 50_000,
      requestTimeoutMs: this.requestTimeoutMs,
      log: this.log,
    };
    let pull: PullConsumer;
    if (opts.transactional || (this.opts.consumer ?? 'kafkajs') === 'kafkajs') {
      let kafkaJs: KafkaPullConsumer | null = null;
      const consumer: KafkaConsumer = this.client.consumer({
        ...common,
        kafkaJS: { groupId: opts.group, fromBeginning: true, autoCommit: false },
        'js.consumer.max.batch.size': 10_000,
        rebalance_cb: (err: { code?: number }, assignment: Array<{ topic: string; partition: number }>) => {
          kafkaJs?.onRebalance(err, assignment);
        },
        stats_cb: (event: { message: string }) => kafkaJs?.onStats(event),
      });
      kafkaJs = new KafkaPullConsumer(consumer, pullOpts);
      await kafkaJs.start();
      pull = kafkaJs;
    } else {
      let rd: RdKafkaPullConsumer | null = null;
      const consumer = this.client.rdConsumer(
        {
          ...common,
          'group.id': opts.group,
          'enable.auto.commit': false,
          'enable.auto.offset.store': false,
          // A node stuck on a slow store or a long changelog restore does not poll for a while; it
          // must not be taken for dead meanwhile (heartbeats go on in librdkafka's own thread).
          'max.poll.interval.ms': 600_000,
          // The client assigns and revokes; PullConsumer hears of it from the 'rebalance' event.
          rebalance_cb: true,
          // What wakes a poll waiting for messages (the KafkaJS layer uses it the same way).
          queue_non_empty_cb: () => rd?.onQueueNonEmpty(),
        },
        { 'auto.offset.reset': 'earliest' },
      );
      const pulled = new RdKafkaPullConsumer(consumer, pullOpts);
      rd = pulled;
      consumer.on('rebalance', (err, assignment) => pulled.onRebalance(err, assignment));
      consumer.on('event.stats', (event) => pulled.onStats(event));
      const quiet = quietLogger(this.log);
      consumer.on('event.error', (err) => quiet.error(errorText(err)));
      await pulled.start();
      pull = pulled;
    }
    const closing = pull;
    const handle = { disconnect: () => closing.close() };
    this.open.add(handle);
    const close = pull.close.bind(pull);
    pull.close = async () => {
      this.open.delete(handle);
      await close();
    };
    return pull;
  }

  /**
   * Reads partitions of a topic from the start to their end at the time of the call (a
   * changelog restore). A consumer in a throwaway group (never committed) fetches them; the
   * read gives up after `timeoutMs` (default 60 s plus twice the transaction timeout: a dead
   * producer's open transaction holds read_committed readers back until it times out) with an
   * error naming the topic.
   */
  async readToEnd(
    topic: string,
    partitions: readonly number[],
    timeoutMs = 60_000 + 2 * (this.opts.transactionTimeoutMs ?? 60_000),
  ): Promise<IncomingMessage[]> {
    const brokerTopic = this.prefix + topic;
    // Retried: on loaded cores the request timed out once and failed the node (workers.test.ts).
    const ends = await pRetry(() => this.admin.fetchTopicOffsets(brokerTopic, { timeout: this.requestTimeoutMs }), {
      retries: 3,
      minTimeout: 500,
      onFailedAttempt: ({ error, attemptNumber }) =>
        this.log(`kafka: end offsets of ${topic} (attempt ${attemptNumber}/4): ${error.message}`),
    });
    // Per wanted partition, the last offset to wait for (high - 1); empty partitions need none.
    const waiting = new Map<number, number>();
    for (const e of ends) {
      if (partitions.includes(e.partition) && Number(e.high) > Number(e.low))
        waiting.set(e.partition, Number(e.high) - 1);
    }
    if (waiting.size === 0) return [];
    const out: IncomingMessage[] = [];
    let finish: (() => void) | null = null;
    const complete = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // A changelog written in transactions ends in commit markers, which are never delivered: the
    // last offset may never arrive. librdkafka's statistics say when the position (app_offset,
    // which does move past markers) reached the end; it counts what librdkafka handed to the
    // client, so half a second of a running event loop more lets the client pass on what it holds.
    const reached = new Map<number, number>();
    const onStats = (event: { message: string }) => {
      const stats = JSON.parse(event.message) as LibrdkafkaStats;
      for (const p of Object.values(stats.topics?.[brokerTopic]?.partitions ?? {})) {
        const last = waiting.get(p.partition);
        if (last === undefined || p.app_offset <= last) continue;
        const since = reached.get(p.partition);
        if (since === undefined) reached.set(p.partition, Date.now());
        else if (Date.now() - since >= 500) waiting.delete(p.partition);
      }
      if (waiting.size === 0) finish?.();
    };
    const consumer: KafkaConsumer = this.client.consumer({
      kafkaJS: { groupId: `tickcast-restore-${randomUUID()}`, fromBeginning: true, autoCommit: false },
      'isolation.level': 'read_committed',
      'js.consumer.max.batch.size': 10_000,
      'fetch.wait.max.ms': 50,
      'statistics.interval.ms': 100,
      stats_cb: onStats,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [brokerTopic] });
      await consumer.run({
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch, resolveOffset }) => {
          const last = waiting.get(batch.partition);
          if (last === undefined || batch.messages.length === 0) return;
          for (const m of batch.messages) {
            if (Number(m.offset) > last) break;
            // Headers are not state: a restore drops them.
            out.push(toIncoming(topic, batch.partition, m, {}));
          }
          resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
          if (Number(batch.messages[batch.messages.length - 1]!.offset) >= last) waiting.delete(batch.partition);
          if (waiting.size === 0) finish?.();
        },
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`kafka: restoring ${topic} partitions ${partitions.join(',')} took over ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      await Promise.race([complete, timeout]).finally(() => clearTimeout(timer));
    } finally {
      await consumer.disconnect().catch(() => {});
    }
    // Per partition in offset order (batches of different partitions may interleave).
    return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  }

  /**
   * `Transport.readTopic`: every partition of a topic this process declared (`ensureTopics`),
   * read from the beginning to the end offsets at the time of the call with a throwaway consumer
   * (read_committed: records of aborted transactions are skipped). Gives up after `timeoutMs`.
   */
  async readTopic(topic: string, timeoutMs = 30_000): Promise<IncomingMessage[]> {
    const partitions = Array.from({ length: this.partitions(topic) }, (_, i) => i);
    return this.readToEnd(topic, partitions, timeoutMs);
  }

  /**
   * Records written so far to the topics under this transport's prefix (their end offsets summed,
   * transaction markers included), per topic: what a run cost in Kafka messages (benchmarks).
   */
  async endOffsets(): Promise<Map<string, number>> {
    const names = (await this.admin.listTopics({ timeout: this.requestTimeoutMs })).filter(
      (n) => this.prefix !== '' && n.startsWith(this.prefix),
    );
    const out = new Map<string, number>();
    for (const name of names) {
      const parts = await this.admin.fetchTopicOffsets(name, { timeout: this.requestTimeoutMs });
      out.set(
        name.slice(this.prefix.length),
        parts.reduce((n, p) => n + Number(p.high), 0),
      );
    }
    return out;
  }

  /** Deletes topics (tests and tools); missing ones are ignored. */
  async deleteTopics(names: readonly string[]): Promise<void> {
    const existing = new Set(await this.admin.listTopics({ timeout: this.requestTimeoutMs }));
    const present = names.map((n) => this.prefix + n).filter((n) => existing.has(n));
    if (present.length > 0) await this.admin.deleteTopics({ topics: present, timeout: this.requestTimeoutMs });
  }

  async close(): Promise<void> {
    for (const c of [...this.open]) await c.disconnect().catch(() => {});
    this.open.clear();
    await this.admin.disconnect().catch(() => {});
  }
}

/** For the KafkaJS (transactional) producer: messages per broker topic. */
function groupByTopic(
  messages: readonly OutgoingMessage[],
  prefix: string,
): Array<{ topic: string; messages: KafkaMessageOut[] }> {
  const byTopic = new Map<string, KafkaMessageOut[]>();
  for (const m of messages) {
    let list = byTopic.get(m.topic);
    if (!list) {
      list = [];
      byTopic.set(m.topic, list);
    }
    const out: KafkaMessageOut = { key: m.key, value: m.value, timestamp: String(m.timestamp) };
    // Without an explicit partition the key decides; control records name every partition.
    if (m.partition !== undefined) out.partition = m.partition;
    if (m.headers) out.headers = m.headers;
    list.push(out);
  }
  return [...byTopic].map(([topic, msgs]) => ({ topic: prefix + topic, messages: msgs }));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * librdkafka repeats the same connection error every few hundred ms while a broker is down:
 * pass errors through once per distinct text, drop the rest.
 */
function quietLogger(log: (line: string) => void): KafkaLogger {
  const seen = new Set<string>();
  const logger: KafkaLogger = {
    info() {},
    debug() {},
    warn() {},
    error(message) {
      if (seen.has(message) || seen.size > 100) return;
      seen.add(message);
      log(`kafka client: ${message}`);
    },
    namespace: () => logger,
    setLogLevel() {},
  };
  return logger;
}

/** librdkafka's fencing codes: ERR__FENCED, INVALID_PRODUCER_EPOCH, PRODUCER_FENCED. */
const FENCED_CODES = new Set([-144, 47, 90]);

function isFenced(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'number' && FENCED_CODES.has(code)) || /fenced by a newer instance/i.test(errorText(err));
}

/** A transactional producer that cannot go on: fenced, or in librdkafka's fatal state. */
function isFatal(err: unknown): boolean {
  return isFenced(err) || (err as { fatal?: unknown } | null)?.fatal === true;
}
