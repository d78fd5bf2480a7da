// What the API knows of the running pipeline: its DAG (describe()) and the engine's per-node
// metrics, sampled once a second into rates for the `pipeline` query and `pipelineMetrics`.
// Scaled out (Kafka), the figures are every process's (the metrics topic, cli/cluster.ts), with
// which process owns which partitions; in one process, this process's.
import { type ClusterNode, type ProcessState, partitionRanges } from '../engine/cluster-metrics.js';
import type { NodeStats, PipelineDescription, PipelineMetrics, Transport } from '../engine/index.js';

/** One process's part in a node (scaled out). */
export interface NodeInstanceMetrics {
  process: string;
  role: string;
  host: string;
  pid: number;
  /** live, exited, or gone (no snapshot for a while). */
  state: ProcessState;
  /** When the process last published (epoch ms). */
  at: number;
  status: NodeStats['status'];
  /** Input partitions it owns, `topic/partition`; null: all of them (its own consumer group). */
  partitions: string[] | null;
  /** The same as ranges per topic (`quotes 0-2,7`), for people. */
  owned: string | null;
  recordsIn: number;
  recordsOut: number;
  deadLetters: number;
  lag: number;
  stateKeys: number | null;
}

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
  /** Keys in keyed state (stateful transforms, summed over processes); null without state. */
  stateKeys: number | null;
  /** The processes that run the node (scaled out); empty in one process. */
  instances: NodeInstanceMetrics[];
}

export interface MetricsSample {
  at: number;
  nodes: NodeMetrics[];
}

/** The parts of a RunningPipeline the API reads. */
export interface PipelineSource {
  readonly pipeline: { describe(): PipelineDescription };
  /** The chains in force (RunningPipeline.chains); absent: the pipeline's own. */
  readonly chains?: Readonly<PipelineDescription['chains']>;
  readonly metrics: Pick<PipelineMetrics, 'snapshot' | 'registry'>;
  /** Topics read back (dead letters); absent or without `readTopic`: the `deadLetters` query says NOT_AVAILABLE. */
  readonly transport?: Pick<Transport, 'readTopic'>;
  /** Scaled out: every process's figures per node (cli/cluster.ts); absent: this process's metrics. */
  readonly cluster?: { nodes(): Map<string, ClusterNode> };
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
    const described = source.pipeline.describe();
    this.description = source.chains ? { ...described, chains: [...source.chains] } : described;
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
    const cluster = this.source.cluster?.nodes();
    const stats = cluster
      ? new Map([...cluster].map(([id, c]) => [id, c.stats]))
      : new Map(this.source.metrics.snapshot().map((s) => [s.node, s]));
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
        stateKeys: s?.stateKeys ?? null,
        instances: (cluster?.get(n.id)?.instances ?? []).map((i) => ({
          process: i.process.id,
          role: i.process.role,
          host: i.process.host,
          pid: i.process.pid,
          state: i.state,
          at: i.at,
          status: i.stats.status,
          partitions: i.stats.partitions,
          owned: i.stats.partitions && partitionRanges(i.stats.partitions),
          recordsIn: i.stats.recordsIn,
          recordsOut: i.stats.recordsOut,
          deadLetters: i.stats.deadLetters,
          lag: i.stats.lag,
          stateKeys: i.stats.stateKeys,
        })),
      };
    });
    this.previous = { at, stats };
    return { at, nodes };
  }
}
