// Runs one source node: encodes what it emits, batches it to the transport, forwards its
// watermarks, and closes a bounded stream with a final watermark and end-of-stream.
import type { Schema } from '../schemas/index.js';
import { controlMessages, END_OF_TIME } from './control.js';
import { Emitter } from './emitter.js';
import type { PipelineMetrics } from './metrics.js';
import { countProduced } from './node-task.js';
import type { SourceContext, SourceOperator } from './operator.js';
import type { Pipeline, PipelineNode } from './pipeline.js';
import { message } from './record.js';
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
  private readonly out: OutgoingMessage[] = [];
  private readonly emitter: Emitter;
  private lastWatermark = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: SourceDeps) {
    this.id = deps.node.id;
    this.emitter = new Emitter({ ...deps, out: this.out });
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
        const key = opts.key ?? (value as { symbol?: string }).symbol ?? null;
        // The source time: when the record entered the pipeline (end-to-end latency).
        this.emitter.emit(port, value, { key, timestamp: opts.timestamp, sourceTime: this.now(), lane: 0 });
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
        const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
        this.emitter.deadLetter(this.emitter.topicOf(port), 'source', reason, bytes, { key: null });
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
      stats.lastError = message(err);
      throw err;
    }
  }

  // One source time per millisecond: records emitted together share it (and their headers).
  private lastNow = { ms: -1, text: '' };
  private now(): string {
    const ms = Date.now();
    if (this.lastNow.ms !== ms) this.lastNow = { ms, text: String(ms) };
    return this.lastNow.text;
  }

  private pushControl(control: { type: 'watermark'; time: number } | { type: 'eos' }): void {
    const now = String(Date.now());
    for (const topic of new Set(Object.values(this.deps.node.writes))) {
      this.out.push(...controlMessages(topic, this.deps.partitions(topic), control, this.id, now));
    }
  }

  private async flush(): Promise<void> {
    if (this.out.length === 0) return;
    const batch = this.out.splice(0);
    countProduced(this.deps.metrics, this.id, batch);
    await this.deps.producer.send(batch);
  }
}
