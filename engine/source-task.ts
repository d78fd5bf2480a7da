// Runs one source node: encodes what it emits, batches it to the transport, forwards its
// watermarks, and closes a bounded stream with a final watermark and end-of-stream.
import type { Schema } from '../schemas/index.js';
import { controlMessages, END_OF_TIME, HEADER } from './control.js';
import { deadLetterMessage, jsonPayload } from './dead-letter.js';
import type { PipelineMetrics } from './metrics.js';
import { checkRecord, countProduced } from './node-task.js';
import type { SourceContext, SourceOperator } from './operator.js';
import type { Pipeline, PipelineNode } from './pipeline.js';
import type { Serde } from './serde.js';
import type { OutgoingMessage, Producer } from './transport.js';

export interface SourceDeps {
  pipeline: Pipeline;
  /** Send records unencoded (in-process transport). */
  inProcess: boolean;
  node: PipelineNode;
  serde: Serde;
  producer: Producer;
  metrics: PipelineMetrics;
  partitions: (topic: string) => number;
  signal: AbortSignal;
  batchSize: number;
}

export interface SourceProgress {
  done: number;
  total: number | null;
}

export class SourceTask {
  readonly id: string;
  readonly progress: SourceProgress = { done: 0, total: null };
  private out: OutgoingMessage[] = [];
  private lastWatermark = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: SourceDeps) {
    this.id = deps.node.id;
  }

  async run(): Promise<void> {
    const { node, signal, metrics } = this.deps;
    const op = node.operator as SourceOperator<{ [port: string]: Schema<unknown> }>;
    const stats = metrics.node(this.id);
    stats.status = 'running';
    const ctx: SourceContext<{ [port: string]: Schema<unknown> }> = {
      node: this.id,
      signal,
      emit: (port, value, opts) => {
        const topic = this.topicOf(port);
        const schema = op.outputs[port]!;
        const encoded = checkRecord(this.deps.serde, topic, schema, value, !this.deps.inProcess);
        const key = opts.key ?? (value as { symbol?: string }).symbol ?? null;
        if (typeof encoded === 'string') {
          this.deadLetter(topic, `${schema.name} rejected: ${encoded}`, jsonPayload(value), key);
        } else {
          const headers = this.headers();
          this.out.push(
            encoded === null
              ? { topic, key, value: null, record: value, timestamp: opts.timestamp, headers }
              : { topic, key, value: encoded, timestamp: opts.timestamp, headers },
          );
        }
        return this.out.length >= this.deps.batchSize ? this.flush() : undefined;
      },
      watermark: async (time) => {
        if (time <= this.lastWatermark) return;
        this.lastWatermark = time;
        this.pushControl({ type: 'watermark', time });
        metrics.setWatermark(this.id, time);
        await this.flush();
      },
      flush: () => this.flush(),
      deadLetter: (port, reason, payload) => {
        this.deadLetter(this.topicOf(port), reason, Buffer.isBuffer(payload) ? payload : Buffer.from(payload), null);
      },
      progress: (done, total) => {
        this.progress.done = done;
        this.progress.total = total ?? null;
      },
    };
    try {
      await op.run(ctx);
      await this.flush();
      if (!signal.aborted) {
        // A bounded source that finished closes every window downstream, then says so.
        this.pushControl({ type: 'watermark', time: END_OF_TIME });
        this.pushControl({ type: 'eos' });
        await this.flush();
      }
      stats.status = 'ended';
    } catch (err) {
      stats.status = 'failed';
      stats.lastError = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }

  // One headers object per millisecond: records emitted together share it.
  private cachedHeaders: { at: number; headers: { [name: string]: string } } = { at: -1, headers: {} };
  private headers(): { [name: string]: string } {
    const now = Date.now();
    if (this.cachedHeaders.at !== now) {
      this.cachedHeaders = { at: now, headers: { [HEADER.from]: this.id, [HEADER.sourceTime]: String(now) } };
    }
    return this.cachedHeaders.headers;
  }

  private topicOf(port: string): string {
    const topic = this.deps.node.writes[port];
    if (!topic) throw new Error(`${this.id}: no output port ${port}`);
    return topic;
  }

  private pushControl(control: { type: 'watermark'; time: number } | { type: 'eos' }): void {
    const now = String(Date.now());
    for (const topic of new Set(Object.values(this.deps.node.writes))) {
      this.out.push(...controlMessages(topic, this.deps.partitions(topic), control, this.id, now));
    }
  }

  private deadLetter(topic: string, reason: string, payload: Buffer, key: string | null): void {
    const { message } = deadLetterMessage(
      this.deps.pipeline,
      { topic, node: this.id, kind: 'source', reason, payload },
      { key },
    );
    this.out.push(message);
    this.deps.metrics.deadLettered(this.id, topic, 'source');
  }

  private async flush(): Promise<void> {
    if (this.out.length === 0) return;
    const batch = this.out;
    this.out = [];
    countProduced(this.deps.metrics, this.id, batch);
    await this.deps.producer.send(batch);
  }
}
