// Per-node metrics across processes. On Kafka a pipeline runs in several processes (a source,
// workers, API replicas), each with its own PipelineMetrics; each publishes snapshots of them to
// one compacted topic, keyed by process and node, every few seconds and once more as it stops.
// Whoever reads that topic (the API, `tickcast status`, a source waiting for the end of its
// run) sees every node of the pipeline, which process owns which partitions, and what has ended.
import { randomUUID } from 'node:crypto';
import type { NodeStats, PipelineMetrics } from './metrics.js';
import { message } from './record.js';
import type { Consumer, Producer, TopicSpec, Transport } from './transport.js';

/** The topic (behind the transport's prefix, like every topic). Values are JSON: operational data, no registry. */
export const METRICS_TOPIC = 'tickcast.metrics';
const METRICS_SPEC: TopicSpec = { name: METRICS_TOPIC, partitions: 1, compacted: true };

export interface ProcessInfo {
  /** Unique among running processes: `<host>-<pid>`. */
  id: string;
  role: string;
  host: string;
  pid: number;
  startedAt: number;
}

/** One node of one process, as published. */
export interface NodeSnapshot {
  pipeline: string;
  process: ProcessInfo;
  node: NodeStats;
  /** When it was taken (epoch ms), and how often the process publishes. */
  at: number;
  intervalMs: number;
  /** The process's last snapshot: it stopped (ended, or on a signal). */
  exited: boolean;
}

/** A process as the snapshots show it: live, exited, or gone (no snapshot for a while: killed?). */
export type ProcessState = 'live' | 'exited' | 'gone';

export function processState(s: Pick<NodeSnapshot, 'at' | 'intervalMs' | 'exited'>, now: number): ProcessState {
  if (s.exited) return 'exited';
  // Snapshots are taken on the process's event loop: a long batch (the model over 20,000
  // records on a loaded machine) holds them back for many seconds while the process is well.
  // Killed is when ten are missed, and at least a minute has passed.
  return now - s.at > Math.max(10 * s.intervalMs, 60_000) ? 'gone' : 'live';
}

export interface MetricsPublisher {
  /** Publishes a last snapshot (exited: true) and closes the producer. */
  stop(): Promise<void>;
}

/**
 * Publishes this process's per-node metrics every `intervalMs` (default 2 s) and when it stops.
 * A failed send is logged once and retried at the next interval: metrics never stop the pipeline.
 */
export async function publishMetrics(opts: {
  transport: Transport;
  metrics: Pick<PipelineMetrics, 'pipeline' | 'snapshot'>;
  process: ProcessInfo;
  intervalMs?: number;
  log: (line: string) => void;
}): Promise<MetricsPublisher> {
  const { transport, metrics, process: proc } = opts;
  const intervalMs = opts.intervalMs ?? 2000;
  await transport.ensureTopics([METRICS_SPEC]);
  const producer: Producer = await transport.producer();
  let failed = false;
  let sending: Promise<void> = Promise.resolve();
  const publish = (exited: boolean) => {
    const at = Date.now();
    const messages = metrics.snapshot().map((node) => {
      const snapshot: NodeSnapshot = { pipeline: metrics.pipeline, process: proc, node, at, intervalMs, exited };
      return {
        topic: METRICS_TOPIC,
        key: `${proc.id}/${node.node}`,
        value: Buffer.from(JSON.stringify(snapshot)),
        timestamp: at,
      };
    });
    // One send at a time, in order: the last snapshot of a key is the newest.
    sending = sending.then(() =>
      producer.send(messages).then(
        () => {
          failed = false;
        },
        (err: unknown) => {
          if (!failed) opts.log(`metrics: could not publish to ${METRICS_TOPIC}: ${message(err)}`);
          failed = true;
        },
      ),
    );
    return sending;
  };
  await publish(false);
  const timer = setInterval(() => void publish(false), intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      // Bounded: a process stopping while the broker is away must not wait for it.
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([publish(true), new Promise((r) => (timeout = setTimeout(r, 5000)))]);
      clearTimeout(timeout);
      await producer.close();
    },
  };
}

