// In-process partitioned log: per-partition bounded queues with backpressure and
// per-consumer-group committed offsets. A record is dropped from memory once every group
// reading its topic has committed past it; topics with no group keep everything.
import {
  type Consumer,
  type IncomingMessage,
  type OutgoingMessage,
  type Producer,
  partitionFor,
  type TopicSpec,
  type Transport,
} from '../../transport.js';

const NO_HEADERS = Object.freeze({});

interface Partition {
  log: IncomingMessage[];
  /** Offset of log[0]. */
  base: number;
  committed: Map<string, number>;
}

interface Topic {
  spec: TopicSpec;
  partitions: Partition[];
}

export interface MemoryTransportOptions {
  /** Most uncommitted records per partition before producers wait. */
  capacity?: number;
  /** Keep consumed records (the test driver reads output topics after the fact). */
  retainAll?: boolean;
  /**
   * Pass checked records by reference instead of Avro bytes (default true). The test driver
   * turns it off so that tests exercise the encoding and catch operators that mutate inputs.
   */
  inProcess?: boolean;
}

export class MemoryTransport implements Transport {
  readonly kind = 'memory';
  readonly capacity: number;
  readonly inProcess: boolean;
  private readonly retainAll: boolean;
  private readonly topics = new Map<string, Topic>();
  private dataWaiters: Array<() => void> = [];
  private spaceWaiters: Array<() => void> = [];
  /** Set when the pipeline stops: producers no longer wait for room that stopped consumers will never make. */
  private released = false;

  constructor(opts: MemoryTransportOptions = {}) {
    this.capacity = opts.capacity ?? 20_000;
    this.retainAll = opts.retainAll ?? false;
    this.inProcess = opts.inProcess ?? true;
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    for (const spec of specs) {
      const existing = this.topics.get(spec.name);
      if (existing) {
        if (existing.spec.partitions !== spec.partitions) {
          throw new Error(
            `topic ${spec.name} exists with ${existing.spec.partitions} partitions, asked for ${spec.partitions}`,
          );
        }
        continue;
      }
      const partitions = Array.from({ length: spec.partitions }, () => ({
        log: [],
        base: 0,
        committed: new Map<string, number>(),
      }));
      this.topics.set(spec.name, { spec, partitions });
    }
  }

  partitions(topic: string): number {
    return this.topic(topic).spec.partitions;
  }

  async producer(): Promise<Producer> {
    return { send: (messages) => this.send(messages), close: async () => {} };
  }

  async consumer(opts: { group: string; topics: readonly string[] }): Promise<Consumer> {
    const assigned: Array<{ topic: string; index: number; part: Partition; position: number }> = [];
    for (const name of opts.topics) {
      this.topic(name).partitions.forEach((part, index) => {
        const start = part.committed.get(opts.group) ?? part.base;
        part.committed.set(opts.group, start);
        assigned.push({ topic: name, index, part, position: start });
      });
    }
    let next = 0;
    const take = (max: number): IncomingMessage[] => {
      const out: IncomingMessage[] = [];
      // Round-robin over partitions so one busy partition cannot starve the others.
      for (let tried = 0; tried < assigned.length && out.length < max; tried++) {
        const a = assigned[(next + tried) % assigned.length]!;
        const end = a.part.base + a.part.log.length;
        while (a.position < end && out.length < max) out.push(a.part.log[a.position++ - a.part.base]!);
      }
      next = (next + 1) % Math.max(1, assigned.length);
      return out;
    };
    return {
      poll: async (max, timeoutMs) => {
        const got = take(max);
        if (got.length > 0 || timeoutMs <= 0) return got;
        await this.waitForData(timeoutMs);
        return take(max);
      },
      commit: async () => {
        for (const a of assigned) a.part.committed.set(opts.group, a.position);
        this.trim(assigned.map((a) => a.part));
      },
      lag: async () => {
        const lag: Record<string, number> = {};
        for (const a of assigned) {
          const end = a.part.base + a.part.log.length;
          lag[a.topic] = (lag[a.topic] ?? 0) + end - (a.part.committed.get(opts.group) ?? a.part.base);
        }
        return lag;
      },
      close: async () => {},
    };
  }

  /** Every retained message of a topic in partition then offset order (for tests and tools). */
  read(topic: string): IncomingMessage[] {
    return this.topic(topic).partitions.flatMap((p) => p.log);
  }

  /** `Transport.readTopic`: what `read` returns (a copy of the list; the messages are the log's). */
  async readTopic(topic: string): Promise<IncomingMessage[]> {
    return this.read(topic);
  }

  /** Uncommitted records of the slowest group, per topic (queue depth). */
  depth(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, t] of this.topics) out[name] = t.partitions.reduce((n, p) => n + this.pending(p), 0);
    return out;
  }

  async close(): Promise<void> {
    this.releaseProducers();
    this.wake();
  }

  /** Ends backpressure for good: a producer blocked on a full partition returns (its batch is already stored). */
  releaseProducers(): void {
    this.released = true;
    this.wakeProducers();
  }

  private async send(messages: readonly OutgoingMessage[]): Promise<void> {
    const touched = new Set<Partition>();
    for (const m of messages) {
      const t = this.topic(m.topic);
      const index = m.partition ?? partitionFor(m.key, t.spec.partitions);
      const part = t.partitions[index];
      if (!part) throw new Error(`topic ${m.topic} has no partition ${index}`);
      // The message object becomes the log entry (send takes ownership): no copy per record.
      const entry = m as OutgoingMessage & IncomingMessage;
      entry.partition = index;
      entry.offset = part.base + part.log.length;
      entry.headers ??= NO_HEADERS;
      part.log.push(entry);
      touched.add(part);
    }
    this.wake();
    // Backpressure: the batch is stored (acknowledged) but the producer waits for room.
    for (const part of touched) {
      while (!this.released && part.committed.size > 0 && this.pending(part) > this.capacity) {
        await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
      }
    }
  }

  private pending(part: Partition): number {
    if (part.committed.size === 0) return 0;
    let min = Number.POSITIVE_INFINITY;
    for (const c of part.committed.values()) min = Math.min(min, c);
    return part.base + part.log.length - min;
  }

  private trim(parts: Partition[]): void {
    if (!this.retainAll) {
      for (const part of parts) {
        let min = Number.POSITIVE_INFINITY;
        for (const c of part.committed.values()) min = Math.min(min, c);
        const drop = min - part.base;
        // Splicing per commit is O(n); trim in chunks so it amortises.
        if (drop > 0 && (drop >= 1024 || drop === part.log.length)) {
          part.log.splice(0, drop);
          part.base = min;
        }
      }
    }
    this.wakeProducers();
  }

  private wakeProducers(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }

  private waitForData(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.dataWaiters = self.dataWaiters.filter((w) => w !== done);
        resolve();
      }
      this.dataWaiters.push(done);
    });
  }

  private wake(): void {
    const waiters = this.dataWaiters;
    this.dataWaiters = [];
    for (const w of waiters) w();
  }

  private topic(name: string): Topic {
    const t = this.topics.get(name);
    if (!t) throw new Error(`unknown topic ${name}`);
    return t;
  }
}
