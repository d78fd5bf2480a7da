// Per-node metrics: prom-client series for /metrics, plus plain counters for the CLI and GraphQL.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface NodeStats {
  node: string;
  recordsIn: number;
  recordsOut: number;
  deadLetters: number;
  batches: number;
  /** Sum of batch processing time, ms. */
  processingMs: number;
  /** Latest event-to-sink latency seen by a sink, ms. */
  lastEventToSinkMs: number | null;
  watermark: number | null;
  lag: number;
  status: 'idle' | 'running' | 'retrying' | 'ended' | 'failed';
  lastError: string | null;
  /** Keys held in keyed state (stateful transforms); null for a node without state. */
  stateKeys: number | null;
  /**
   * Input partitions this process owns (`topic/partition`), on a transport whose groups share
   * them between processes (Kafka); null: every partition (memory, sources).
   */
  partitions: string[] | null;
  /** The consumer group the node reads in (null: a source). Members of one group share its partitions. */
  group: string | null;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class PipelineMetrics {
  readonly registry: Registry;
  private readonly stats = new Map<string, NodeStats>();
  private readonly recordsIn: Counter<'node'>;
  private readonly recordsOut: Counter<'node' | 'topic'>;
  private readonly deadLetters: Counter<'node' | 'topic' | 'kind'>;
  private readonly processing: Histogram<'node'>;
  private readonly eventToSink: Histogram<'node'>;
  private readonly queueDepth: Gauge<'topic'>;
  /** Where queue depth comes from (the transport), read when /metrics is scraped. */
  depthSource: (() => Record<string, number>) | null = null;
  private readonly lag: Gauge<'node'>;
  private readonly watermark: Gauge<'node'>;

  constructor(
    readonly pipeline: string,
    registry?: Registry,
  ) {
    this.registry = registry ?? new Registry();
    const registers = [this.registry];
    this.recordsIn = new Counter({
      name: 'tickcast_records_in_total',
      help: 'Records consumed by a node',
      labelNames: ['node'],
      registers,
    });
    this.recordsOut = new Counter({
      name: 'tickcast_records_out_total',
      help: 'Records produced by a node, per topic',
      labelNames: ['node', 'topic'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'tickcast_dead_letters_total',
      help: 'Records sent to a dead-letter topic',
      labelNames: ['node', 'topic', 'kind'],
      registers,
    });
    this.processing = new Histogram({
      name: 'tickcast_batch_processing_seconds',
      help: 'Time a node takes to process one batch',
      labelNames: ['node'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.eventToSink = new Histogram({
      name: 'tickcast_event_to_sink_seconds',
      help: 'From the source emitting a record to a sink storing what came of it',
      labelNames: ['node'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'tickcast_queue_depth',
      help: 'Records waiting in a topic for its slowest consumer group',
      labelNames: ['topic'],
      registers,
      collect: () => {
        for (const [topic, depth] of Object.entries(this.depthSource?.() ?? {})) this.queueDepth.set({ topic }, depth);
      },
    });
    this.lag = new Gauge({
      name: 'tickcast_consumer_lag',
      help: 'Records not yet committed by a node',
      labelNames: ['node'],
      registers,
    });
    this.watermark = new Gauge({
      // Seconds, Prometheus' base unit (promtool check metrics warns on _ms).
      name: 'tickcast_watermark_seconds',
      help: 'Event-time watermark of a node, epoch seconds',
      labelNames: ['node'],
      registers,
    });
  }

  node(id: string): NodeStats {
    let s = this.stats.get(id);
    if (!s) {
      s = {
        node: id,
        recordsIn: 0,
        recordsOut: 0,
        deadLetters: 0,
        batches: 0,
        processingMs: 0,
        lastEventToSinkMs: null,
        watermark: null,
        lag: 0,
        status: 'idle',
        lastError: null,
        stateKeys: null,
        partitions: null,
        group: null,
      };
      this.stats.set(id, s);
    }
    return s;
  }

  consumed(node: string, n: number): void {
    this.node(node).recordsIn += n;
    this.recordsIn.inc({ node }, n);
  }

  produced(node: string, topic: string, n: number): void {
    this.node(node).recordsOut += n;
    this.recordsOut.inc({ node, topic }, n);
  }

  deadLettered(node: string, topic: string, kind: string): void {
    this.node(node).deadLetters += 1;
    this.deadLetters.inc({ node, topic, kind });
  }

  batch(node: string, ms: number): void {
    const s = this.node(node);
    s.batches += 1;
    s.processingMs += ms;
    this.processing.observe({ node }, ms / 1000);
  }

  sinkLatency(node: string, ms: number): void {
    this.node(node).lastEventToSinkMs = ms;
    this.eventToSink.observe({ node }, ms / 1000);
  }

  setLag(node: string, lag: number): void {
    this.node(node).lag = lag;
    this.lag.set({ node }, lag);
  }

  setWatermark(node: string, time: number): void {
    this.node(node).watermark = time;
    this.watermark.set({ node }, time / 1000);
  }

  /** What a node holds and owns now (measured beside its loop, with its lag). */
  setHolding(node: string, holding: { stateKeys: number | null; partitions: string[] | null }): void {
    const s = this.node(node);
    s.stateKeys = holding.stateKeys;
    s.partitions = holding.partitions;
  }

  snapshot(): NodeStats[] {
    return [...this.stats.values()].map((s) => ({ ...s, partitions: s.partitions && [...s.partitions] }));
  }
}