/** Parses a published value; null for anything this version did not write. */
export function parseSnapshot(value: Buffer | null): NodeSnapshot | null {
  if (value === null) return null;
  try {
    const s = JSON.parse(value.toString()) as Partial<NodeSnapshot> | null;
    if (!s || typeof s.pipeline !== 'string' || typeof s.at !== 'number' || !s.node || !s.process) return null;
    if (typeof s.node.node !== 'string' || typeof s.process.id !== 'string') return null;
    return {
      pipeline: s.pipeline,
      process: s.process,
      node: s.node,
      at: s.at,
      intervalMs: typeof s.intervalMs === 'number' ? s.intervalMs : 2000,
      exited: s.exited === true,
    };
  } catch {
    return null;
  }
}

/** The newest snapshot per process and node, from the topic's records. */
function newest(into: Map<string, NodeSnapshot>, values: ReadonlyArray<Buffer | null>): void {
  for (const v of values) {
    const s = parseSnapshot(v);
    if (!s) continue;
    const key = `${s.process.id}/${s.node.node}`;
    const had = into.get(key);
    if (!had || had.at <= s.at) into.set(key, s);
  }
}

/** Every snapshot the topic holds now (newest per process and node), read once. */
export async function readClusterMetrics(transport: Transport): Promise<NodeSnapshot[]> {
  if (!transport.readTopic) return [];
  await transport.ensureTopics([METRICS_SPEC]);
  const latest = new Map<string, NodeSnapshot>();
  newest(
    latest,
    (await transport.readTopic(METRICS_TOPIC)).map((m) => m.value),
  );
  return [...latest.values()];
}

export interface ClusterWatch {
  /** The newest snapshot per process and node seen so far. */
  snapshots(): NodeSnapshot[];
  close(): Promise<void>;
}

/**
 * Follows the topic from its start (a consumer group of its own that commits nothing), keeping
 * the newest snapshot per process and node: the API's and a waiting source's view of the run.
 */
