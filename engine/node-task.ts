// Runs one transform or sink node: poll a batch, decode, process, encode, produce, commit.
// Offsets are committed only after the node's outputs are acknowledged (at-least-once; with the
// changelog at most once per commit interval), or with them in one transaction when the producer
// is transactional (exactly-once, Kafka).
import pRetry from 'p-retry';
import type { Schema } from '../schemas/index.js';
import { type Control, controlMessages, controlOf, endedIn, endMark, HEADER, InputClock } from './control.js';
import { jsonPayload } from './dead-letter.js';
import { Emitter } from './emitter.js';
import type { PipelineMetrics } from './metrics.js';
import {
  type AnyOperator,
  type EmitOptions,
  type KeyedState,
  type SinkOperator,
  type TransformContext,
  type TransformOperator,
  UndeclaredStateError,
} from './operator.js';
import { DLQ_SUFFIX, type Pipeline, type PipelineNode } from './pipeline.js';
import { message, RecordError, type StreamRecord } from './record.js';
import type { Serde } from './serde.js';
import { StateStore, TimerQueue } from './state.js';
import { type ChangelogEntry, decodeChangelogEntry, encodeChangelogEntry, type StateCodec } from './state-codec.js';
import {
  type CommitMarks,
  type Consumer,
  type IncomingMessage,
  type OutgoingMessage,
  type Producer,
  TransactionError,
} from './transport.js';

export interface TaskDeps {
  pipeline: Pipeline;
  /** Send records unencoded (in-process transport). */
  inProcess: boolean;
  node: PipelineNode;
  serde: Serde;
  producer: Producer;
  consumer: Consumer;
  metrics: PipelineMetrics;
  partitions: (topic: string) => number;
  signal: AbortSignal;
  log: (message: string) => void;
  /**
   * Write keyed state and timers to this compacted topic (one partition per input partition),
   * and restore them from it when the group assigns partitions. Needs co-partitioned topics.
   */
  changelog?: { topic: string; read: (partitions: readonly number[]) => Promise<IncomingMessage[]> };
  /**
   * In a chain (engine/chains.ts): the topics whose records the chain hands on in-process
   * (`local`; sent with the record itself and the lane they belong to) and, of those, the ones
   * never written to the transport (`fused`; not encoded).
   */
  chained?: { local: ReadonlySet<string>; fused: ReadonlySet<string> };
  /**
   * At-least-once: write the changelog and commit the input offsets at most this often (ms);
   * outputs still go every step. A key changed several times within an interval is written
   * once, with its latest state. 0 (default): every step. Exactly-once commits every step.
   */
  commitIntervalMs?: number;
}

/** How often an idle member of a group asks which partitions have ended (see NodeTask.groupEnds). */
const GROUP_CHECK_MIN_MS = 1000;
const GROUP_CHECK_MAX_MS = 10_000;

type AnyTransform = TransformOperator<unknown, Record<string, Schema<unknown>>, unknown>;

export class NodeTask {
  readonly id: string;
  ended = false;
  readonly state: StateStore<unknown>;
  /** The operator's state codec (changelog values), or undefined for JSON. */
  private readonly codec: StateCodec<unknown> | undefined;
  /** Timers per lane (see InputClock): a lane's timers fire when its watermark passes. */
  private readonly timers = new Map<number, TimerQueue>();
  private readonly clock: InputClock;
  /** Partition (= lane) each key was last seen on: where its changelog record goes. */
  private readonly keyLane = new Map<string, number>();
  private currentLane = 0;
  /** Assignment generation last reconciled (see Consumer.assignment). */
  private generation = 0;
  private owned: Set<number> | null = null;
  private readonly out: OutgoingMessage[] = [];
  private readonly emitter: Emitter;
  private readonly externalInputs: Set<string>;
  private readonly outputTopics: string[];
  private readonly hasTimers: boolean;
  // The record (or timer) being processed; its key is stateView.key, which ctx.state, emit
  // defaults and timers all use.
  private currentTimestamp = 0;
  private currentSourceTime: string | undefined;
  private readonly stateView: ReturnType<StateStore<unknown>['view']>;
  private readonly lanes = new WeakMap<StreamRecord<unknown>, number>();
  /** Chained and batch-processing: the lane of each key of the batch, for its outputs' lane. */
  private batchLanes: Map<string, number> | null = null;
  private readonly ctx: TransformContext<Record<string, Schema<unknown>>, unknown>;
  /** Committed with each partition's offset: which producers had ended it (see endMark). */
  private readonly marks: CommitMarks = (topic, partition) => endMark(this.clock.endedBy(topic, partition));
  /** When to next ask the group which partitions have ended (see groupEnds), and how often. */
  private nextGroupCheck = 0;
  private groupCheckEveryMs = GROUP_CHECK_MIN_MS;
  private groupCheckFailed = false;
  /** At-least-once with a commit interval: processed input whose offsets (and state) are not yet committed. */
  private uncommitted = false;
  private nextCommit = 0;

