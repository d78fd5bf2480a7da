// Runs a chain of nodes (engine/chains.ts) as one task: the head polls the transport, each node's
// outputs on the chain's local topics go straight to the next nodes, in the same step, and the
// chain then writes what leaves it, every node's changelog and the head's input offsets, in that
// order (at-least-once: changelogs and offsets at most once per commit interval) or in one
// transaction (exactly-once, every step). Its sinks gather what they are handed into batches
// and write them while the chain goes on, and the chain commits the input they came from only
// once they are written (see ChainTask.flushSinks).
import type { Chain } from './chains.js';
import type { NodeTask } from './node-task.js';
import { message } from './record.js';
import {
  type CommitMarks,
  type Consumer,
  type IncomingMessage,
  type OutgoingMessage,
  type Producer,
  TransactionError,
} from './transport.js';

/** What one member of a chain reads: the records its predecessors handed on in this step. */
export class ChainInput implements Consumer {
  private queue: IncomingMessage[] = [];
  private offset = 0;
  readonly assignment?: Consumer['assignment'];

  /** `head`: the chain's consumer; this input owns the partitions it owns (same lanes). */
  constructor(
    private readonly topic: string,
    head: Consumer,
  ) {
    const owner = head.assignment;
    if (owner) {
      this.assignment = {
        get generation() {
          return owner.generation;
        },
        owned: () => [...new Set(owner.owned().map((tp) => tp.partition))].map((partition) => ({ topic, partition })),
      };
    }
  }

  /** Records handed on and not yet read. */
  get size(): number {
    return this.queue.length;
  }

  push(m: OutgoingMessage): void {
    this.queue.push({
      topic: this.topic,
      partition: m.partition ?? 0,
      offset: this.offset++,
      key: m.key,
      value: m.value,
      record: m.record,
      timestamp: m.timestamp,
      headers: m.headers ?? {},
    });
  }

  /** Everything handed on since the last call: a chain's step never leaves records behind. */
  async poll(): Promise<IncomingMessage[]> {
    const q = this.queue;
    this.queue = [];
    return q;
  }

  /** The chain commits for its head: nothing of its own. */
  async commit(): Promise<void> {}
  async lag(): Promise<Record<string, number>> {
    return {};
  }
  async close(): Promise<void> {
    this.queue = [];
  }
}

/** The head's consumer inside a chain: its commit waits for the chain's outputs (see ChainTask). */
export class ChainHeadConsumer implements Consumer {
  /** Marks of the commit the head asked for in this step, if it asked. */
  pending: { marks?: CommitMarks } | null = null;

  constructor(readonly real: Consumer) {}

  get assignment(): Consumer['assignment'] {
    return this.real.assignment;
  }
  get committedMarks(): Consumer['committedMarks'] {
    return this.real.committedMarks?.bind(this.real);
  }
  get rewind(): Consumer['rewind'] {
    return this.real.rewind?.bind(this.real);
  }
  poll(max: number, timeoutMs: number): Promise<IncomingMessage[]> {
    return this.real.poll(max, timeoutMs);
  }
  async commit(marks?: CommitMarks): Promise<void> {
    this.pending = { marks };
  }
  lag(): Promise<Record<string, number>> {
    return this.real.lag();
  }
  close(): Promise<void> {
    return this.real.close();
  }
}

/** What a chain's nodes send: local topics to the next nodes now, the rest held for the chain's write. */
export class ChainProducer implements Producer {
  outputs: OutgoingMessage[] = [];
  changes: OutgoingMessage[] = [];

  constructor(
    private readonly readers: ReadonlyMap<string, readonly ChainInput[]>,
    private readonly fused: ReadonlySet<string>,
    private readonly changelogs: ReadonlySet<string>,
  ) {}

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    for (const m of messages) {
      const inputs = this.readers.get(m.topic);
      if (inputs) for (const input of inputs) input.push(m);
      if (this.fused.has(m.topic)) continue;
      (this.changelogs.has(m.topic) ? this.changes : this.outputs).push(m);
    }
  }

  async close(): Promise<void> {}
}