export async function watchClusterMetrics(
  transport: Transport,
  opts: { log: (line: string) => void },
): Promise<ClusterWatch> {
  await transport.ensureTopics([METRICS_SPEC]);
  const consumer: Consumer = await transport.consumer({
    group: `tickcast-metrics-view-${randomUUID()}`,
    topics: [METRICS_TOPIC],
  });
  const latest = new Map<string, NodeSnapshot>();
  let closed = false;
  let failed = false;
  const loop = (async () => {
    while (!closed) {
      try {
        newest(
          latest,
          (await consumer.poll(10_000, 500)).map((m) => m.value),
        );
        failed = false;
      } catch (err) {
        if (!failed) opts.log(`metrics: reading ${METRICS_TOPIC} failed, retrying: ${message(err)}`);
        failed = true;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();
  return {
    snapshots: () => [...latest.values()],
    close: async () => {
      closed = true;
      await loop;
      await consumer.close();
    },
  };
}

/** One process's part in a node. */
export interface NodeInstance {
  process: ProcessInfo;
  state: ProcessState;
  at: number;
  stats: NodeStats;
}

/** A node across the processes that run it. */
export interface ClusterNode {
  /** Summed over processes (counts), live processes only (lag, state), or combined (status, see clusterNodes). */
  stats: NodeStats;
  instances: NodeInstance[];
  /**
   * Ended, and every process that runs it says so in its latest snapshot (the others of a group
   * learn it up to a second after the first, and publish it an interval later): its figures are final.
   */
  settled: boolean;
}

/**
 * Per node of `pipeline`, the snapshots of every process combined: counts summed (a killed
 * worker's work stays counted; redelivered records count again), lag and state keys over live
 * processes. Status: `ended` when, in every consumer group that reads for the node, some member
 * has ended (a member ends only when every partition of the group's input has, see
 * NodeTask.groupEnds); else the most telling of the live members' (failed, retrying, running, idle).
 * Snapshots older than `since` (an earlier run's processes) are left out.
 */
export function clusterNodes(
  snapshots: readonly NodeSnapshot[],
  opts: { pipeline: string; now?: number; since?: number },
): Map<string, ClusterNode> {
  const now = opts.now ?? Date.now();
  const out = new Map<string, ClusterNode>();
  for (const s of snapshots) {
    if (s.pipeline !== opts.pipeline || (opts.since !== undefined && s.at < opts.since)) continue;
    const instance: NodeInstance = { process: s.process, state: processState(s, now), at: s.at, stats: s.node };
    const node = out.get(s.node.node);
    if (node) node.instances.push(instance);
    else out.set(s.node.node, { stats: s.node, instances: [instance], settled: false });
  }
  for (const [id, node] of out) {
    node.instances.sort((a, b) => a.process.id.localeCompare(b.process.id));
    node.stats = combine(id, node.instances);
    node.settled =
      node.stats.status === 'ended' && node.instances.every((i) => i.stats.status === 'ended' || i.state !== 'live');
  }
  return out;
}

const STATUS_RANK: Record<NodeStats['status'], number> = { failed: 4, retrying: 3, running: 2, idle: 1, ended: 0 };

function combine(id: string, instances: readonly NodeInstance[]): NodeStats {
  const live = instances.filter((i) => i.state === 'live');
  const counting = instances.map((i) => i.stats);
  const sum = (f: (s: NodeStats) => number) => counting.reduce((n, s) => n + f(s), 0);
  const groups = new Map<string, boolean>();
  for (const i of instances) {
    // A process that went away before its node ended will not end it: its private group
    // (everyProcess) never will; a shared group is judged by its other members.
    if (i.state === 'gone' || (i.state === 'exited' && i.stats.status !== 'ended')) continue;
    const g = i.stats.group ?? `source:${i.process.id}`;
    groups.set(g, (groups.get(g) ?? false) || i.stats.status === 'ended');
  }
  const ended = groups.size > 0 && [...groups.values()].every(Boolean);
  // Without a live member, the last word of the others (stale, but truer than idle).
  const worst = (live.length > 0 ? live : instances)
    .map((i) => i.stats.status)
    .filter((s) => s !== 'ended')
    .sort((a, b) => STATUS_RANK[b] - STATUS_RANK[a])[0];
  const watermarks = live.map((i) => i.stats.watermark).filter((w): w is number => w !== null);
  const stateful = live.filter((i) => i.stats.stateKeys !== null);
  const newestError = [...instances].sort((a, b) => b.at - a.at).find((i) => i.stats.lastError !== null);
  const sinkLatency = [...instances].sort((a, b) => b.at - a.at).find((i) => i.stats.lastEventToSinkMs !== null);
  return {
    node: id,
    recordsIn: sum((s) => s.recordsIn),
    recordsOut: sum((s) => s.recordsOut),
    deadLetters: sum((s) => s.deadLetters),
    batches: sum((s) => s.batches),
    processingMs: sum((s) => s.processingMs),
    lastEventToSinkMs: sinkLatency?.stats.lastEventToSinkMs ?? null,
    // The slowest live member holds the node back.
    watermark: watermarks.length > 0 ? Math.min(...watermarks) : null,
    lag: live.reduce((n, i) => n + i.stats.lag, 0),
    status: ended ? 'ended' : (worst ?? 'idle'),
    lastError: newestError?.stats.lastError ?? null,
    stateKeys: stateful.length > 0 ? stateful.reduce((n, i) => n + (i.stats.stateKeys ?? 0), 0) : null,
    partitions: null,
    group: null,
  };
}

/** `quotes/0 quotes/1 quotes/2 quotes/7` → `quotes 0-2,7`; none → `none`. */
export function partitionRanges(partitions: readonly string[]): string {
  if (partitions.length === 0) return 'none';
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) {
    const at = tp.lastIndexOf('/');
    const topic = tp.slice(0, at);
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), Number(tp.slice(at + 1))]);
  }
  return [...byTopic]
    .map(([topic, ps]) => {
      const sorted = [...ps].sort((a, b) => a - b);
      const runs: string[] = [];
      for (let i = 0; i < sorted.length; ) {
        let j = i;
        while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
        runs.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
        i = j + 1;
      }
      return `${topic} ${runs.join(',')}`;
    })
    .join('; ');
}