  constructor(private readonly deps: TaskDeps) {
    const { node, pipeline } = deps;
    this.id = node.id;
    this.externalInputs = new Set(node.reads.filter((t) => pipeline.topics.get(t)?.external));
    this.outputTopics = [...new Set(Object.values(node.writes))];
    const counts = new Set([...node.reads, ...this.outputTopics].map((t) => pipeline.topics.get(t)?.partitions));
    this.clock = new InputClock(
      node.reads.map((topic) => {
        const t = pipeline.topics.get(topic)!;
        return { topic, partitions: t.partitions, producers: t.external ? ['external'] : t.producers };
      }),
      counts.size === 1,
    );
    if (deps.changelog && !this.clock.lanes) {
      throw new Error(`node ${node.id}: a changelog needs its input and output topics to have equal partition counts`);
    }
    this.state = new StateStore<unknown>({ trackChanges: deps.changelog !== undefined });
    this.stateView = this.state.view();
    this.emitter = new Emitter({ ...deps, out: this.out });
    if (deps.consumer.assignment) {
      this.owned = new Set();
      this.clock.setActive(this.owned);
    }
    this.hasTimers = node.operator.kind === 'transform' && node.operator.onTimer !== undefined;
    this.codec = node.operator.kind === 'transform' ? node.operator.state?.codec : undefined;
    const self = this;
    this.ctx = {
      node: node.id,
      emit: (port, value, opts) => this.emit(port, value, opts),
      state: declaresState(node.operator) ? this.stateView : undeclaredState(node.id, node.operator.name),
      get watermark() {
        return self.clock.laneWatermark(self.currentLane);
      },
      setTimer: (time) => {
        this.timerQueue(this.currentLane).add(this.stateView.key, time);
        this.state.touch(this.stateView.key);
      },
    };
  }

  private timerQueue(lane: number): TimerQueue {
    let q = this.timers.get(lane);
    if (!q) {
      q = new TimerQueue();
      this.timers.set(lane, q);
    }
    return q;
  }

  get watermark(): number {
    return this.clock.watermark;
  }

  /**
   * Partitions of its input it owns now (a chain's node: its own input's, as its head owns them;
   * see ChainInput), or null for all of them (memory).
   */
  get ownedPartitions(): ReadonlyArray<{ topic: string; partition: number }> | null {
    return this.deps.consumer.assignment?.owned() ?? null;
  }

