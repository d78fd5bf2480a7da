// definePipeline: a declarative DAG of nodes (operator + topics read + topics written),
// validated before anything runs, and describe() for the CLI, docs and the UI.
import type { Schema } from '../schemas/index.js';
import { type Chain, findChains } from './chains.js';
import type { AnyOperator } from './operator.js';
import { type TopicTable, topicTableProblems } from './topic-table.js';

export interface TopicDeclaration {
  // biome-ignore lint/suspicious/noExplicitAny: topics of a pipeline carry different record types
  schema: Schema<any>;
  /** Default 4. */
  partitions?: number;
  /** Produced outside this pipeline (another pipeline, a Kafka producer, a test). */
  external?: boolean;
  /**
   * Keep only the newest record per key (Kafka cleanup.policy=compact): for tables such as each
   * symbol's upcoming earnings, which a process reads whole at start.
   */
  compacted?: boolean;
  description?: string;
  /**
   * The topic's records as a table: key fields and the event-time field (`{ key: ['symbol'], time:
   * 'ts' }`). The `timeseries` sink stores them by it, and a public topic is served by it.
   */
  table?: TopicTable;
  /** Served by the API: a query by key and time range, and a subscription (needs `table`). */
  public?: boolean;
  /**
   * Always a topic of the transport, never fused away into a chain of operators (see
   * engine/chains.ts): for a topic that consumers outside this pipeline read.
   */
  pinned?: boolean;
}

export interface NodeDeclaration {
  id: string;
  operator: AnyOperator;
  /** Topic(s) a transform or sink reads. */
  reads?: string | readonly string[];
  /** Output port → topic, for sources and transforms. */
  writes?: { readonly [port: string]: string };
  /**
   * Sinks only: every process that runs this node reads every record of its topics (a consumer
   * group of its own, from the start), instead of sharing the partitions with the other processes.
   * For sinks that keep an in-process table current, which every worker reads (e.g. the earnings
   * calendar the router routes by).
   */
  everyProcess?: boolean;
}

export interface PipelineDeclaration {
  name: string;
  topics: { readonly [name: string]: TopicDeclaration };
  nodes: readonly NodeDeclaration[];
}

export interface PipelineTopic {
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: see TopicDeclaration
  schema: Schema<any>;
  partitions: number;
  external: boolean;
  compacted: boolean;
  description?: string;
  table?: TopicTable;
  public: boolean;
  pinned: boolean;
  /** Node ids writing it (empty for external topics). */
  producers: string[];
  /** Node ids reading it. */
  consumers: string[];
  deadLetterTopic: string;
}

export interface PipelineNode {
  id: string;
  operator: AnyOperator;
  reads: string[];
  writes: { [port: string]: string };
  everyProcess: boolean;
}

export interface PipelineDescription {
  name: string;
  nodes: Array<{
    id: string;
    operator: string;
    kind: AnyOperator['kind'];
    stateful: boolean;
    reads: string[];
    writes: Array<{ port: string; topic: string }>;
  }>;
  topics: Array<{
    name: string;
    schema: string;
    partitions: number;
    external: boolean;
    producers: string[];
    consumers: string[];
    deadLetterTopic: string;
    description?: string;
    table?: { key: string[]; time: string };
    /** Present (true) on the topics the API serves. */
    public?: true;
    /** Present (true) on pinned topics (never fused into a chain). */
    pinned?: true;
  }>;
  edges: Array<{ from: string; to: string; topic: string }>;
  /** Nodes that run as one task when chaining is on (the default); see engine/chains.ts. */
  chains: Chain[];
}

export interface Pipeline {
  readonly name: string;
  /** Nodes in topological order (producers before consumers). */
  readonly nodes: readonly PipelineNode[];
  readonly topics: ReadonlyMap<string, PipelineTopic>;
  /** Nodes that run as one task, passing records in-process, when chaining is on. */
  readonly chains: readonly Chain[];
  /** `chains: false`: as it runs with chaining off (no chains). */
  describe(opts?: { chains?: boolean }): PipelineDescription;
  mermaid(opts?: { chains?: boolean }): string;
}

export const DLQ_SUFFIX = '.dlq';

