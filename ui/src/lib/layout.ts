// A layered top-to-bottom layout for the pipeline DAG: a node's layer is the longest path from a
// source; within a layer, nodes keep the API's topological order and are centred. Small DAGs
// (tens of nodes) need no more. Top-to-bottom keeps it narrow enough beside the detail panel.
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

export const NODE_W = 214;
export const NODE_H = 78;
const GAP_X = 24;
const GAP_Y = 46;

export function layoutDag(nodes: readonly PipelineNode[], edges: readonly PipelineEdge[]): Layout {
  const layer = new Map<string, number>();
  const preds = new Map<string, string[]>();
  for (const e of edges) preds.set(e.to, [...(preds.get(e.to) ?? []), e.from]);
  // Nodes arrive in topological order, so predecessors are placed first.
  for (const n of nodes) {
    const ps = preds.get(n.id) ?? [];
    layer.set(n.id, ps.length === 0 ? 0 : Math.max(...ps.map((p) => layer.get(p) ?? 0)) + 1);
  }
  const perLayer = new Map<number, PipelineNode[]>();
  for (const n of nodes) {
    const l = layer.get(n.id) ?? 0;
    perLayer.set(l, [...(perLayer.get(l) ?? []), n]);
  }
  const widest = Math.max(1, ...[...perLayer.values()].map((ns) => ns.length));
  const width = widest * (NODE_W + GAP_X) - GAP_X;
  const placed: Placed[] = [];
  for (const [l, ns] of perLayer) {
    const rowWidth = ns.length * (NODE_W + GAP_X) - GAP_X;
    const left = (width - rowWidth) / 2;
    ns.forEach((node, i) => {
      placed.push({ node, x: left + i * (NODE_W + GAP_X), y: l * (NODE_H + GAP_Y) });
    });
  }
  const layers = Math.max(0, ...layer.values()) + 1;
  return { nodes: placed, width, height: layers * (NODE_H + GAP_Y) - GAP_Y };
}
