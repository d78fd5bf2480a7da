// When a scaled-out run has finished, as the API and a waiting source judge it from the processes'
// metrics snapshots: a node each process reads for itself (everyProcess) has not ended while a
// live process that runs it has not reported it yet, even if every process that did says ended.
import { describe, expect, it } from 'vitest';
import { clusterNodes, type NodeSnapshot, type ProcessInfo } from '../engine/cluster-metrics.js';
import { defineOperator, definePipeline, PipelineMetrics } from '../engine/index.js';
import { type Quote, schemas } from '../schemas/index.js';
import { unreported } from './cluster.js';

const copy = defineOperator<Quote, { quotes: typeof schemas.Quote }>({
  kind: 'transform',
  name: 'copy',
  input: schemas.Quote,
  outputs: { quotes: schemas.Quote },
  process(r, ctx) {
    ctx.emit('quotes', r.value);
  },
});
const table = defineOperator<Quote>({ kind: 'sink', name: 'table', input: schemas.Quote, async write() {} });
const source = defineOperator<{ quotes: typeof schemas.Quote }>({
  kind: 'source',
  name: 'quotes',
  outputs: { quotes: schemas.Quote },
  async run() {},
});

const pipeline = definePipeline({
  name: 'cluster',
  topics: {
    quotes: { schema: schemas.Quote, partitions: 2 },
    copies: { schema: schemas.Quote, partitions: 2 },
  },
  nodes: [
    { id: 'market-data', operator: source, writes: { quotes: 'quotes' } },
    { id: 'copy', operator: copy, reads: 'quotes', writes: { quotes: 'copies' } },
    // Read by every process, each in a group of its own (like the calibration table).
    { id: 'table', operator: table, reads: 'copies', everyProcess: true },
  ],
});

const NOW = Date.UTC(2026, 11, 7);
const proc = (pid: number, role: string): ProcessInfo => ({ id: `vm-${pid}`, role, host: 'vm', pid, startedAt: NOW });

/** One process's snapshots of these nodes, all with `status`. */
function snapshots(p: ProcessInfo, nodes: string[], status: 'ended' | 'running'): NodeSnapshot[] {
  const metrics = new PipelineMetrics(pipeline.name);
  for (const id of nodes) metrics.node(id).status = status;
  return metrics
    .snapshot()
    .map((node) => ({ pipeline: pipeline.name, process: p, node, at: NOW, intervalMs: 2000, exited: false }));
}

describe('a run seen from the metrics of its processes', () => {
  it('a live worker that has not reported its own group of an everyProcess node holds the node open', () => {
    const [a, b, api] = [proc(1, 'worker'), proc(2, 'worker'), proc(3, 'api')];
    // Worker b has published only its shared node so far; a and the API have ended the table.
    const seen = [
      ...snapshots(a, ['copy', 'table'], 'ended'),
      ...snapshots(b, ['copy'], 'ended'),
      ...snapshots(api, ['table'], 'ended'),
    ];
    const nodes = clusterNodes(seen, { pipeline: pipeline.name, now: NOW });
    // Every instance reported says ended, so the node alone looks settled…
    expect(nodes.get('table')!.settled).toBe(true);
    // …but worker b runs it too and has not said so.
    expect([...unreported(nodes, pipeline)]).toEqual(['table']);

    const later = clusterNodes([...seen, ...snapshots(b, ['table'], 'ended')], { pipeline: pipeline.name, now: NOW });
    expect([...unreported(later, pipeline)]).toEqual([]);
  });

  it('a process gone (no snapshot for a minute) is not waited for', () => {
    const [a, b] = [proc(1, 'worker'), proc(2, 'worker')];
    const gone = snapshots(b, ['copy'], 'running').map((s) => ({ ...s, at: NOW - 120_000 }));
    const nodes = clusterNodes([...snapshots(a, ['copy', 'table'], 'ended'), ...gone], {
      pipeline: pipeline.name,
      now: NOW,
    });
    expect([...unreported(nodes, pipeline)]).toEqual([]);
  });
});