export class PipelineError extends Error {
  constructor(
    readonly pipeline: string,
    readonly problems: string[],
  ) {
    super(`pipeline ${pipeline} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PipelineError';
  }
}

export function definePipeline(decl: PipelineDeclaration): Pipeline {
  const problems: string[] = [];
  const topics = new Map<string, PipelineTopic>();
  for (const [name, t] of Object.entries(decl.topics)) {
    if (name.endsWith(DLQ_SUFFIX)) problems.push(`topic ${name}: names ending in ${DLQ_SUFFIX} are for dead letters`);
    const partitions = t.partitions ?? 4;
    if (!Number.isInteger(partitions) || partitions < 1) problems.push(`topic ${name}: partitions must be >= 1`);
    if (t.table) problems.push(...topicTableProblems(name, t.schema, t.table));
    if (t.public && !t.table) {
      problems.push(`topic ${name}: a public topic needs a table (e.g. table: { key: ['symbol'], time: 'ts' })`);
    }
    topics.set(name, {
      name,
      schema: t.schema,
      partitions,
      external: t.external ?? false,
      compacted: t.compacted ?? false,
      description: t.description,
      ...(t.table ? { table: { key: [...t.table.key], time: t.table.time } } : {}),
      public: t.public ?? false,
      pinned: t.pinned ?? false,
      producers: [],
      consumers: [],
      deadLetterTopic: name + DLQ_SUFFIX,
    });
  }

  const ids = new Set<string>();
  const nodes: PipelineNode[] = [];
  for (const n of decl.nodes) {
    const op = n.operator;
    const where = `node ${n.id} (operator ${op.name})`;
    if (ids.has(n.id)) problems.push(`node ${n.id}: duplicate node id`);
    ids.add(n.id);
    const reads = n.reads === undefined ? [] : typeof n.reads === 'string' ? [n.reads] : [...n.reads];
    const writes = { ...(n.writes ?? {}) };

    if (op.kind === 'source' && reads.length > 0) problems.push(`${where}: a source reads no topic`);
    if (op.kind === 'transform' && op.stateKey) {
      const counts = new Set([...reads, ...Object.values(writes)].map((t) => topics.get(t)?.partitions));
      if (op.processBatch) problems.push(`${where}: stateKey needs process (per record), not processBatch`);
      if (counts.size === 1 && [...counts][0]! > 1) {
        problems.push(
          `${where}: its state is keyed across partitions (stateKey), so its output topics need a partition count other than its inputs' (e.g. 1)`,
        );
      }
    }
    if (n.everyProcess && op.kind !== 'sink') {
      problems.push(
        `${where}: only a sink can read in every process (a ${op.kind} would write its records once per process)`,
      );
    }
    if (op.kind !== 'source' && reads.length === 0) problems.push(`${where}: reads no topic`);
    for (const name of reads) {
      const topic = topics.get(name);
      if (!topic) {
        problems.push(`${where}: reads topic ${name}, which is not declared`);
        continue;
      }
      topic.consumers.push(n.id);
      if (op.kind !== 'source' && op.input.fingerprint !== topic.schema.fingerprint) {
        problems.push(`${where}: expects ${op.input.name} but topic ${name} carries ${topic.schema.name}`);
      }
    }

    const ports = op.kind === 'sink' ? {} : op.outputs;
    if (op.kind === 'sink' && Object.keys(writes).length > 0) problems.push(`${where}: a sink writes no topic`);
    for (const port of Object.keys(ports)) {
      if (!(port in writes)) problems.push(`${where}: output port ${port} is not wired to a topic`);
    }
    for (const [port, name] of Object.entries(writes)) {
      const schema = ports[port];
      if (!schema) {
        problems.push(`${where}: has no output port ${port} (ports: ${Object.keys(ports).join(', ') || 'none'})`);
        continue;
      }
      const topic = topics.get(name);
      if (!topic) {
        problems.push(`${where}: writes topic ${name}, which is not declared`);
        continue;
      }
      topic.producers.push(n.id);
      if (schema.fingerprint !== topic.schema.fingerprint) {
        problems.push(`${where}: port ${port} emits ${schema.name} but topic ${name} carries ${topic.schema.name}`);
      }
    }
    nodes.push({ id: n.id, operator: op, reads, writes, everyProcess: n.everyProcess ?? false });
  }

  for (const t of topics.values()) {
    if (t.producers.length === 0 && !t.external) {
      problems.push(`topic ${t.name}: no node writes it and it is not declared external`);
    }
  }

  const ordered = topologicalOrder(nodes, topics, problems);
  if (problems.length > 0) throw new PipelineError(decl.name, problems);

  const chains = findChains(ordered, topics);
  const edges = ordered.flatMap((n) =>
    Object.values(n.writes).flatMap((topic) =>
      (topics.get(topic)?.consumers ?? []).map((to) => ({ from: n.id, to, topic })),
    ),
  );

  const description: PipelineDescription = {
    name: decl.name,
    nodes: ordered.map((n) => ({
      id: n.id,
      operator: n.operator.name,
      kind: n.operator.kind,
      stateful: n.operator.kind === 'transform' && n.operator.state !== undefined,
      reads: n.reads,
      writes: Object.entries(n.writes).map(([port, topic]) => ({ port, topic })),
    })),
    topics: [...topics.values()].map((t) => ({
      name: t.name,
      schema: t.schema.name,
      partitions: t.partitions,
      external: t.external,
      producers: t.producers,
      consumers: t.consumers,
      deadLetterTopic: t.deadLetterTopic,
      ...(t.description ? { description: t.description } : {}),
      ...(t.table ? { table: { key: [...t.table.key], time: t.table.time } } : {}),
      ...(t.public ? { public: true as const } : {}),
      ...(t.pinned ? { pinned: true as const } : {}),
    })),
    edges,
    chains,
  };

  return {
    name: decl.name,
    nodes: ordered,
    topics,
    chains,
    describe: (opts) => structuredClone(opts?.chains === false ? { ...description, chains: [] } : description),
    mermaid: (opts) => toMermaid(opts?.chains === false ? { ...description, chains: [] } : description),
  };
}

