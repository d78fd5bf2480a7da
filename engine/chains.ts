// Operator chaining (Flink's operator chains, a Kafka Streams sub-topology): consecutive
// transforms keyed alike run in one task and hand records to each other in-process. Only a
// chain's ends, and topics that something outside the chain reads or that are pinned, go
// through the transport: on Kafka each fused hop saves a produce, a fetch and a commit.

import type { PipelineNode, PipelineTopic } from './pipeline.js';

export interface Chain {
  /** The node that reads the chain's input from the transport. */
  head: string;
  /** Its nodes, head first, producers before consumers (a chain may branch). */
  nodes: string[];
  /** Topics the chain's nodes hand each other in-process. */
  local: string[];
  /** Of `local`, those nothing outside the chain reads: never written to the transport. */
  fused: string[];
}

/**
 * The chains of a pipeline (only those of two nodes or more). A transform, or a sink (unless it
 * says `chain: false`), joins the chain of the node before it when it reads one topic, written by
 * that node alone (or only by nodes of one chain, as the branches of a router that join again),
 * and that topic is neither external, pinned nor compacted; when both nodes' topics all have one
 * partition count (so partition p of every topic in the chain is one lane, owned by one worker);
 * and when a transform neither lingers nor caps its batches (`lingerMs`, `maxBatch`: a chain runs at its head's pace). Records
 * stay in the lane of the input they came from, which is where Kafka would put them when a node
 * keeps its input's key (every transform here does; a re-keying one belongs behind a pinned topic).
 */
export function findChains(nodes: readonly PipelineNode[], topics: ReadonlyMap<string, PipelineTopic>): Chain[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const lanesOf = (n: PipelineNode): number | null => {
    if ((n.operator.kind !== 'transform' && n.operator.kind !== 'sink') || n.everyProcess) return null;
    const counts = new Set([...n.reads, ...Object.values(n.writes)].map((t) => topics.get(t)?.partitions));
    const [count] = counts;
    return counts.size === 1 && count !== undefined ? count : null;
  };
  const chainOf = new Map<string, Chain>();
  const chains: Chain[] = [];
  for (const node of nodes) {
    if (!joins(node.operator) || node.reads.length !== 1) continue;
    const topic = topics.get(node.reads[0]!);
    if (!topic || topic.external || topic.pinned || topic.compacted || topic.producers.length === 0) continue;
    const before = topic.producers.map((id) => byId.get(id));
    const lanes = lanesOf(node);
    if (lanes === null || before.some((b) => !b || lanesOf(b) !== lanes)) continue;
    // Every writer of the topic in one chain (a router's branches may join again), or its one
    // writer, which starts a chain if it is in none yet.
    const theirs = new Set(before.map((b) => chainOf.get(b!.id)));
    if (theirs.size !== 1) continue;
    let [chain] = theirs;
    if (!chain) {
      if (before.length !== 1) continue;
      const head = before[0]!.id;
      chain = { head, nodes: [head], local: [], fused: [] };
      chainOf.set(head, chain);
      chains.push(chain);
    }
    chain.nodes.push(node.id);
    if (!chain.local.includes(topic.name)) chain.local.push(topic.name);
    chainOf.set(node.id, chain);
  }
  for (const chain of chains) {
    const inside = new Set(chain.nodes);
    chain.fused = chain.local.filter((t) => topics.get(t)!.consumers.every((c) => inside.has(c)));
  }
  return chains;
}

/**
 * Why a choice of nodes to run cannot keep these chains, or null: a process that runs part of a
 * chain would read a topic in-process that the other part never writes to the transport.
 */
export function splitChainProblem(chains: readonly Chain[], selected: ReadonlySet<string>): string | null {
  for (const chain of chains) {
    const inside = chain.nodes.filter((n) => selected.has(n));
    if (inside.length > 0 && inside.length < chain.nodes.length) {
      const missing = chain.nodes.filter((n) => !selected.has(n));
      return `nodes ${chain.nodes.join(' → ')} run as one chain (topics ${chain.local.join(', ')} in-process), but this process runs ${inside.join(', ')} without ${missing.join(', ')}: run the whole chain, pin a topic between them (pinned: true), or turn chaining off`;
    }
  }
  return null;
}

/** A transform that neither lingers nor caps its batches, or a sink that does not say `chain: false`. */
function joins(op: PipelineNode['operator']): boolean {
  if (op.kind === 'sink') return op.chain !== false;
  return op.kind === 'transform' && op.lingerMs === undefined && op.maxBatch === undefined;
}
