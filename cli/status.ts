// `tickcast status`: every node of a scaled-out run across its processes (source, workers, API
// replicas): status, records, lag, keyed state, which process owns which partitions, and whether
// the run has ended. It reads the metrics topic every process publishes to (engine/cluster-metrics.ts).
// With the memory transport a run is one process: it asks that process's API, if one answers.
import {
  type ClusterNode,
  clusterNodes,
  type NodeSnapshot,
  partitionRanges,
  processState,
  readClusterMetrics,
} from '../engine/cluster-metrics.js';
import type { Config } from './config.js';
import { consoleOutput, type Output } from './io.js';
import { printTable } from './table.js';

export interface StatusArgs {
  json?: boolean;
}

/** What `status --json` prints: one object per pipeline found in the topic. */
export interface PipelineStatus {
  pipeline: string;
  /** Every node has ended, in every process that runs it. */
  ended: boolean;
  processes: Array<{ id: string; role: string; host: string; pid: number; state: string; lastSeen: string }>;
  nodes: Array<{
    node: string;
    status: string;
    recordsIn: number;
    recordsOut: number;
    deadLetters: number;
    lag: number;
    stateKeys: number | null;
    instances: Array<{ process: string; role: string; state: string; status: string; partitions: string[] | null }>;
  }>;
}

/** The settings status reads: where the metrics are (Kafka, or the local API). */
export const STATUS_SETTINGS = [
  'TICKCAST_TRANSPORT',
  'KAFKA_BROKERS',
  'KAFKA_TOPIC_PREFIX',
  'TICKCAST_HOST',
  'TICKCAST_PORT',
  'TICKCAST_API_KEYS',
] as const;
type StatusConfig = Pick<Config, (typeof STATUS_SETTINGS)[number]>;

/** Exit code: 0 when something was read, 1 when there was nothing to read or Kafka did not answer. */
export async function statusCommand(
  config: StatusConfig,
  args: StatusArgs,
  io: Output = consoleOutput,
): Promise<number> {
  if (config.TICKCAST_TRANSPORT !== 'kafka') return localStatus(config, args, io);
  const { createKafkaTransport } = await import('../engine/transports/kafka/kafka-transport.js');
  let snapshots: NodeSnapshot[];
  try {
    const transport = await createKafkaTransport({
      brokers: config.KAFKA_BROKERS.split(','),
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      clientId: `tickcast-status-${process.pid}`,
      connectAttempts: 2,
      log: () => {},
    });
    try {
      snapshots = await readClusterMetrics(transport);
    } finally {
      await transport.close();
    }
  } catch (err) {
    return notRunning(
      args,
      io,
      `cannot read the metrics from Kafka at ${config.KAFKA_BROKERS}: ${err instanceof Error ? err.message : String(err)}`,
      '(start Kafka: npm run services:up; or set KAFKA_BROKERS; `npx tickcast doctor` checks the client and the servers)',
    );
  }
  const statuses = pipelineStatuses(snapshots, Date.now());
  if (args.json) {
    io.out(JSON.stringify(statuses));
    return 0;
  }
  if (statuses.length === 0) {
    io.out(
      `no tickcast process has published metrics on ${config.KAFKA_BROKERS}${config.KAFKA_TOPIC_PREFIX ? ` under the prefix ${JSON.stringify(config.KAFKA_TOPIC_PREFIX)}` : ''} (KAFKA_TOPIC_PREFIX must be the run's)`,
    );
    return 0;
  }
  for (const s of statuses) printStatus(s, io);
  return 0;
}

/** The snapshots per pipeline, nodes in the order the processes run them (sources first). */
export function pipelineStatuses(snapshots: readonly NodeSnapshot[], now: number): PipelineStatus[] {
  const byPipeline = new Map<string, NodeSnapshot[]>();
  for (const s of snapshots) byPipeline.set(s.pipeline, [...(byPipeline.get(s.pipeline) ?? []), s]);
  return [...byPipeline].map(([pipeline, list]) => {
    const nodes = clusterNodes(list, { pipeline, now });
    const processes = new Map<string, NodeSnapshot>();
    for (const s of list) {
      const had = processes.get(s.process.id);
      if (!had || had.at < s.at) processes.set(s.process.id, s);
    }
    const rank = (role: string) => ['source', 'all', 'worker', 'api'].indexOf(role);
    const order = [...list]
      .sort((a, b) => rank(a.process.role) - rank(b.process.role))
      .map((s) => s.node.node)
      .filter((id, i, all) => all.indexOf(id) === i);
    return {
      pipeline,
      ended: [...nodes.values()].every((n) => n.stats.status === 'ended'),
      processes: [...processes.values()]
        .sort((a, b) => rank(a.process.role) - rank(b.process.role) || a.process.id.localeCompare(b.process.id))
        .map((s) => ({
          id: s.process.id,
          role: s.process.role,
          host: s.process.host,
          pid: s.process.pid,
          state: processState(s, now),
          lastSeen: new Date(s.at).toISOString(),
        })),
      nodes: order.map((id) => nodeStatus(nodes.get(id)!)),
    };
  });
}