export interface ChainDeps {
  chain: Chain;
  /** The chain's nodes, built with `producer`, and the head with `head`, the others with `inputs`. */
  tasks: readonly NodeTask[];
  head: ChainHeadConsumer;
  producer: ChainProducer;
  /** The transport's producer: transactional when the chain runs exactly-once. */
  out: Producer;
  /** At-least-once: changelogs and the head's offsets at most this often (ms); see TaskDeps. */
  commitIntervalMs?: number;
  /** The chain's sinks, by id, with the input each gathers its batch in. */
  sinks?: ReadonlyMap<string, ChainInput>;
  /**
   * How long past the commit interval the chain lets its sinks' gathering delay a commit (ms):
   * then it waits for their writes (see flushSinks).
   */
  sinkCommitGraceMs?: number;
  log: (line: string) => void;
  onAbort: (reason: string) => void;
}

export class ChainTask {
  readonly id: string;
  /** Changelog records held back by the commit interval: the latest per topic and key. */
  private readonly held = new Map<string, OutgoingMessage>();
  /** The head's commit held back by the commit interval (or by sinks still gathering), and since when. */
  private heldCommit: { marks?: CommitMarks } | null = null;
  private heldSince = 0;
  private nextCommit = 0;
  /** Sink batches being written, by sink: the chain goes on meanwhile (see flushSinks). */
  private readonly writing = new Map<string, Promise<void>>();
  /** The first of those writes that failed: the chain fails with it at its next write. */
  private failure: { error: unknown } | null = null;

  constructor(private readonly deps: ChainDeps) {
    this.id = deps.chain.head;
  }

  get nodes(): readonly NodeTask[] {
    return this.deps.tasks;
  }

  /** The chain has ended when its head has: every member has then seen the end of its lanes. */
  get ended(): boolean {
    return this.deps.tasks[0]!.ended;
  }

  /**
   * One step of the head, then of every member on what it handed on (the sinks write in the
   * background: flushSinks); then the chain's write.
   */
  async step(max: number, timeoutMs: number): Promise<number> {
    this.throwIfFailed();
    const [head, ...members] = this.deps.tasks;
    const sinks = this.deps.sinks;
    const generation = this.deps.head.assignment?.generation;
    const consumed = await head!.step(max, timeoutMs);
    for (const member of members) if (!sinks?.has(member.id)) await member.step(max, 0);
    // A new assignment: every member rebuilt its state from its changelog and the head reads
    // again from the committed offsets, so what the interval held back is void.
    if (this.deps.head.assignment?.generation !== generation) this.held.clear();
    // Exactly-once commits every step, so its sinks write every step, before the transaction.
    const transactional = this.deps.out.transaction !== undefined;
    const overdue =
      this.heldCommit !== null &&
      performance.now() >= Math.max(this.nextCommit, this.heldSince) + (this.deps.sinkCommitGraceMs ?? 0);
    const force = this.ended || overdue;
    await this.flushSinks(max, force || transactional);
    if (transactional) await this.written();
    await this.write(force);
    if (this.ended) for (const member of members) member.ended = true;
    return consumed;
  }

  /** After the end: what the head's partitions still hold is redelivery (see NodeTask.drain). */
  async drain(max: number, timeoutMs: number): Promise<void> {
    const head = this.deps.tasks[0]!;
    await head.drain(max, timeoutMs);
    await this.flushSinks(max, true);
    await this.written();
    await this.write(true);
  }

  /** Writes what the sinks gathered, then commits what the commit interval holds back (a graceful stop). */
  async commitPending(): Promise<void> {
    await this.flushSinks(Number.POSITIVE_INFINITY, true);
    await this.written();
    if (this.heldCommit || this.deps.producer.outputs.length > 0) await this.write(true);
  }

  /**
   * The chain's sinks write what they were handed as a store likes it, in batches: a sink starts
   * a write as soon as it is not writing, and what it is handed meanwhile waits for the next. A
   * batch is thus what came while the last was written (as a sink reading its own topic sees
   * it): a few rows when records trickle, thousands when they pour. The write goes on while the
   * chain does (a store's write waits on the network and on the store applying it); the chain
   * waits only when a sink has `max` records waiting, or when `force`d (the end, a stop, an
   * exactly-once step, a commit overdue). Writing each step's few rows instead made an embedded
   * replay of 3 tickers 33 s instead of 3.5 s.
   */
  private async flushSinks(max: number, force: boolean): Promise<void> {
    const { sinks, tasks } = this.deps;
    if (!sinks || sinks.size === 0) return;
    for (const task of tasks) {
      const input = sinks.get(task.id);
      if (!input || input.size === 0) continue;
      const last = this.writing.get(task.id);
      if (last) {
        // Its write, when done, starts the next with what waits (pump).
        if (!force && input.size < max) continue;
        await last;
      }
      this.throwIfFailed();
      if (input.size > 0 && !this.writing.has(task.id)) this.pump(task, input);
    }
  }