  /** Processes up to `max` messages; returns how many were consumed (0 when none arrived). */
  async step(max: number, timeoutMs: number): Promise<number> {
    let msgs = await this.deps.consumer.poll(max, timeoutMs);
    const assignment = this.deps.consumer.assignment;
    if (assignment && assignment.generation !== this.generation) await this.reassigned(assignment);
    // Records of partitions given away since poll returned them are their new owner's.
    if (this.owned) msgs = msgs.filter((m) => this.owned!.has(this.clock.laneOf(m.partition)));
    if (msgs.length === 0) {
      await this.groupEnds();
      // Idle: what the interval held back is committed once it is due.
      if (this.uncommitted && performance.now() >= this.nextCommit) await this.commitAfterOutputs();
      return 0;
    }
    const started = performance.now();
    const { metrics } = this.deps;
    let pending: Array<StreamRecord<unknown>> = [];
    let dataCount = 0;
    // Timers must see data and watermarks in arrival order. Without timers, holding the
    // watermarks back to the end of the batch is safe (a watermark is only a lower bound)
    // and lets a sink or a batch model see the whole batch at once.
    const interleave = this.hasTimers;
    const controls: Array<[IncomingMessage, Control]> = [];
    for (const m of msgs) {
      const control = controlOf(m);
      if (control) {
        if (!interleave) {
          controls.push([m, control]);
          continue;
        }
        await this.flush(pending);
        pending = [];
        this.onControl(m, control);
        continue;
      }
      dataCount++;
      const record = this.decode(m);
      if (record) pending.push(record);
    }
    await this.flush(pending);
    for (const [m, control] of controls) this.onControl(m, control);
    metrics.consumed(this.id, dataCount);
    const { producer } = this.deps;
    if (producer.transaction) await this.commitTransaction(producer.transaction.bind(producer));
    else await this.commitAfterOutputs(this.ended);
    metrics.batch(this.id, performance.now() - started);
    if (this.clock.watermark > Number.NEGATIVE_INFINITY) metrics.setWatermark(this.id, this.clock.watermark);
    return msgs.length;
  }

  /**
   * At-least-once: outputs, then the changelog, then the input offsets, each once acknowledged.
   * Within a commit interval only the outputs go (unless `force`d: the end, a stop); the state
   * and offsets written later cover every step since, so a crash replays input from the last
   * commit onto the state of that commit (redelivery, as after a crash between steps).
   */
  private async commitAfterOutputs(force = false): Promise<void> {
    if (this.out.length > 0) {
      const batch = this.out.splice(0);
      countProduced(this.deps.metrics, this.id, batch);
      await this.deps.producer.send(batch);
    }
    const interval = this.deps.commitIntervalMs ?? 0;
    if (!force && interval > 0 && performance.now() < this.nextCommit) {
      this.uncommitted = true;
      return;
    }
    // State after the outputs: a crash in between replays input onto the older state, which
    // the operators take as redelivery; the other order could lose the outputs.
    if (this.deps.changelog) await this.deps.producer.send(this.changes(this.deps.changelog.topic));
    await this.deps.consumer.commit(this.marks);
    this.uncommitted = false;
    this.nextCommit = performance.now() + interval;
  }

  /** Commits what a commit interval still holds back (a graceful stop): nothing is read twice after it. */
  async commitPending(): Promise<void> {
    if (this.uncommitted) await this.commitAfterOutputs(true);
  }

  /**
   * Exactly-once: outputs, dead letters, changelog records and input offsets in one transaction.
   * If it fails it is aborted (read_committed readers never see its records) and the input is
   * read again from the last commit onto the state restored from the changelog, which holds only
   * committed changes. A fatal failure (fenced by a newer instance) fails the node.
   */
  private async commitTransaction(begin: NonNullable<Producer['transaction']>): Promise<void> {
    const batch = this.out.splice(0);
    const tx = await begin();
    try {
      await tx.send(batch);
      if (this.deps.changelog) await tx.send(this.changes(this.deps.changelog.topic));
      await tx.commit(this.deps.consumer, this.marks);
    } catch (err) {
      if (err instanceof TransactionError && err.fatal) throw err;
      await tx.abort();
      if (!this.deps.consumer.rewind) throw new Error(`${this.id}: transaction aborted and the consumer cannot rewind`);
      this.deps.consumer.rewind();
      this.deps.log(`${this.id}: transaction aborted (${message(err)}); reading its input again`);
      this.deps.metrics.node(this.id).lastError = message(err);
      return;
    }
    countProduced(this.deps.metrics, this.id, batch);
  }

