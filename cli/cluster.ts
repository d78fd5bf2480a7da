// A `tickcast run` process's part in a scaled-out run (Kafka): it publishes its per-node metrics
// to the metrics topic, and (source, api, all) follows everyone's, so that its progress line, its
// summary and its "finished" mean the whole run, not the share of the nodes this process runs.
import { hostname } from 'node:os';
import {
  type ClusterNode,
  type ClusterWatch,
  clusterNodes,
  type MetricsPublisher,
  type NodeSnapshot,
  type ProcessInfo,
  publishMetrics,
  watchClusterMetrics,
} from '../engine/cluster-metrics.js';
import type { NodeStats, Pipeline, RunningPipeline } from '../engine/index.js';
import { nodesFor } from './app.js';
import { type Config, configSchema } from './config.js';

export interface Cluster {
  readonly process: ProcessInfo;
  /** Every node of the pipeline across processes (this one's own figures until others report). */
  nodes(): Map<string, ClusterNode>;
  /** The nodes' combined figures in the pipeline's order, for the progress line and the summary. */
  stats(): NodeStats[];
  /** Stops publishing (a last snapshot says this process exited) and following. */
  close(): Promise<void>;
}

/** Null on the memory transport: one process, its own metrics are the whole run's. */
export async function openCluster(
  config: Config,
  running: RunningPipeline,
  log: (line: string) => void,
): Promise<Cluster | null> {
  if (config.TICKCAST_TRANSPORT !== 'kafka') return null;
  const intervalMs = config.TICKCAST_METRICS_INTERVAL;
  const proc: ProcessInfo = {
    id: `${hostname()}-${process.pid}`,
    role: config.TICKCAST_ROLE,
    host: hostname(),
    pid: process.pid,
    startedAt: Date.now(),
  };
  const publisher: MetricsPublisher = await publishMetrics({
    transport: running.transport,
    metrics: running.metrics,
    process: proc,
    intervalMs,
    log,
  });
  // Workers only publish: nothing they print needs the others' figures.
  const watch: ClusterWatch | null =
    config.TICKCAST_ROLE === 'worker' ? null : await watchClusterMetrics(running.transport, { log });
  const pipeline = running.pipeline;
  const nodes = () => {
    // This process's own figures are current; what it published is up to an interval old.
    const now = Date.now();
    const own = running.metrics
      .snapshot()
      .map(
        (node): NodeSnapshot => ({ pipeline: pipeline.name, process: proc, node, at: now, intervalMs, exited: false }),
      );
    const others = (watch?.snapshots() ?? []).filter((s) => s.process.id !== proc.id);
    return clusterNodes([...others, ...own], { pipeline: pipeline.name, since: proc.startedAt, now });
  };
  return {
    process: proc,
    nodes,
    stats: () => {
      const all = nodes();
      return pipeline.nodes.flatMap((n) => {
        const c = all.get(n.id);
        return c ? [c.stats] : [];
      });
    },
    close: async () => {
      await publisher.stop();
      await watch?.close();
    },
  };
}

/** The nodes a finite run must end before it has finished: all but the API's live fan-out. */
export function runNodes(pipeline: Pipeline): string[] {
  const run = new Set([...nodesFor(pipeline, 'source'), ...nodesFor(pipeline, 'worker')]);
  return pipeline.nodes.filter((n) => run.has(n.id)).map((n) => n.id);
}

/**
 * Nodes that some live process runs (by its role) but has not reported yet: its first snapshot
 * of them may still be on its way, or it has not published since it started.
 */
export function unreported(nodes: ReadonlyMap<string, ClusterNode>, pipeline: Pipeline): Set<string> {
  const live = new Map<string, string>();
  for (const node of nodes.values()) {
    for (const i of node.instances) if (i.state === 'live') live.set(i.process.id, i.process.role);
  }
  const out = new Set<string>();
  for (const [id, role] of live) {
    if (!ROLES.has(role)) continue;
    for (const n of nodesFor(pipeline, role as Config['TICKCAST_ROLE'])) {
      if (!nodes.get(n)?.instances.some((i) => i.process.id === id)) out.add(n);
    }
  }
  return out;
}

/** The roles a process may have: TICKCAST_ROLE's values. */
const ROLES = new Set<string>(configSchema.shape.TICKCAST_ROLE.unwrap().options);

/**
 * Waits until every node of the run has ended across processes, saying every `everyMs` what it
 * still waits for (nodes not ended, with their lag; or that no worker has reported yet).
 */
export async function untilRunEnded(
  cluster: Cluster,
  pipeline: Pipeline,
  opts: { signal?: AbortSignal; everyMs?: number; log: (line: string) => void },
): Promise<boolean> {
  const required = runNodes(pipeline);
  let lastSaid = performance.now();
  while (!opts.signal?.aborted) {
    const nodes = cluster.nodes();
    // Settled, not only ended: the summary then has every process's final figures. And reported
    // by every live process that runs it: a node each process reads for itself (everyProcess)
    // is not ended while one of them has not said anything about it yet.
    const silent = unreported(nodes, pipeline);
    const open = required.filter((id) => !nodes.get(id)?.settled || silent.has(id));
    if (open.length === 0) return true;
    if (performance.now() - lastSaid > (opts.everyMs ?? 10_000)) {
      lastSaid = performance.now();
      const missing = open.filter((id) => !nodes.has(id));
      // Ended but not settled: some process has not said so yet (it will within an interval).
      const pending = open
        .filter((id) => nodes.has(id))
        .map((id) => {
          const s = nodes.get(id)!.stats;
          return `${id} (${s.status === 'ended' ? 'ending' : s.status}, lag ${s.lag.toLocaleString('en-US')})`;
        });
      opts.log(
        `waiting for the other processes: ${required.length - open.length}/${required.length} nodes ended` +
          (pending.length > 0 ? `; not yet: ${pending.slice(0, 6).join(', ')}${pending.length > 6 ? ', …' : ''}` : '') +
          (missing.length > 0
            ? `; no process has reported ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', …' : ''} (start \`tickcast run --role worker\`)`
            : ''),
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}