  /**
   * Writes what `input` holds, then again what came meanwhile, until it holds nothing. Only pump
   * sets or clears a sink's entry in `writing`, and never while one is there.
   */
  private pump(task: NodeTask, input: ChainInput): void {
    const write = task.step(Number.POSITIVE_INFINITY, 0).then(
      () => {
        this.writing.delete(task.id);
        if (input.size > 0 && !this.failure) this.pump(task, input);
      },
      (error: unknown) => {
        this.writing.delete(task.id);
        this.failure ??= { error };
      },
    );
    this.writing.set(task.id, write);
  }

  /** Until every sink batch being written is written; throws if one failed. */
  private async written(): Promise<void> {
    // A write, when done, may start the next (pump): until none is left.
    while (this.writing.size > 0 && !this.failure) await Promise.all([...this.writing.values()]);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Whether a sink still holds, or is writing, records the head's input offsets cover. */
  private sinksHold(): boolean {
    if (this.writing.size > 0) return true;
    for (const input of this.deps.sinks?.values() ?? []) if (input.size > 0) return true;
    return false;
  }

  private async write(force = false): Promise<void> {
    const { producer, head, out } = this.deps;
    const outputs = producer.outputs.splice(0);
    const changes = producer.changes.splice(0);
    const commit = head.pending;
    head.pending = null;
    if (!commit) {
      if (outputs.length > 0 || changes.length > 0) {
        // A sink's batch written in an idle step: its dead letters belong to the held commit.
        if (!this.heldCommit) throw new Error(`chain ${this.id}: outputs without an input to commit`);
        await out.send(outputs);
        for (const m of changes) this.held.set(`${m.topic}\0${m.key}`, m);
      }
      // Idle: what the interval held back is committed once it is due.
      if (this.heldCommit && this.commitDue(force)) await this.commitHeld();
      return;
    }
    if (!out.transaction) {
      // As a single node does: outputs, then state (a crash in between replays input onto the
      // older state, which operators take as redelivery), then the input offsets. Within the
      // commit interval, state and offsets wait; a key's latest state replaces what it held.
      await out.send(outputs);
      for (const m of changes) this.held.set(`${m.topic}\0${m.key}`, m);
      if (!this.heldCommit) this.heldSince = performance.now();
      this.heldCommit = commit;
      if (this.commitDue(force)) await this.commitHeld();
      return;
    }
    const tx = await out.transaction();
    try {
      await tx.send(outputs);
      await tx.send(changes);
      await tx.commit(head.real, commit.marks);
    } catch (err) {
      if (err instanceof TransactionError && err.fatal) throw err;
      await tx.abort();
      if (!head.real.rewind) throw new Error(`chain ${this.id}: transaction aborted and the consumer cannot rewind`);
      // Every node of the chain sees a new assignment and rebuilds its state from its changelog.
      head.real.rewind();
      const reason = message(err);
      this.deps.log(`chain ${this.id}: transaction aborted (${reason}); reading its input again`);
      this.deps.onAbort(reason);
    }
  }

  /**
   * `force`d (then commitHeld waits for the sinks' writes), or the interval has passed and no sink
   * holds or is writing records the offsets would cover.
   */
  private commitDue(force: boolean): boolean {
    return force || (performance.now() >= this.nextCommit && !this.sinksHold());
  }

  private async commitHeld(): Promise<void> {
    const { out, head, producer } = this.deps;
    // The sinks' batches this commit covers are written first, and their dead letters sent.
    await this.written();
    await out.send(producer.outputs.splice(0));
    const changes = [...this.held.values()];
    const commit = this.heldCommit!;
    this.held.clear();
    this.heldCommit = null;
    await out.send(changes);
    await head.real.commit(commit.marks);
    this.nextCommit = performance.now() + (this.deps.commitIntervalMs ?? 0);
  }
}
