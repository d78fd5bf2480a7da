// TestDriver: run a pipeline, or one operator, in-process and step by step — the way
// Kafka Streams' TopologyTestDriver works. Pipe records in, advance event time, read the
// output topics, the dead letters and the state. No broker, no sleeps: run() returns when
// every node is idle.
import { type DeadLetter, type Schema, schemas } from '../schemas/index.js';
import { type Control, controlMessages, END_OF_TIME, EXTERNAL_PRODUCER, HEADER } from './control.js';
import { deadLetterMessage, jsonPayload } from './dead-letter.js';
import { checkRecord } from './emitter.js';
import { PipelineMetrics } from './metrics.js';
import { NodeTask } from './node-task.js';
import type { AnyOperator, Ports } from './operator.js';
import { definePipeline, type Pipeline } from './pipeline.js';
import type { StreamRecord } from './record.js';
import { topicSpecs } from './runner.js';
import { avroSerde, type Serde } from './serde.js';
import { SourceTask } from './source-task.js';
import type { Producer } from './transport.js';
import { MemoryTransport } from './transports/memory/memory-transport.js';

export interface PipeOptions<T> {
  /** Event time; default the value's `ts`. */
  timestamp?: number | ((value: T) => number);
  key?: string;
}

export class TestDriver {
  readonly metrics: PipelineMetrics;
  readonly transport = new MemoryTransport({ retainAll: true, inProcess: false });
  private tasks: NodeTask[] = [];
  private producer!: Producer;
  private readonly log: string[] = [];

  private constructor(
    readonly pipeline: Pipeline,
    private readonly serde: Serde,
  ) {
    this.metrics = new PipelineMetrics(pipeline.name);
  }

  static async create(pipeline: Pipeline, opts: { serde?: Serde } = {}): Promise<TestDriver> {
    const d = new TestDriver(pipeline, opts.serde ?? avroSerde);
    await d.transport.ensureTopics(topicSpecs(pipeline));
    // As the runner does: a registry serde registers the topics' schemas here.
    await d.serde.prepare([...pipeline.topics.values()].map((t) => ({ name: t.name, schema: t.schema })));
    d.producer = await d.transport.producer();
    const signal = new AbortController().signal;
    for (const node of pipeline.nodes.filter((n) => n.operator.kind !== 'source')) {
      const consumer = await d.transport.consumer({ group: `test.${node.id}`, topics: node.reads });
      d.tasks.push(
        new NodeTask({
          pipeline,
          node,
          inProcess: false,
          serde: d.serde,
          producer: d.producer,
          consumer,
          metrics: d.metrics,
          partitions: (t) => d.transport.partitions(t),
          signal,
          log: (line) => d.log.push(line),
        }),
      );
    }
    return d;
  }

  /**
   * One operator on its own: a transform or sink reads topic `input`; a transform's output
   * ports write topics named after the ports. Run a source with runSource().
   */
  static async forOperator(operator: AnyOperator, opts: { partitions?: number } = {}): Promise<TestDriver> {
    const partitions = opts.partitions ?? 1;
    const topics: { [name: string]: { schema: Schema<unknown>; partitions: number; external?: boolean } } = {};
    if (operator.kind !== 'source') topics.input = { schema: operator.input, partitions, external: true };
    const outputs: Ports = operator.kind === 'sink' ? {} : operator.outputs;
    for (const [port, schema] of Object.entries(outputs)) topics[port] = { schema, partitions };
    const writes = Object.fromEntries(Object.keys(outputs).map((p) => [p, p]));
    const pipeline = definePipeline({
      name: `test-${operator.name}`,
      topics,
      nodes: [{ id: operator.name, operator, ...(operator.kind === 'source' ? {} : { reads: 'input' }), writes }],
    });
    return TestDriver.create(pipeline);
  }

  /** Writes records to a topic as its producer would (or as 'external'). Invalid ones go to its DLQ. */
  async pipe<T>(topic: string, values: T | readonly T[], opts: PipeOptions<T> = {}): Promise<void> {
    const t = this.topic(topic);
    const list = (Array.isArray(values) ? values : [values]) as T[];
    const from = this.producersOf(topic)[0]!;
    const out = [];
    for (const value of list) {
      const timestamp =
        typeof opts.timestamp === 'function'
          ? opts.timestamp(value)
          : (opts.timestamp ?? (value as { ts?: number }).ts ?? Date.now());
      const key = opts.key ?? (value as { symbol?: string }).symbol ?? null;
      const encoded = checkRecord(this.serde, topic, t.schema as Schema<T>, value, true);
      if (typeof encoded === 'string' || encoded === null) {
        // As the engine treats a producer's invalid output: a dead letter with the reason, not a throw.
        out.push(
          this.deadLetterOf(topic, from, `${from} produced an invalid ${t.schema.name}: ${encoded}`, value, key),
        );
        continue;
      }
      out.push({
        topic,
        key,
        value: encoded,
        timestamp,
        headers: { [HEADER.from]: from, [HEADER.sourceTime]: String(Date.now()) },
      });
    }
    await this.producer.send(out);
  }

