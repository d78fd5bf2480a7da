// Readiness: the store answers and no pipeline node has failed (retrying = degraded).
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { PipelineSource } from './pipeline-view.js';

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface Health {
  status: HealthStatus;
  store: { kind: string; ok: boolean };
  nodes: Array<{ node: string; status: string; lastError: string | null }>;
}

export async function health(running: PipelineSource, store: TimeSeriesStore): Promise<Health> {
  const ok = await store.ping().catch(() => false);
  const nodes = running.metrics.snapshot().map((n) => ({ node: n.node, status: n.status, lastError: n.lastError }));
  const failing = nodes.some((n) => n.status === 'failed');
  const retrying = nodes.some((n) => n.status === 'retrying');
  return { status: !ok || failing ? 'down' : retrying ? 'degraded' : 'ok', store: { kind: store.kind, ok }, nodes };
}
