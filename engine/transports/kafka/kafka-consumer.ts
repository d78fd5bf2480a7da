// Pull-style Consumers (poll/commit/lag) over the Kafka client. PullConsumer keeps what both
// share: the offsets poll returned (committed explicitly, and only those), the assignment from the
// rebalance callbacks, the group's commit marks, and lag from librdkafka's statistics.
// KafkaPullConsumer fetches through the client's KafkaJS-style push API (run/eachBatch): eachBatch
// only fills a buffer, poll drains it, and fetching pauses while the buffer is full; it alone can
// take part in a transaction (exactly-once). RdKafkaPullConsumer (rdkafka-consumer.ts) polls the
// librdkafka-style consume(n) instead, for at-least-once nodes.

import {
  type CommitMarks,
  type Consumer,
  type Headers,
  type IncomingMessage,
  TransactionError,
} from '../../transport.js';
import type { KafkaBatchPayload, KafkaConsumer, KafkaHeaders, KafkaMessageIn } from './kafka-client.js';

/** librdkafka's rebalance event codes (rdkafka.h). */
const ASSIGN_PARTITIONS = -175;
const REVOKE_PARTITIONS = -174;

export interface PullConsumerOptions {
  group: string;
  /** Pipeline topic names; on the brokers each is `prefix + name`. */
  topics: readonly string[];
  prefix: string;
  /** Buffered messages before fetching pauses; it resumes below half of it. */
  bufferSize: number;
  requestTimeoutMs: number;
  log: (line: string) => void;
}

/** What the two consumers share: offsets to commit, the assignment, commit marks and lag. */
export abstract class PullConsumer implements Consumer {
  /**
   * Per "topic\0partition": next offset to commit (one past the last message poll returned), and
   * the first offset poll returned since the last commit (where a rewind goes back to).
   */
  protected readonly positions = new Map<string, { topic: string; partition: number; offset: number; from: number }>();
  /** A partition with polled, uncommitted records was revoked: the open transaction must not commit. */
  protected lostUncommitted = false;
  /**
   * Offsets committed through transactions: librdkafka's statistics do not see them (the
   * producer commits them), so lag takes the larger of the two.
   */
  protected readonly transactionCommits = new Map<string, number>();
  private failedCommits = 0;
  protected inFlight: Promise<void> | null = null;
  private commitError: unknown = null;
  protected closed = false;
  private owned: Array<{ topic: string; partition: number }> = [];
  /** Ends a poll's wait (see woken). */
  private waiter: (() => void) | null = null;
  /** Per "topic\0partition", from librdkafka's last statistics: log end, log start, committed. */
  private offsets = new Map<string, { end: number; start: number; committed: number }>();
  private statsWaiters: Array<() => void> = [];

  /** Partitions owned now (pipeline topic names), and how many assignments have arrived. */
  readonly assignment = {
    // Eager rebalancing (librdkafka's default range/roundrobin): each assignment is complete.
    owned: () => this.owned,
    generation: 0,
  };

  constructor(protected readonly opts: PullConsumerOptions) {}

  abstract poll(max: number, timeoutMs: number): Promise<IncomingMessage[]>;
  /** Commits offsets (broker topic names) with their metadata, through the group coordinator. */
  protected abstract commitToBroker(
    offsets: Array<{ topic: string; partition: number; offset: string; metadata: string | null }>,
  ): Promise<void>;
  /** The group's committed offsets' metadata for these partitions (broker topic names). */
  protected abstract committedOf(
    partitions: Array<{ topic: string; partition: number }>,
  ): Promise<Array<{ topic: string; partition: number; metadata?: string | null }>>;
  /** Partitions taken away: drop what is held for them (their new owner reads them from the commit). */
  protected abstract forget(revoked: ReadonlySet<string>): void;
  protected abstract disconnect(): Promise<void>;

  /** For the client's `rebalance_cb`: forget what was fetched for partitions taken away. */
  onRebalance(err: { code?: number }, assignment: ReadonlyArray<{ topic: string; partition: number }>): void {
    if (err.code === ASSIGN_PARTITIONS) {
      this.owned = assignment.map((tp) => ({ topic: this.local(tp.topic), partition: tp.partition }));
      this.assignment.generation++;
      return;
    }
    if (err.code !== REVOKE_PARTITIONS) return;
    const revoked = new Set(assignment.map((tp) => key(this.local(tp.topic), tp.partition)));
    this.owned = this.owned.filter((tp) => !revoked.has(key(tp.topic, tp.partition)));
    for (const k of revoked) {
      if (this.positions.has(k)) this.lostUncommitted = true;
      this.transactionCommits.delete(k);
    }
    // Their new owner starts from the committed offset, so dropping them loses nothing.
    this.forget(revoked);
    for (const k of revoked) this.positions.delete(k);
  }

