// A layered left-to-right layout for the pipeline DAG: a node's column is the longest path from
// a source; rows follow the API's topological order. Small DAGs (tens of nodes) need no more.
import type { PipelineEdge, PipelineNode } from './types';

export interface Placed {
  node: PipelineNode;
  x: number;
  y: number;
}

export interface Layout {
  nodes: Placed[];
  width: number;
  height: number;
}

export const NODE_W = 190;
export const NODE_H = 78;
const GAP_X = 60;
const GAP_Y = 22;

export function layoutDag(nodes: readonly PipelineNode[], edges: readonly PipelineEdge[]): Layout {
  const layer = new Map<string, number>();
  const preds = new Map<string, string[]>();
  for (const e of edges) preds.set(e.to, [...(preds.get(e.to) ?? []), e.from]);
  // Nodes arrive in topological order, so predecessors are placed first.
  for (const n of nodes) {
    const ps = preds.get(n.id) ?? [];
    layer.set(n.id, ps.length === 0 ? 0 : Math.max(...ps.map((p) => layer.get(p) ?? 0)) + 1);
  }
  const rows = new Map<number, number>();
  const placed = nodes.map((node) => {
    const col = layer.get(node.id) ?? 0;
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    return { node, x: col * (NODE_W + GAP_X), y: row * (NODE_H + GAP_Y) };
  });
  const cols = Math.max(0, ...layer.values()) + 1;
  const maxRows = Math.max(1, ...rows.values());
  return { nodes: placed, width: cols * (NODE_W + GAP_X) - GAP_X, height: maxRows * (NODE_H + GAP_Y) - GAP_Y };
}
