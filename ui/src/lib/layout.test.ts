// The pipeline DAG laid out top to bottom: a node's row is its longest path from a source, each
// row centred in the widest one, nodes in the API's (topological) order within a row.
import { describe, expect, it } from 'vitest';
import { layoutDag, NODE_H, NODE_W } from './layout';
import type { PipelineEdge, PipelineNode } from './types';

const node = (id: string): PipelineNode => ({
  id,
  kind: 'transform',
  operator: id,
  reads: [],
  writes: [],
  stateful: false,
});
const edge = (from: string, to: string): PipelineEdge => ({ from, to, topic: `${from}.out` });
const GAP_X = 24;
const GAP_Y = 46;
const at = (l: ReturnType<typeof layoutDag>) => Object.fromEntries(l.nodes.map((p) => [p.node.id, [p.x, p.y]]));

describe('layoutDag', () => {
  it('puts a chain one node per row', () => {
    const l = layoutDag(
      [node('source'), node('features'), node('sink')],
      [edge('source', 'features'), edge('features', 'sink')],
    );
    expect(at(l)).toEqual({ source: [0, 0], features: [0, NODE_H + GAP_Y], sink: [0, 2 * (NODE_H + GAP_Y)] });
    expect(l.width).toBe(NODE_W);
    expect(l.height).toBe(3 * NODE_H + 2 * GAP_Y);
  });

  it('places a node below its deepest predecessor, and centres narrower rows', () => {
    // source → a → b → join, and source → join directly: join goes below b, not below source.
    const nodes = ['source', 'a', 'side', 'b', 'join'].map(node);
    const edges = [
      edge('source', 'a'),
      edge('source', 'side'),
      edge('a', 'b'),
      edge('b', 'join'),
      edge('side', 'join'),
      edge('source', 'join'),
    ];
    const l = layoutDag(nodes, edges);
    const row = NODE_H + GAP_Y;
    const step = NODE_W + GAP_X;
    // The widest row (a, side) sets the width; the one-node rows sit in its middle.
    expect(l.width).toBe(2 * NODE_W + GAP_X);
    const middle = (l.width - NODE_W) / 2;
    expect(at(l)).toEqual({
      source: [middle, 0],
      a: [0, row],
      side: [step, row],
      b: [middle, 2 * row],
      join: [middle, 3 * row],
    });
    expect(l.height).toBe(4 * row - GAP_Y);
  });

  it('lays out nodes without edges side by side, and nothing as an empty one-row box', () => {
    const l = layoutDag([node('x'), node('y'), node('z')], []);
    expect(l.nodes.map((p) => [p.node.id, p.x, p.y])).toEqual([
      ['x', 0, 0],
      ['y', NODE_W + GAP_X, 0],
      ['z', 2 * (NODE_W + GAP_X), 0],
    ]);
    expect(layoutDag([], [])).toEqual({ nodes: [], width: NODE_W, height: NODE_H });
  });
});
