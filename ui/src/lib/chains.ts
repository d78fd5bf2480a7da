// Operator chains in the pipeline view: which chain a node runs in (one task), and which edges
// are in-process hand-offs inside a chain rather than trips through the transport.
import type { PipelineChain, PipelineEdge } from './types';

export interface ChainView {
  /** The chain a node runs in, or null (a task of its own). */
  chainOf(node: string): PipelineChain | null;
  /** Index of a node's chain (for its colour), or -1. */
  indexOf(node: string): number;
  /** The edge goes from one node of a chain to the next over a topic handed on in-process. */
  inProcess(edge: PipelineEdge): boolean;
  /** "bars → features → router → …", for labels. */
  label(chain: PipelineChain): string;
}

export function chainView(chains: readonly PipelineChain[]): ChainView {
  const index = new Map<string, number>();
  chains.forEach((c, i) => {
    for (const n of c.nodes) index.set(n, i);
  });
  return {
    chainOf: (node) => chains[index.get(node) ?? -1] ?? null,
    indexOf: (node) => index.get(node) ?? -1,
    inProcess: (e) => {
      const i = index.get(e.from);
      return i !== undefined && i === index.get(e.to) && chains[i]!.local.includes(e.topic);
    },
    label: (c) => c.nodes.join(' → '),
  };
}
