// Combining the processes' metric snapshots into one view per node (no broker: the snapshots as
// they are published; engine/cluster-metrics.ts).
import { describe, expect, it } from 'vitest';
import { clusterNodes, type NodeSnapshot, parseSnapshot, partitionRanges, processState } from './cluster-metrics.js';
import { PipelineMetrics } from './metrics.js';

const NOW = 1_000_000;

function snapshot(
  proc: string,
  role: string,
  node: string,
  over: Partial<NodeSnapshot['node']> = {},
  at = NOW,
  exited = false,
): NodeSnapshot {
  const stats = { ...new PipelineMetrics('p').node(node), ...over };
  return {
    pipeline: 'p',
    process: { id: proc, role, host: 'h', pid: 1, startedAt: 0 },
    node: stats,
    at,
    intervalMs: 1000,
    exited,
  };
}

describe('clusterNodes', () => {
  it('sums counts over the members of a group, and ends a node once one member of each group has', () => {
    const nodes = clusterNodes(
      [
        snapshot('w1', 'worker', 'bars', {
          recordsIn: 10,
          lag: 3,
          status: 'ended',
          group: 'g.bars',
          partitions: ['quotes/0'],
        }),
        snapshot('w2', 'worker', 'bars', {
          recordsIn: 5,
          lag: 4,
          status: 'running',
          group: 'g.bars',
          partitions: ['quotes/1'],
        }),
      ],
      { pipeline: 'p', now: NOW },
    );
    const bars = nodes.get('bars')!;
    expect(bars.stats).toMatchObject({ recordsIn: 15, lag: 7, status: 'ended' });
    // Not settled: w2 has not said so yet, so its figures may not be final.
    expect(bars.settled).toBe(false);
    expect(bars.instances.map((i) => i.stats.partitions)).toEqual([['quotes/0'], ['quotes/1']]);
  });

  it('needs every group of a node (one per process for a node every process runs) to have ended', () => {
    const nodes = clusterNodes(
      [
        snapshot('w1', 'worker', 'table', { status: 'ended', group: 'g.table.w1' }),
        snapshot('w2', 'worker', 'table', { status: 'running', group: 'g.table.w2' }),
      ],
      { pipeline: 'p', now: NOW },
    );
    expect(nodes.get('table')!.stats.status).toBe('running');
  });

  it('leaves out processes gone silent (killed) from done-ness and lag, and keeps their counts', () => {
    const nodes = clusterNodes(
      [
        snapshot('w1', 'worker', 'table', { status: 'ended', group: 'g.table.w1', recordsIn: 2 }),
        snapshot(
          'dead',
          'worker',
          'table',
          { status: 'running', group: 'g.table.dead', recordsIn: 3, lag: 9 },
          NOW - 120_000,
        ),
      ],
      { pipeline: 'p', now: NOW },
    );
    const table = nodes.get('table')!;
    expect(table.stats).toMatchObject({ status: 'ended', recordsIn: 5, lag: 0 });
    expect(table.settled).toBe(true);
    expect(table.instances.map((i) => i.state)).toEqual(['gone', 'live']);
  });

  it("leaves out an earlier run's snapshots (since) and other pipelines", () => {
    const nodes = clusterNodes(
      [
        snapshot('old', 'worker', 'bars', { status: 'ended', group: 'g' }, NOW - 10_000, true),
        { ...snapshot('x', 'worker', 'bars'), pipeline: 'q' },
      ],
      { pipeline: 'p', now: NOW, since: NOW - 5000 },
    );
    expect(nodes.size).toBe(0);
  });
});

describe('snapshots', () => {
  it('shows owned partitions as ranges per topic', () => {
    expect(partitionRanges(['quotes/0', 'quotes/1', 'quotes/2', 'quotes/7', 'news/3'])).toBe('quotes 0-2,7; news 3');
    expect(partitionRanges([])).toBe('none');
  });

  it('a process is exited by its last snapshot, gone after ten missed ones and a minute', () => {
    expect(processState({ at: NOW, intervalMs: 1000, exited: true }, NOW)).toBe('exited');
    expect(processState({ at: NOW - 50_000, intervalMs: 1000, exited: false }, NOW)).toBe('live');
    expect(processState({ at: NOW - 61_000, intervalMs: 1000, exited: false }, NOW)).toBe('gone');
    expect(processState({ at: NOW - 61_000, intervalMs: 10_000, exited: false }, NOW)).toBe('live');
  });

  it('parses what it published and ignores anything else', () => {
    const s = snapshot('w1', 'worker', 'bars');
    expect(parseSnapshot(Buffer.from(JSON.stringify(s)))).toEqual(s);
    expect(parseSnapshot(Buffer.from('{"not":"ours"}'))).toBeNull();
    expect(parseSnapshot(Buffer.from('not json'))).toBeNull();
    expect(parseSnapshot(null)).toBeNull();
  });
});