  private decode(m: IncomingMessage): StreamRecord<unknown> | null {
    const schema = (this.deps.node.operator as { input: Schema<unknown> }).input;
    let value: unknown = m.record;
    try {
      if (value === undefined) {
        if (m.value === null) throw new Error('empty message value');
        value = this.deps.serde.decode(m.topic, schema, m.value);
      }
    } catch (err) {
      this.emitter.deadLetter(m.topic, 'decode', `cannot decode as ${schema.name}: ${message(err)}`, m.value, m);
      return null;
    }
    // Records written inside the pipeline were checked when produced; outside ones now.
    if (this.externalInputs.has(m.topic)) {
      const problems = schema.validate(value);
      if (problems.length > 0) {
        this.emitter.deadLetter(m.topic, 'validation', problems.join('; '), m.value, m);
        return null;
      }
    }
    const record: StreamRecord<unknown> = { key: m.key ?? '', value, timestamp: m.timestamp, headers: m.headers };
    if (m.partition !== 0 && this.clock.lanes) this.lanes.set(record, m.partition);
    return record;
  }

  private async flush(records: Array<StreamRecord<unknown>>): Promise<void> {
    if (records.length === 0) return;
    const op = this.deps.node.operator;
    if (op.kind === 'sink') return this.write(op as SinkOperator<unknown>, records);
    const t = op as AnyTransform;
    if (t.processBatch) {
      const mark = this.out.length;
      const first = records[0]!;
      this.enter(first.key, first.timestamp, first.headers?.[HEADER.sourceTime], this.lanes.get(first) ?? 0);
      if (this.deps.chained) this.batchLanes = new Map(records.map((r) => [r.key, this.lanes.get(r) ?? 0]));
      try {
        await t.processBatch(records, this.ctx);
      } catch (err) {
        this.out.length = mark;
        for (const r of records) this.rejectInput(r, err);
      } finally {
        this.batchLanes = null;
      }
      return;
    }
    for (const r of records) {
      const mark = this.out.length;
      const key = t.stateKey ? t.stateKey(r.value) : r.key;
      this.enter(key, r.timestamp, r.headers?.[HEADER.sourceTime], this.lanes.get(r) ?? 0);
      try {
        t.process!(r, this.ctx);
      } catch (err) {
        // Outputs of a failed record are discarded with it: it goes whole to the DLQ.
        this.out.length = mark;
        this.rejectInput(r, err);
      }
    }
  }

  private async write(sink: SinkOperator<unknown>, records: Array<StreamRecord<unknown>>): Promise<void> {
    const stats = this.deps.metrics.node(this.id);
    // A stop writes what a chained sink still holds (ChainTask.commitPending): once, no retries.
    const stopping = this.deps.signal.aborted;
    let written = false;
    try {
      await pRetry(
        async () => {
          await sink.write(records, { node: this.id });
          written = true;
        },
        {
          retries: stopping ? 0 : (sink.retry?.retries ?? Number.POSITIVE_INFINITY),
          minTimeout: sink.retry?.minDelayMs ?? 100,
          maxTimeout: sink.retry?.maxDelayMs ?? 10_000,
          ...(stopping ? {} : { signal: this.deps.signal }),
          // A RecordError names bad data: retrying will not help, so isolate it instead.
          shouldRetry: ({ error }) => !(error instanceof RecordError),
          onFailedAttempt: ({ error, attemptNumber }) => {
            if (error instanceof RecordError || this.deps.signal.aborted) return;
            stats.status = 'retrying';
            stats.lastError = error.message;
            this.deps.log(`${this.id}: write failed (attempt ${attemptNumber}), retrying: ${error.message}`);
          },
        },
      );
      if (stats.status === 'retrying') stats.status = 'running';
    } catch (err) {
      // p-retry throws when the run stopped during an attempt, even one that succeeded.
      if (written) return;
      if (!(err instanceof RecordError)) throw err;
      if (records.length === 1) {
        this.rejectInput(records[0]!, err);
        return;
      }
      // Bisect to find the bad record(s); the good ones are still written.
      const half = Math.ceil(records.length / 2);
      await this.write(sink, records.slice(0, half));
      await this.write(sink, records.slice(half));
      return;
    }
    const now = Date.now();
    for (const r of records) {
      const src = r.headers?.[HEADER.sourceTime];
      if (src !== undefined) {
        this.deps.metrics.sinkLatency(this.id, now - Number(src));
        break; // one sample per batch: they share a source batch
      }
    }
  }

