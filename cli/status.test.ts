// `tickcast status` without a broker: partitions as ranges, the per-pipeline view of snapshots,
// and the memory transport's answer when no tickcast process is serving.
import { describe, expect, it, vi } from 'vitest';
import type { NodeSnapshot } from '../engine/cluster-metrics.js';
import { PipelineMetrics } from '../engine/metrics.js';
import { loadConfig } from './config.js';
import { pipelineStatuses, statusCommand } from './status.js';

const snapshot = (proc: string, role: string, node: string, over: Partial<NodeSnapshot['node']>): NodeSnapshot => ({
  pipeline: 'price-prediction',
  process: { id: proc, role, host: 'h', pid: 1, startedAt: 0 },
  node: { ...new PipelineMetrics('p').node(node), ...over },
  at: 1000,
  intervalMs: 1000,
  exited: true,
});

describe('tickcast status', () => {
  it('shows each pipeline with its nodes, sources first, and whether it has ended', () => {
    const [s] = pipelineStatuses(
      [
        snapshot('w1', 'worker', 'bars', { status: 'ended', group: 'g.bars', partitions: ['quotes/0'] }),
        snapshot('src', 'source', 'market-data', { status: 'ended', recordsOut: 4 }),
      ],
      2000,
    );
    expect(s).toMatchObject({ pipeline: 'price-prediction', ended: true });
    expect(s!.nodes.map((n) => n.node)).toEqual(['market-data', 'bars']);
    expect(s!.processes.map((p) => [p.id, p.state])).toEqual([
      ['src', 'exited'],
      ['w1', 'exited'],
    ]);
  });

  it('with the memory transport and nothing serving, says there is nothing to inspect (exit 1)', async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    // A port nothing listens on.
    const code = await statusCommand(loadConfig({ TICKCAST_PORT: '9' }), {});
    spy.mockRestore();
    expect(code).toBe(1);
    expect(errors.join('\n')).toMatch(/nothing to inspect.*TICKCAST_TRANSPORT=memory/s);
  });
});
