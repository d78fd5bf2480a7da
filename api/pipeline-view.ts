// What the API knows of the running pipeline: its DAG (describe()) and the engine's per-node
// metrics, sampled once a second into rates for the `pipeline` query and `pipelineMetrics`.
import type { NodeStats, PipelineDescription, PipelineMetrics, Transport } from '../engine/index.js';

export interface NodeMetrics {
  node: string;
  status: NodeStats['status'];
  recordsIn: number;
  recordsOut: number;
  deadLetters: number;
  /** Over the last sampling interval. */
  recordsInPerSec: number;
  recordsOutPerSec: number;
  /** Mean batch processing time since start, ms. */
  avgBatchMs: number | null;
  lastEventToSinkMs: number | null;
  lag: number;
  watermark: number | null;
  lastError: string | null;
}

export interface MetricsSample {
  at: number;
  nodes: NodeMetrics[];
}

/** The parts of a RunningPipeline the API reads. */
export interface PipelineSource {
  readonly pipeline: { describe(): PipelineDescription };
  readonly metrics: Pick<PipelineMetrics, 'snapshot' | 'registry'>;
  /** Topics read back (dead letters); absent or without `readTopic`: the `deadLetters` query says NOT_AVAILABLE. */
  readonly transport?: Pick<Transport, 'readTopic'>;
}

export class PipelineView {
  readonly description: PipelineDescription;
  private previous: { at: number; stats: Map<string, NodeStats> } | null = null;
  private latest: MetricsSample;
  private readonly listeners = new Set<(sample: MetricsSample) => void>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly source: PipelineSource,
    intervalMs = 1000,
  ) {
    this.description = source.pipeline.describe();
    this.latest = this.sample();
    this.timer = setInterval(() => {
      this.latest = this.sample();
      for (const l of this.listeners) l(this.latest);
    }, intervalMs);
    this.timer.unref();
  }

  get registry() {
    return this.source.metrics.registry;
  }

  /** The latest sample (at most one interval old). */
  current(): MetricsSample {
    return this.latest;
  }

  onSample(listener: (sample: MetricsSample) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  private sample(): MetricsSample {
    const at = Date.now();
    const stats = new Map(this.source.metrics.snapshot().map((s) => [s.node, s]));
    const prev = this.previous;
    const seconds = prev ? Math.max((at - prev.at) / 1000, 1e-3) : 0;
    const rate = (now: number, before: number | undefined) =>
      prev && before !== undefined ? Math.max(0, (now - before) / seconds) : 0;
    const nodes = this.description.nodes.map((n): NodeMetrics => {
      const s = stats.get(n.id);
      const p = prev?.stats.get(n.id);
      return {
        node: n.id,
        status: s?.status ?? 'idle',
        recordsIn: s?.recordsIn ?? 0,
        recordsOut: s?.recordsOut ?? 0,
        deadLetters: s?.deadLetters ?? 0,
        recordsInPerSec: rate(s?.recordsIn ?? 0, p?.recordsIn ?? (prev ? 0 : undefined)),
        recordsOutPerSec: rate(s?.recordsOut ?? 0, p?.recordsOut ?? (prev ? 0 : undefined)),
        avgBatchMs: s && s.batches > 0 ? s.processingMs / s.batches : null,
        lastEventToSinkMs: s?.lastEventToSinkMs ?? null,
        lag: s?.lag ?? 0,
        watermark: s?.watermark ?? null,
        lastError: s?.lastError ?? null,
      };
    });
    this.previous = { at, stats };
    return { at, nodes };
  }
}