  private onControl(m: IncomingMessage, control: Control): void {
    const from = m.headers[HEADER.from] ?? 'external';
    let advanced = true;
    if (control.type === 'eos') {
      this.clock.end(m.topic, m.partition, from);
      // The other members of the group may be ending too: ask soon (groupEnds).
      this.nextGroupCheck = 0;
      this.groupCheckEveryMs = GROUP_CHECK_MIN_MS;
    } else advanced = this.clock.observe(m.topic, m.partition, from, control.time);
    if (!advanced) return;
    this.laneAdvanced(this.clock.laneOf(m.partition), m.headers[HEADER.sourceTime], control.type === 'eos');
  }

  /** A lane's watermark moved: fire its due timers, pass the watermark on (and end-of-stream once it ended). */
  private laneAdvanced(lane: number, sourceTime: string | undefined, eos: boolean): void {
    // Only the lane's own partition of each output (all of them without lanes).
    const only = this.clock.lanes ? lane : undefined;
    const wm = this.clock.laneWatermark(lane);
    const op = this.deps.node.operator;
    if (op.kind === 'transform') {
      const t = op as AnyTransform;
      for (const timer of this.timers.get(lane)?.due(wm) ?? []) {
        const mark = this.out.length;
        this.enter(timer.key, timer.time, sourceTime, lane);
        this.state.touch(timer.key);
        try {
          t.onTimer?.(timer, this.ctx);
        } catch (err) {
          this.out.length = mark;
          this.deps.log(`${this.id}: timer for ${timer.key} at ${timer.time} failed: ${message(err)}`);
          this.deps.metrics.node(this.id).lastError = message(err);
        }
      }
      for (const topic of this.outputTopics) {
        const partitions = this.deps.partitions(topic);
        this.out.push(
          ...controlMessages(topic, partitions, { type: 'watermark', time: wm }, this.id, sourceTime, only),
        );
      }
    }
    if (eos && this.clock.laneEnded(lane) && op.kind === 'transform') {
      for (const topic of this.outputTopics) {
        this.out.push(
          ...controlMessages(topic, this.deps.partitions(topic), { type: 'eos' }, this.id, undefined, only),
        );
      }
    }
    if (this.clock.ended) this.ended = true;
  }

  /**
   * After the node has ended: reads and commits, without processing, what its partitions still
   * hold. Every producer had ended them, so it is redelivery (a worker killed after producing,
   * before committing its input, produces again from there: its end-of-stream too); processed, its
   * data would only be late. Left unread, the group would show it as lag forever. Shared groups
   * (Kafka) only: a memory topic holds nothing after its end.
   */
  async drain(max: number, timeoutMs: number): Promise<void> {
    if (!this.deps.consumer.assignment) return;
    let data = 0;
    for (let round = 0; round < 20; round++) {
      const msgs = await this.deps.consumer.poll(max, timeoutMs);
      if (msgs.length === 0) break;
      data += msgs.filter((m) => controlOf(m) === null).length;
      await this.commitAfterOutputs(true);
    }
    if (data > 0) this.deps.log(`${this.id}: skipped ${data} records redelivered after the end of its input`);
  }

