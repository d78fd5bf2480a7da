// The one interface both transports implement: in-process memory (default) and Kafka.
// Operators never see it; the runner moves encoded records through it.

export type Headers = Record<string, string>;

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Topics nobody consumes in-process (dead letters) keep every record. */
  compacted?: boolean;
}

export interface OutgoingMessage {
  topic: string;
  /** Explicit partition (control records go to every partition); otherwise hashed from the key. */
  partition?: number;
  key: string | null;
  value: Buffer | null;
  /**
   * The record itself, already checked against its schema. Only an in-process transport
   * (`inProcess`) carries it, instead of bytes: encoding costs 20× the check.
   */
  record?: unknown;
  /** Event time, epoch ms. */
  timestamp: number;
  headers?: Headers;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer | null;
  /** See OutgoingMessage.record: consumers must treat it as read-only. */
  record?: unknown;
  timestamp: number;
  headers: Headers;
}

export interface Producer {
  /**
   * Resolves once every message is stored (acknowledged); waits while the topic is full.
   * The transport may keep the message objects: do not reuse them after sending.
   */
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
  /** Transactional producers only (`Transport.transactionalProducer`): starts a transaction. */
  transaction?(): Promise<Transaction>;
}

/**
 * One transaction of a transactional producer: what `send` wrote becomes visible to
 * read_committed consumers only with `commit`, together with the input offsets, or never.
 */
export interface Transaction {
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  /**
   * Commits the sends and the offsets of everything `consumer` polled since its last commit,
   * atomically; then `marks` with those offsets (see Consumer.commit).
   */
  commit(consumer: Consumer, marks?: CommitMarks): Promise<void>;
  abort(): Promise<void>;
}

/**
 * A transaction failed. `fatal`: the producer cannot go on (fenced by a newer instance with the
 * same transactional id, or a broker-side fatal state); otherwise abort, rewind and retry.
 */
export class TransactionError extends Error {
  constructor(
    message: string,
    readonly fatal: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransactionError';
  }
}

/** The text to commit with a partition's offset (see Consumer.commit), or undefined for none. */
export type CommitMarks = (topic: string, partition: number) => string | undefined;

export interface Consumer {
  /** Up to `max` messages from the assigned partitions; waits up to `timeoutMs` for the first. */
  poll(max: number, timeoutMs: number): Promise<IncomingMessage[]>;
  /**
   * Commits everything returned by poll so far. `marks` (Kafka) gives, per partition, a short
   * text committed with its offset (the offset's metadata): what the node knew at that offset,
   * e.g. which producers had ended the partition, so the next owner of the partition knows too.
   */
  commit(marks?: CommitMarks): Promise<void>;
  /**
   * What the group committed with the offsets of these partitions (`commit(marks)`), owned by
   * this member or not: null where nothing, or nothing marked, was committed. Waits for this
   * member's commit in flight first. Absent: the consumer owns every partition (memory).
   */
  committedMarks?(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<Array<string | null>>;
  /** Messages not yet committed by this group, per topic. */
  lag(): Promise<Record<string, number>>;
  /**
   * Forgets what poll returned since the last commit and reads it again from there (after an
   * aborted transaction). Counts as a new assignment (`assignment.generation` grows), so the
   * node rebuilds its state from the changelog. Transactional (Kafka) consumers only.
   */
  rewind?(): void;
  close(): Promise<void>;
  /**
   * Group membership, for a consumer that shares its group with other processes (Kafka):
   * `generation` counts the partition assignments received, `owned` is the current one.
   * Absent: the consumer owns every partition, always (memory).
   */
  readonly assignment?: { readonly generation: number; owned(): ReadonlyArray<{ topic: string; partition: number }> };
}

export interface Transport {
  readonly kind: string;
  /** Producers and consumers share this process's memory: records travel unencoded. */
  readonly inProcess: boolean;
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  partitions(topic: string): number;
  producer(): Promise<Producer>;
  /**
   * A producer whose sends go in transactions with a consumer's offsets (exactly-once), for one
   * node: `id` is stable per node (its consumer group), so a restarted instance fences the old one
   * and aborts its open transaction. Absent: the transport has no transactions (memory).
   */
  transactionalProducer?(id: string): Promise<Producer>;
  /**
   * A consumer in a group. `transactional`: its offsets are committed through a transaction of a
   * transactionalProducer (exactly-once), which may need a consumer of another kind.
   */
  consumer(opts: { group: string; topics: readonly string[]; transactional?: boolean }): Promise<Consumer>;
  /**
   * Reads partitions of a topic from their start to their current end, outside any group:
   * how a worker restores keyed state from a changelog topic. Absent: no changelogs (memory).
   */
  readToEnd?(topic: string, partitions: readonly number[]): Promise<IncomingMessage[]>;
  /**
   * Every record a topic holds now, from its start to its current end (partition, then offset
   * order), outside any consumer group and without committing anything: how tools and the API
   * read dead-letter topics. Memory: what it retains (dead-letter topics, with no consumer group,
   * keep everything). Kafka: a throwaway consumer from the beginning. Absent: not readable.
   */
  readTopic?(topic: string): Promise<IncomingMessage[]>;
  /**
   * Uncommitted records of the slowest group, per topic (queue depth), for the metrics. Absent:
   * the transport reports lag per consumer instead (Kafka).
   */
  depth?(): Record<string, number>;
  /**
   * Ends backpressure for good: a producer blocked on a full partition returns (its batch is already
   * stored). For stopping a run whose sources may wait on consumers that quit. Absent: sends never
   * block on consumers (Kafka).
   */
  releaseProducers?(): void;
  close(): Promise<void>;
}

/** FNV-1a over the key's UTF-16 code units: stable partitioning by symbol. */
export function partitionFor(key: string | null, partitions: number): number {
  if (key === null || partitions <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}