/** Kahn's algorithm over node → node edges; reports the nodes on a cycle. */
function topologicalOrder(
  nodes: PipelineNode[],
  topics: Map<string, PipelineTopic>,
  problems: string[],
): PipelineNode[] {
  const indegree = new Map(nodes.map((n) => [n.id, 0]));
  const next = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const n of nodes) {
    for (const topic of new Set(Object.values(n.writes))) {
      for (const c of topics.get(topic)?.consumers ?? []) {
        next.get(n.id)?.push(c);
        indegree.set(c, (indegree.get(c) ?? 0) + 1);
      }
    }
  }
  const queue = nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const order: string[] = [];
  while (queue.length > 0) {
    const id = queue.shift()!;
    order.push(id);
    for (const c of next.get(id) ?? []) {
      indegree.set(c, (indegree.get(c) ?? 0) - 1);
      if (indegree.get(c) === 0) queue.push(c);
    }
  }
  if (order.length < indegree.size) {
    const onCycle = [...indegree].filter(([, d]) => d > 0).map(([id]) => id);
    const via = nodes
      .filter((n) => onCycle.includes(n.id))
      .flatMap((n) => Object.values(n.writes).map((t) => `${n.id} → ${t}`));
    problems.push(`cycle through nodes ${onCycle.join(', ')} (${via.join('; ')})`);
  }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  return order.map((id) => byId.get(id)!).filter(Boolean);
}

function toMermaid(d: PipelineDescription): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['flowchart LR'];
  const chained = new Set(d.chains.flatMap((c) => c.nodes));
  const fused = new Set(d.chains.flatMap((c) => c.fused));
  const node = (n: PipelineDescription['nodes'][number]) =>
    `n_${safe(n.id)}["${n.id}<br/><small>${n.kind}: ${n.operator}</small>"]`;
  // A chain is a box of its nodes (one task); its fused topics are in-process hand-offs.
  d.chains.forEach((c, i) => {
    lines.push(`  subgraph chain_${i}["chain: ${c.nodes.join(' → ')}"]`);
    for (const n of d.nodes.filter((x) => c.nodes.includes(x.id))) lines.push(`    ${node(n)}`);
    for (const t of c.fused) lines.push(`    t_${safe(t)}(["${t}<br/><small>in-process</small>"])`);
    lines.push('  end');
  });
  for (const n of d.nodes) if (!chained.has(n.id)) lines.push(`  ${node(n)}`);
  for (const t of d.topics) if (!fused.has(t.name)) lines.push(`  t_${safe(t.name)}(["${t.name}"])`);
  for (const n of d.nodes) {
    for (const r of n.reads) lines.push(`  t_${safe(r)} ${fused.has(r) ? '-.->' : '-->'} n_${safe(n.id)}`);
    for (const w of n.writes) {
      lines.push(`  n_${safe(n.id)} ${fused.has(w.topic) ? `-.${w.port}.->` : `-->|${w.port}|`} t_${safe(w.topic)}`);
    }
  }
  return lines.join('\n');
}