  /**
   * On Kafka a member of a group sees end-of-stream only on the partitions it owns, and the next
   * owner of a partition that ended never sees it (the group read past it). When idle, a member
   * asks the group which partitions have ended (the marks committed with their offsets) and
   * takes those ends as its own: once every input partition has ended, the node has ended, in
   * every member. A node whose lanes span every partition (no lanes) then passes the watermark
   * and end-of-stream on itself: no single member saw all of its input end. Each member that
   * finds it so does (a repeated end-of-stream is harmless), after every member's outputs, which
   * were acknowledged before the marks were committed. Asked every second while some partition
   * has ended, less and less often (up to GROUP_CHECK_MAX_MS) while none has.
   */
  private async groupEnds(): Promise<void> {
    const { consumer } = this.deps;
    if (!consumer.committedMarks || this.ended || performance.now() < this.nextGroupCheck) return;
    const partitions = this.clock.partitions();
    let marks: Array<string | null>;
    try {
      marks = await consumer.committedMarks(partitions);
    } catch (err) {
      if (!this.groupCheckFailed) this.deps.log(`${this.id}: could not read the group's commits: ${message(err)}`);
      this.groupCheckFailed = true;
      this.nextGroupCheck = performance.now() + GROUP_CHECK_MAX_MS;
      return;
    }
    let anyEnded = false;
    const before = new Map(this.clock.laneIds().map((l) => [l, this.clock.laneEnded(l)]));
    partitions.forEach(({ topic, partition }, i) => {
      const ended = endedIn(marks[i] ?? null);
      if (ended.length > 0) anyEnded = true;
      const seen = new Set(this.clock.endedBy(topic, partition));
      for (const producer of ended) if (!seen.has(producer)) this.clock.end(topic, partition, producer);
    });
    this.groupCheckEveryMs = anyEnded ? GROUP_CHECK_MIN_MS : Math.min(GROUP_CHECK_MAX_MS, this.groupCheckEveryMs * 2);
    this.nextGroupCheck = performance.now() + this.groupCheckEveryMs;
    if (!this.clock.lanes && !before.get(0) && this.clock.laneEnded(0)) this.laneAdvanced(0, undefined, true);
    if (this.clock.ended) this.ended = true;
    if (this.out.length === 0) return;
    const { producer } = this.deps;
    if (producer.transaction) await this.commitTransaction(producer.transaction.bind(producer));
    else await this.commitAfterOutputs(this.ended);
  }

  /**
   * The group changed what this instance owns. Its keyed state and timers are dropped and
   * rebuilt from the changelog for the partitions it owns now, and their clocks restart from
   * the records it reads next (the committed offset): it continues where the last owner stopped.
   */
  private async reassigned(assignment: NonNullable<Consumer['assignment']>): Promise<void> {
    this.generation = assignment.generation;
    const lanes = new Set<number>();
    for (const tp of assignment.owned()) {
      if (this.deps.node.reads.includes(tp.topic)) lanes.add(this.clock.laneOf(tp.partition));
    }
    this.owned = lanes;
    this.clock.setActive(lanes);
    for (const lane of this.clock.laneIds()) this.clock.resetLane(lane);
    await this.restoreEnds(assignment.owned().filter((tp) => this.deps.node.reads.includes(tp.topic)));
    if (!this.deps.changelog) return;
    this.state.drop(() => false);
    this.timers.clear();
    this.keyLane.clear();
    if (lanes.size === 0) return;
    const started = performance.now();
    const records = await this.deps.changelog.read([...lanes].sort((a, b) => a - b));
    // The latest record of a key wins (the topic is compacted, but not necessarily yet).
    const latest = new Map<string, IncomingMessage>();
    for (const m of records) if (m.key !== null) latest.set(m.key, m);
    for (const [key, m] of latest) {
      if (m.value === null) continue;
      let entry: ChangelogEntry;
      try {
        entry = decodeChangelogEntry(m.value, this.codec);
      } catch (err) {
        throw new Error(`${this.id}: cannot restore key ${m.key} from ${this.deps.changelog.topic}: ${message(err)}`, {
          cause: err,
        });
      }
      this.state.put(key, entry.s);
      this.keyLane.set(key, m.partition);
      for (const time of entry.t ?? []) this.timerQueue(m.partition).add(key, time);
    }
    this.deps.log(
      `${this.id}: restored ${this.state.size} keys of partitions ${[...lanes].join(',')} from ${this.deps.changelog.topic} (${records.length} records, ${Math.round(performance.now() - started)} ms)`,
    );
  }