function nodeStatus(n: ClusterNode): PipelineStatus['nodes'][number] {
  return {
    node: n.stats.node,
    status: n.stats.status,
    recordsIn: n.stats.recordsIn,
    recordsOut: n.stats.recordsOut,
    deadLetters: n.stats.deadLetters,
    lag: n.stats.lag,
    stateKeys: n.stats.stateKeys,
    instances: n.instances.map((i) => ({
      process: i.process.id,
      role: i.process.role,
      state: i.state,
      status: i.stats.status,
      partitions: i.stats.partitions,
    })),
  };
}

/** The status as tables; a run of one process (no process list) without the processes' columns. */
export function printStatus(s: PipelineStatus, io: Pick<Output, 'out'>, title?: string): void {
  const live = s.processes.filter((p) => p.state === 'live').length;
  io.out(
    title ??
      `${s.pipeline}: ${s.ended ? 'ended' : 'not ended'} — ${s.processes.length} processes (${live} live, ${s.processes.length - live} exited or gone)`,
  );
  const n = (x: number) => x.toLocaleString('en-US');
  const scaledOut = s.processes.length > 0;
  printTable(
    ['node', 'status', 'in', 'out', 'dlq', 'lag', 'state keys', ...(scaledOut ? ['processes (partitions owned)'] : [])],
    s.nodes.map((node) => [
      node.node,
      node.status,
      n(node.recordsIn),
      n(node.recordsOut),
      n(node.deadLetters),
      n(node.lag),
      node.stateKeys === null ? '-' : n(node.stateKeys),
      ...(scaledOut
        ? [
            node.instances
              .map(
                (i) =>
                  `${i.process}${i.state === 'live' ? '' : ` (${i.state})`}${i.partitions ? ` [${partitionRanges(i.partitions)}]` : ''}`,
              )
              .join(', '),
          ]
        : []),
    ]),
    io.out,
  );
  if (!scaledOut) return;
  io.out('');
  printTable(
    ['process', 'role', 'state', 'last seen'],
    s.processes.map((p) => [p.id, p.role, p.state, p.lastSeen]),
    io.out,
  );
}

/** What `status --json` prints when there is nothing to read: one object, not an array of pipelines. */
export interface NotRunningStatus {
  running: false;
  reason: string;
}

/**
 * Nothing to read (nothing serving, Kafka not answering): exit 1. With --json, the reason as
 * JSON on stdout (a script parses it whatever the outcome); else prose with a hint on stderr.
 */
function notRunning(args: StatusArgs, io: Output, reason: string, hint: string): number {
  if (args.json) io.out(JSON.stringify({ running: false, reason } satisfies NotRunningStatus));
  else io.err(`tickcast status: ${reason}\n  ${hint}`);
  return 1;
}

/** What the local API answers to status's query. */
type LocalAnswer = {
  data?: {
    pipeline: {
      name: string;
      nodes: Array<{
        id: string;
        metrics: Pick<
          PipelineStatus['nodes'][number],
          'status' | 'recordsIn' | 'recordsOut' | 'deadLetters' | 'lag' | 'stateKeys'
        > | null;
      }>;
    };
  };
};

/** Memory transport: one process; its own API has the figures, if it is running. */
async function localStatus(config: StatusConfig, args: StatusArgs, io: Output): Promise<number> {
  const url = `http://${config.TICKCAST_HOST}:${config.TICKCAST_PORT}/graphql`;
  const query = '{ pipeline { name nodes { id metrics { status recordsIn recordsOut deadLetters lag stateKeys } } } }';
  let body: LocalAnswer | null = null;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(config.TICKCAST_API_KEYS[0] ? { 'x-api-key': config.TICKCAST_API_KEYS[0] } : {}),
      },
      body: JSON.stringify({ query }),
      signal: AbortSignal.timeout(5000),
    });
    body = (await res.json().catch(() => null)) as LocalAnswer | null;
  } catch {
    body = null;
  }
  const pipeline = body?.data?.pipeline;
  if (!pipeline) {
    return notRunning(
      args,
      io,
      `nothing to inspect. TICKCAST_TRANSPORT=memory runs a pipeline in one process, and none answers on ${url}.`,
      'A run prints its own progress and summary; a serving one answers the `pipeline` query and /metrics.\n' +
        '  Scaled out (TICKCAST_TRANSPORT=kafka, README "Scaling out"), status reads every process\'s metrics from Kafka.',
    );
  }
  const nodes: PipelineStatus['nodes'] = pipeline.nodes.map((n) => ({
    node: n.id,
    status: n.metrics?.status ?? 'idle',
    recordsIn: n.metrics?.recordsIn ?? 0,
    recordsOut: n.metrics?.recordsOut ?? 0,
    deadLetters: n.metrics?.deadLetters ?? 0,
    lag: n.metrics?.lag ?? 0,
    stateKeys: n.metrics?.stateKeys ?? null,
    instances: [],
  }));
  const status: PipelineStatus = {
    pipeline: pipeline.name,
    ended: nodes.every((n) => n.status === 'ended'),
    processes: [],
    nodes,
  };
  if (args.json) io.out(JSON.stringify([status]));
  else printStatus(status, io, `${pipeline.name}: one process (memory transport), from ${url}`);
  return 0;
}
