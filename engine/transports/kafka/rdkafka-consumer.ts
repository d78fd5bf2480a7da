// The at-least-once pull consumer on the client's librdkafka-style API: poll is one consume(n),
// which takes up to n messages off librdkafka's own prefetch queue in one native call, without the
// KafkaJS layer's message objects, caches and batch bookkeeping per message (issue 15). It cannot
// take part in a transaction (the producer's sendOffsets wants the KafkaJS consumer), so
// exactly-once nodes get a KafkaPullConsumer; the offsets, assignment, marks and lag they share
// live in PullConsumer.
import { setTimeout as delay } from 'node:timers/promises';
import type { Headers, IncomingMessage } from '../../transport.js';
import type { RdKafkaConsumer, RdKafkaMessage } from './kafka-client.js';
import { PullConsumer, type PullConsumerOptions } from './kafka-consumer.js';

/** How often the same consume error is logged (it repeats every poll while it lasts). */
const ERROR_LOG_EVERY_MS = 10_000;
/** A node that has not polled for this long gets a consume in the background (see keepAlive). */
const KEEP_ALIVE_MS = 1000;

export class RdKafkaPullConsumer extends PullConsumer {
  /** The consume in progress (one at a time: poll's, or the keep-alive's). */
  private polling: Promise<void> | null = null;
  /** What the keep-alive fetched while the node was busy: the next polls return it first. */
  private buffer: IncomingMessage[] = [];
  private lastConsume = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastError = { text: '', at: 0 };
  /** librdkafka said its queue has messages (queue_non_empty_cb) since the last consume began. */
  private signalled = false;

  constructor(
    private readonly consumer: RdKafkaConsumer,
    opts: PullConsumerOptions,
  ) {
    super(opts);
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.consumer.connect({}, (err) => (err ? reject(new Error(`kafka consumer: ${err.message}`)) : resolve())),
    );
    // consume never waits (see poll): it takes what librdkafka holds and returns.
    this.consumer.setDefaultConsumeTimeout(0);
    this.consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.consumer.subscribe(this.brokerTopics());
    this.lastConsume = performance.now();
    this.timer = setInterval(() => this.keepAlive(), KEEP_ALIVE_MS);
    this.timer.unref();
  }

  /**
   * librdkafka serves its callbacks (statistics, so lag; rebalances, which the whole group waits
   * for) only inside consume. While the node is busy elsewhere (a store retrying, a changelog
   * restore), this consumes into a buffer, up to its size, as the KafkaJS layer does in the background.
   */
  private keepAlive(): void {
    if (this.closed || this.polling || performance.now() - this.lastConsume < KEEP_ALIVE_MS) return;
    const room = this.opts.bufferSize - this.buffer.length;
    if (room <= 0) return;
    // Buffered before the consume counts as done, so a poll waiting for it finds them first.
    this.exclusive(
      this.fetch(room).then((got) => {
        for (const m of got) this.buffer.push(m);
      }),
    ).catch((err: unknown) => this.logQuietly(String((err as Error).message ?? err)));
  }

  async poll(max: number, timeoutMs: number): Promise<IncomingMessage[]> {
    if (this.closed) return [];
    let got = await this.take(max);
    // Nothing there: wait for librdkafka to say something arrived (or the timeout), then take
    // again. The native consume itself never waits: each waiting consume would hold one of
    // libuv's four threads, and a process runs a consumer per node.
    if (got.length === 0 && timeoutMs > 0 && !this.closed && (await this.arrival(timeoutMs)))
      got = await this.take(max);
    // Only partitions owned now: what was fetched before a revoke belongs to the new owner, and
    // an offset tracked for it here could later be committed over that owner's.
    const owned = this.ownedKeys();
    const out = got.filter((m) => owned.has(`${m.topic}\0${m.partition}`));
    this.track(out);
    return out;
  }

  /** For `queue_non_empty_cb`: librdkafka's queue went from empty to holding messages (or events). */
  onQueueNonEmpty(): void {
    this.signalled = true;
    this.wake();
  }

  /** What the keep-alive buffered, else one consume that does not wait. */
  private async take(max: number): Promise<IncomingMessage[]> {
    while (this.polling) await this.polling;
    if (this.buffer.length > 0) return this.buffer.splice(0, max);
    return this.exclusive(this.fetch(max));
  }

  /** Resolves true when librdkafka signals an arrival, false after `timeoutMs` or on close. */
  private arrival(timeoutMs: number): Promise<boolean> {
    if (this.signalled || this.buffer.length > 0) return Promise.resolve(true);
    return this.woken(timeoutMs);
  }

  /** Marks `work` as the consume in progress until it settles: one at a time, in order. */
  private exclusive<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.polling = settled;
    void settled.then(() => {
      if (this.polling === settled) this.polling = null;
      this.lastConsume = performance.now();
    });
    return work;
  }

  /** One consume(n) that does not wait: up to `max` of the messages librdkafka holds now. */
  private fetch(max: number): Promise<IncomingMessage[]> {
    this.signalled = false;
    return new Promise<RdKafkaMessage[]>((resolve, reject) =>
      this.consumer.consume(max, (err, messages) => (err ? reject(err) : resolve(messages))),
    ).then(
      (messages) => messages.map((m) => this.incoming(m)),
      async (err: unknown) => {
        if ((err as { isFatal?: boolean }).isFatal) throw err;
        // As the KafkaJS layer does: a consume error that is not fatal (a topic not there yet, a
        // broker away) is logged and the next poll tries again, a little later.
        this.logQuietly(String((err as Error).message ?? err));
        await delay(100);
        return [];
      },
    );
  }

  private incoming(m: RdKafkaMessage): IncomingMessage {
    return {
      topic: this.local(m.topic),
      partition: m.partition,
      offset: m.offset,
      key: m.key === null || m.key === undefined ? null : m.key.toString(),
      value: m.value,
      timestamp: m.timestamp ?? 0,
      headers: headersOf(m.headers),
    };
  }

  /** librdkafka drops what it prefetched for revoked partitions itself; the keep-alive's buffer here. */
  protected forget(revoked: ReadonlySet<string>): void {
    this.buffer = this.buffer.filter((m) => !revoked.has(`${m.topic}\0${m.partition}`));
  }

  protected commitToBroker(
    offsets: Array<{ topic: string; partition: number; offset: string; metadata: string | null }>,
  ): Promise<void> {
    return new Promise((resolve, reject) =>
      this.consumer.commitCb(
        offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: Number(o.offset),
          metadata: o.metadata,
        })),
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  protected committedOf(partitions: Array<{ topic: string; partition: number }>) {
    return new Promise<Array<{ topic: string; partition: number; metadata?: string | null }>>((resolve, reject) =>
      this.consumer.committed(partitions, this.opts.requestTimeoutMs, (err, offsets) =>
        err ? reject(err) : resolve(offsets),
      ),
    );
  }

  protected async disconnect(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }

  private logQuietly(text: string): void {
    const now = Date.now();
    if (text === this.lastError.text && now - this.lastError.at < ERROR_LOG_EVERY_MS) return;
    this.lastError = { text, at: now };
    this.opts.log(`kafka: ${this.opts.group}: consume failed, retrying: ${text}`);
  }
}

/** The client gives one object per header; the first value of a name wins, as a string. */
function headersOf(list: RdKafkaMessage['headers']): Headers {
  const out: Headers = {};
  if (!list) return out;
  for (const h of list) {
    for (const name in h) if (!(name in out)) out[name] = h[name]!.toString();
  }
  return out;
}