  /**
   * Waits until wake() (messages arrived, or close) or `timeoutMs`: true when woken, and open.
   * One poll waits at a time.
   */
  protected woken(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (arrived: boolean) => {
        clearTimeout(timer);
        if (this.waiter === wake) this.waiter = null;
        resolve(arrived);
      };
      const wake = () => done(!this.closed);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiter = wake;
    });
  }

  /** Ends a poll's wait: messages arrived, or the consumer is closing. */
  protected wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Remembers what poll returns: the offsets the next commit covers. */
  protected track(out: readonly IncomingMessage[]): void {
    for (const m of out) {
      const k = key(m.topic, m.partition);
      const p = this.positions.get(k);
      if (p) p.offset = m.offset + 1;
      else this.positions.set(k, { topic: m.topic, partition: m.partition, offset: m.offset + 1, from: m.offset });
    }
  }

  /**
   * Starts committing what poll returned and resolves without waiting for the broker: the
   * round trip overlaps the next poll. One commit is in flight at a time, in order (offsets only
   * grow), and close() waits for it, so a crash can only cause redelivery (at-least-once).
   */
  async commit(marks?: CommitMarks): Promise<void> {
    if (this.inFlight) await this.inFlight;
    if (this.commitError !== null) {
      const err = this.commitError;
      this.commitError = null;
      throw err;
    }
    if (this.positions.size === 0) return;
    // From the rebalance callbacks: asking the client (a native call) on every commit cost more.
    const owned = this.ownedKeys();
    const offsets = [...this.positions.entries()]
      .filter(([k]) => owned.has(k))
      .map(([, p]) => ({
        topic: p.topic,
        partition: p.partition,
        offset: String(p.offset),
        metadata: marks?.(p.topic, p.partition) ?? null,
      }));
    this.positions.clear();
    if (offsets.length === 0) return;
    this.inFlight = this.send(offsets).finally(() => {
      this.inFlight = null;
    });
  }

  protected async send(
    offsets: Array<{ topic: string; partition: number; offset: string; metadata: string | null }>,
  ): Promise<void> {
    try {
      await this.commitToBroker(offsets.map((o) => ({ ...o, topic: this.opts.prefix + o.topic })));
      this.failedCommits = 0;
    } catch (err) {
      // A commit lost to a rebalance only means redelivery (at-least-once); keep the offsets for
      // the next commit unless a newer one replaced them, and give up only if commits keep failing.
      for (const o of offsets) {
        const k = key(o.topic, o.partition);
        if (!this.positions.has(k)) {
          this.positions.set(k, {
            topic: o.topic,
            partition: o.partition,
            offset: Number(o.offset),
            from: Number(o.offset),
          });
        }
      }
      if (++this.failedCommits >= 5) this.commitError = err;
      else this.opts.log(`kafka: commit for ${this.opts.group} failed, retrying with the next one: ${String(err)}`);
    }
  }

  /**
   * `Consumer.committedMarks`: the metadata the group committed with these partitions' offsets.
   * After this member's commit in flight, so its own latest marks are among them.
   */
  async committedMarks(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<Array<string | null>> {
    if (this.inFlight) await this.inFlight;
    const got = await this.committedOf(
      partitions.map((tp) => ({ topic: this.opts.prefix + tp.topic, partition: tp.partition })),
    );
    const byKey = new Map(got.map((c) => [key(this.local(c.topic), c.partition), c.metadata || null]));
    return partitions.map((tp) => byKey.get(key(tp.topic, tp.partition)) ?? null);
  }

  /** "topic\0partition" of each partition owned now (from the rebalance callbacks). */
  protected ownedKeys(): Set<string> {
    return new Set(this.owned.map((tp) => key(tp.topic, tp.partition)));
  }

  /**
   * For the client's `stats_cb` (librdkafka statistics, JSON): remembers each partition's log
   * end, log start and committed offset. Lag is measured from these, not with admin requests:
   * librdkafka's coordinator admin calls (ListConsumerGroupOffsets) can abort the whole process
   * when a connection drops mid-request (librdkafka #4605), and a broker restart does just that.
   */
  onStats(event: { message: string }): void {
    const stats = JSON.parse(event.message) as LibrdkafkaStats;
    const offsets = new Map<string, { end: number; start: number; committed: number }>();
    for (const [brokerTopic, t] of Object.entries(stats.topics ?? {})) {
      if (!brokerTopic.startsWith(this.opts.prefix)) continue;
      const topic = this.local(brokerTopic);
      for (const p of Object.values(t.partitions ?? {})) {
        if (p.partition < 0) continue; // librdkafka's internal "unassigned" partition
        // The last stable offset is the end a read_committed consumer can reach.
        const end = p.ls_offset >= 0 ? p.ls_offset : p.hi_offset;
        offsets.set(key(topic, p.partition), { end, start: p.lo_offset, committed: p.committed_offset });
      }
    }
    this.offsets = offsets;
    const waiters = this.statsWaiters;
    this.statsWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Per topic, messages not yet committed on the partitions this member owns: log end minus
   * committed offset (minus log start while nothing is committed), from the latest statistics.
   * Partitions whose end is not known yet count 0. Each member of a group reports its own share.
   */
  async lag(): Promise<Record<string, number>> {
    if (this.offsets.size === 0 && !this.closed) {
      // Statistics come every second; the first ones may not have arrived yet.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.opts.requestTimeoutMs);
        this.statsWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const lag: Record<string, number> = {};
    for (const topic of this.opts.topics) lag[topic] = 0;
    for (const { topic, partition } of this.owned) {
      const o = this.offsets.get(key(topic, partition));
      if (!o || o.end < 0) continue;
      const committed = Math.max(o.committed, this.transactionCommits.get(key(topic, partition)) ?? -1);
      const from = committed >= 0 ? committed : Math.max(0, o.start);
      lag[topic] = (lag[topic] ?? 0) + Math.max(0, o.end - from);
    }
    return lag;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    await this.inFlight;
    await this.disconnect();
  }

  protected brokerTopics(): string[] {
    return this.opts.topics.map((t) => this.opts.prefix + t);
  }

  protected local(brokerTopic: string): string {
    return brokerTopic.slice(this.opts.prefix.length);
  }
}

/** Fetches through the client's KafkaJS-style push API, buffered; the consumer of exactly-once nodes. */
export class KafkaPullConsumer extends PullConsumer {
  private buffer: IncomingMessage[] = [];
  /** Partitions rewound by seek: the offset their next batch must start at (older batches are stale). */
  private readonly rewound = new Map<string, number>();
  private paused = false;

  constructor(
    private readonly consumer: KafkaConsumer,
    opts: PullConsumerOptions,
  ) {
    super(opts);
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.brokerTopics() });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => this.onBatch(payload),
    });
  }

  private async onBatch({ batch, resolveOffset, isStale }: KafkaBatchPayload): Promise<void> {
    if (isStale() || batch.messages.length === 0) return;
    const topic = this.local(batch.topic);
    const expected = this.rewound.get(key(topic, batch.partition));
    if (expected !== undefined) {
      // Fetched before the rewind's seek took effect: drop it (resolved, so the client does not seek back to it).
      if (Number(batch.messages[0]!.offset) !== expected) {
        resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
        return;
      }
      this.rewound.delete(key(topic, batch.partition));
    }
    for (const m of batch.messages) {
      this.buffer.push(toIncoming(topic, batch.partition, m, toHeaders(m.headers)));
    }
    // Resolved before any pause: a paused batch that is not fully resolved is re-fetched.
    resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    if (!this.paused && this.buffer.length >= this.opts.bufferSize) {
      this.paused = true;
      this.consumer.pause(this.brokerTopics().map((t) => ({ topic: t })));
    }
    this.wake();
  }

  async poll(max: number, timeoutMs: number): Promise<IncomingMessage[]> {
    if (this.buffer.length === 0 && timeoutMs > 0 && !this.closed) await this.woken(timeoutMs);
    const out = this.buffer.length <= max ? this.buffer : this.buffer.slice(0, max);
    this.buffer = out === this.buffer ? [] : this.buffer.slice(max);
    this.track(out);
    if (this.paused && this.buffer.length < this.opts.bufferSize / 2) {
      this.paused = false;
      this.consumer.resume(this.brokerTopics().map((t) => ({ topic: t })));
    }
    return out;
  }

  /** The client's consumer: a transactional producer's sendOffsets needs it (group metadata). */
  get client(): KafkaConsumer {
    return this.consumer;
  }

  /**
   * For a transaction (exactly-once): the offsets to commit with it, per broker topic, for the
   * partitions owned now. Refuses (a non-fatal TransactionError: abort and rewind) when a
   * partition with uncommitted records was revoked meanwhile: its outputs must not be committed.
   */
  transactionOffsets(): Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> {
    if (this.lostUncommitted) {
      throw new TransactionError(`kafka: ${this.opts.group} lost partitions in a rebalance mid-transaction`, false);
    }
    const owned = this.ownedKeys();
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const [k, p] of this.positions) {
      if (!owned.has(k)) continue;
      const topic = this.opts.prefix + p.topic;
      let list = byTopic.get(topic);
      if (!list) {
        list = [];
        byTopic.set(topic, list);
      }
      list.push({ partition: p.partition, offset: String(p.offset) });
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }

  /**
   * The transaction holding transactionOffsets() committed: they are the group's now. A
   * transaction's offsets carry no metadata (the client drops it), so partitions with `marks`
   * get the same offsets committed again, with them, outside the transaction (idempotent).
   */
  transactionCommitted(marks?: CommitMarks): void {
    const marked: Array<{ topic: string; partition: number; offset: string; metadata: string | null }> = [];
    for (const [k, p] of this.positions) {
      this.transactionCommits.set(k, p.offset);
      const metadata = marks?.(p.topic, p.partition);
      if (metadata !== undefined)
        marked.push({ topic: p.topic, partition: p.partition, offset: String(p.offset), metadata });
    }
    this.positions.clear();
    if (marked.length === 0) return;
    const previous = this.inFlight;
    this.inFlight = (async () => {
      await previous;
      await this.send(marked);
    })().finally(() => {
      this.inFlight = null;
    });
  }

  /**
   * After an aborted transaction: seek every owned partition back to the first record poll
   * returned since the last commit, drop what is buffered for them, and count a new assignment
   * so the node rebuilds its state from the changelog (read_committed: without the aborted writes).
   */
  rewind(): void {
    const owned = this.ownedKeys();
    const back = new Set<string>();
    for (const [k, p] of this.positions) {
      back.add(k);
      if (!owned.has(k)) continue;
      this.consumer.seek({ topic: this.opts.prefix + p.topic, partition: p.partition, offset: String(p.from) });
      this.rewound.set(k, p.from);
    }
    this.buffer = this.buffer.filter((m) => !back.has(key(m.topic, m.partition)));
    this.positions.clear();
    this.lostUncommitted = false;
    this.assignment.generation++;
  }

  protected forget(revoked: ReadonlySet<string>): void {
    for (const k of revoked) this.rewound.delete(k);
    this.buffer = this.buffer.filter((m) => !revoked.has(key(m.topic, m.partition)));
  }

  protected commitToBroker(
    offsets: Array<{ topic: string; partition: number; offset: string; metadata: string | null }>,
  ): Promise<void> {
    return this.consumer.commitOffsets(offsets);
  }

  protected committedOf(partitions: Array<{ topic: string; partition: number }>) {
    return this.consumer.committed(partitions, this.opts.requestTimeoutMs);
  }

  protected async disconnect(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** The part of librdkafka's statistics JSON that lag and changelog restores read (STATISTICS.md). */
export interface LibrdkafkaStats {
  topics?: Record<
    string,
    {
      partitions?: Record<
        string,
        {
          partition: number;
          hi_offset: number;
          ls_offset: number;
          lo_offset: number;
          committed_offset: number;
          /** The position: the next offset the application gets (moves past transaction markers). */
          app_offset: number;
        }
      >;
    }
  >;
}

function key(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}

/** A fetched message as the engine sees it: pipeline topic name, numbers, a string key. */
export function toIncoming(topic: string, partition: number, m: KafkaMessageIn, headers: Headers): IncomingMessage {
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key === null ? null : m.key.toString(),
    value: m.value,
    timestamp: Number(m.timestamp),
    headers,
  };
}

function toHeaders(h: KafkaHeaders | undefined): Headers {
  const out: Headers = {};
  if (!h) return out;
  for (const [name, v] of Object.entries(h)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}