  private deadLetterOf(topic: string, from: string, reason: string, value: unknown, key: string | null) {
    this.metrics.deadLettered(from, topic, 'validation');
    const letter = { topic, node: from, kind: 'validation', reason, payload: jsonPayload(value) };
    return deadLetterMessage(this.pipeline, letter, { key }).message;
  }

  /** Writes raw bytes (e.g. a corrupt message) as an outside producer would. */
  async pipeRaw(topic: string, value: Buffer | null, opts: { key?: string; timestamp?: number } = {}): Promise<void> {
    this.topic(topic);
    await this.producer.send([
      {
        topic,
        key: opts.key ?? null,
        value,
        timestamp: opts.timestamp ?? Date.now(),
        headers: { [HEADER.from]: this.producersOf(topic)[0]! },
      },
    ]);
  }

  /** Advances event time on a topic (as every producer of it), then runs to idle. */
  async advanceWatermark(topic: string, time: number): Promise<void> {
    await this.control(topic, { type: 'watermark', time });
    await this.run();
  }

  /** Ends the input topics (final watermark and end-of-stream) and runs to idle. */
  async end(): Promise<void> {
    for (const t of this.inputTopics()) {
      await this.control(t, { type: 'watermark', time: END_OF_TIME });
      await this.control(t, { type: 'eos' });
    }
    await this.run();
  }

  /** Runs a source node of the pipeline to its end (bounded sources), then the rest to idle. */
  async runSource(nodeId?: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const node = this.pipeline.nodes.find((n) => n.operator.kind === 'source' && (!nodeId || n.id === nodeId));
    if (!node) throw new Error(`no source node ${nodeId ?? ''}`);
    const task = new SourceTask({
      pipeline: this.pipeline,
      node,
      inProcess: false,
      serde: this.serde,
      producer: this.producer,
      metrics: this.metrics,
      partitions: (t) => this.transport.partitions(t),
      signal: opts.signal ?? new AbortController().signal,
      batchSize: 500,
    });
    await task.run();
    await this.run();
  }

  /** Steps every node, in topological order, until none has anything left to do. */
  async run(): Promise<void> {
    for (let progressed = true; progressed; ) {
      progressed = false;
      for (const task of this.tasks) {
        while ((await task.step(1000, 0)) > 0) progressed = true;
      }
    }
  }

  /** Decoded data records of a topic, in partition then offset order. */
  records<T = unknown>(topic: string): Array<StreamRecord<T>> {
    const schema = this.topic(topic).schema as Schema<T>;
    return this.transport
      .read(topic)
      .filter((m) => m.headers[HEADER.control] === undefined && m.value !== null)
      .map((m) => ({
        key: m.key ?? '',
        value: this.serde.decode(topic, schema, m.value!),
        timestamp: m.timestamp,
        headers: m.headers,
      }));
  }

  /** Decoded data values of a topic. */
  read<T = unknown>(topic: string): T[] {
    return this.records<T>(topic).map((r) => r.value);
  }

  /** The dead letters of a topic. */
  deadLetters(topic: string): DeadLetter[] {
    return this.transport
      .read(this.topic(topic).deadLetterTopic)
      .map((m) => schemas.DeadLetter.type.fromBuffer(m.value!) as DeadLetter);
  }

  /** A node's keyed state. */
  state<S = unknown>(nodeId: string): Map<string, S> {
    const task = this.tasks.find((t) => t.id === nodeId);
    if (!task) throw new Error(`no stateful node ${nodeId}`);
    return new Map(task.state.entries() as Array<[string, S]>);
  }

  /** Lines the nodes logged (retries, failed timers). */
  logs(): string[] {
    return [...this.log];
  }

  private async control(topic: string, control: Control): Promise<void> {
    const partitions = this.topic(topic).partitions;
    for (const from of this.producersOf(topic)) {
      await this.producer.send(controlMessages(topic, partitions, control, from, String(Date.now())));
    }
  }

  private producersOf(topic: string): string[] {
    const t = this.topic(topic);
    return t.external || t.producers.length === 0 ? [EXTERNAL_PRODUCER] : t.producers;
  }

  /** Topics no running node writes: where a test's input comes in. */
  private inputTopics(): string[] {
    const written = new Set(
      this.pipeline.nodes.filter((n) => n.operator.kind !== 'source').flatMap((n) => Object.values(n.writes)),
    );
    return [...this.pipeline.topics.values()].filter((t) => !written.has(t.name)).map((t) => t.name);
  }

  private topic(name: string) {
    const t = this.pipeline.topics.get(name);
    if (!t) throw new Error(`unknown topic ${name}`);
    return t;
  }
}