  /**
   * Which producers had ended the partitions this member now owns, from the group's commits:
   * its clock must know before it commits these partitions again, since each commit's marks
   * replace the last (a partition of two producers, one ended before the move, would lose that
   * end and the node would never end). Retried; a group that cannot say fails the node, as a
   * changelog that cannot be read does.
   */
  private async restoreEnds(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    const { consumer } = this.deps;
    if (!consumer.committedMarks || partitions.length === 0) return;
    const read = consumer.committedMarks.bind(consumer);
    const marks = await pRetry(() => read(partitions), {
      retries: 4,
      minTimeout: 500,
      signal: this.deps.signal,
      onFailedAttempt: ({ error, attemptNumber }) =>
        this.deps.log(`${this.id}: reading the group's commits (attempt ${attemptNumber}/5): ${error.message}`),
    });
    partitions.forEach(({ topic, partition }, i) => {
      for (const producer of endedIn(marks[i] ?? null)) this.clock.end(topic, partition, producer);
    });
    if (this.clock.ended) this.ended = true;
  }

  /** Changelog records for the keys whose state or timers changed since the last call. */
  private changes(topic: string): OutgoingMessage[] {
    const out: OutgoingMessage[] = [];
    for (const key of this.state.takeDirty()) {
      const partition = this.keyLane.get(key);
      if (partition === undefined) continue;
      const s = this.state.get(key);
      const t = this.timers.get(partition)?.timesOf(key) ?? [];
      const value = encodeChangelogEntry(s, t, this.codec);
      out.push({ topic, partition, key, value, timestamp: Date.now() });
    }
    return out;
  }

  private enter(key: string, timestamp: number, sourceTime: string | undefined, lane: number): void {
    this.currentLane = lane;
    if (this.deps.changelog) this.keyLane.set(key, lane);
    this.stateView.key = key;
    this.currentTimestamp = timestamp;
    this.currentSourceTime = sourceTime;
  }

  private emit(port: string, value: unknown, opts?: EmitOptions): void {
    const key = opts?.key ?? symbolOf(value) ?? this.stateView.key;
    this.emitter.emit(port, value, {
      key,
      timestamp: opts?.timestamp ?? this.currentTimestamp,
      sourceTime: this.currentSourceTime,
      // In a chain: the lane of the input with this key (engine/chains.ts).
      lane: this.batchLanes?.get(key) ?? this.currentLane,
    });
  }

  private rejectInput(r: StreamRecord<unknown>, err: unknown): void {
    // A programming error in the operator, not a bad record: the node fails, loudly.
    if (err instanceof UndeclaredStateError) throw err;
    const kind = err instanceof RecordError ? err.kind : 'processing';
    const schema = (this.deps.node.operator as { input: Schema<unknown> }).input;
    const topic = this.deps.node.reads[0]!;
    let payload: Buffer;
    try {
      payload = this.deps.serde.encode(topic, schema, r.value);
    } catch {
      payload = jsonPayload(r.value);
    }
    this.emitter.deadLetter(topic, kind, message(err), payload, { key: r.key, timestamp: r.timestamp });
  }
}

/** Counts the data records of a batch per topic (control records and dead letters aside). */
export function countProduced(metrics: PipelineMetrics, node: string, batch: readonly OutgoingMessage[]): void {
  const counts = new Map<string, number>();
  for (const m of batch) {
    if (m.headers?.[HEADER.control] !== undefined || m.topic.endsWith(DLQ_SUFFIX)) continue;
    counts.set(m.topic, (counts.get(m.topic) ?? 0) + 1);
  }
  for (const [topic, n] of counts) metrics.produced(node, topic, n);
}

function symbolOf(value: unknown): string | undefined {
  const s = (value as { symbol?: unknown } | null)?.symbol;
  return typeof s === 'string' ? s : undefined;
}

function declaresState(op: AnyOperator): boolean {
  return op.kind === 'transform' && op.state !== undefined;
}

/** ctx.state of an operator that declares no state: any use fails the node with what to add. */
function undeclaredState(node: string, operator: string): KeyedState<unknown> {
  const refuse = (): never => {
    throw new UndeclaredStateError(node, operator);
  };
  return { get: refuse, set: refuse, delete: refuse };
}
