// Readiness: the store answers and no pipeline node has failed (retrying = degraded); a live
// market-data source that is degraded (a Yahoo breaker not closed, stale symbols) degrades it too.
// Before the pipeline runs (a server started before it, to serve the store during start-up), it is
// `starting`: ready to answer from the store, nothing computed yet; `down` if the store does not answer.
import type { MarketDataStatus } from '../engine/source-status.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { PipelineSource } from './pipeline-view.js';

export type HealthStatus = 'ok' | 'degraded' | 'starting' | 'down';

export interface Health {
  status: HealthStatus;
  store: { kind: string; ok: boolean };
  nodes: Array<{ node: string; status: string; lastError: string | null }>;
  /** The live source's state (yahoo); absent for the replay. */
  marketData?: Pick<MarketDataStatus, 'source' | 'state' | 'staleSymbols' | 'breakers'>;
}

/** `running`: null while the pipeline is starting. */
export async function health(
  running: PipelineSource | null,
  store: TimeSeriesStore,
  marketData?: () => MarketDataStatus | null,
): Promise<Health> {
  const ok = await store.ping().catch(() => false);
  if (!running) return { status: ok ? 'starting' : 'down', store: { kind: store.kind, ok }, nodes: [] };
  const nodes = running.metrics.snapshot().map((n) => ({ node: n.node, status: n.status, lastError: n.lastError }));
  const failing = nodes.some((n) => n.status === 'failed');
  const retrying = nodes.some((n) => n.status === 'retrying');
  const market = marketData?.() ?? null;
  const degraded = retrying || market?.state === 'degraded';
  return {
    status: !ok || failing ? 'down' : degraded ? 'degraded' : 'ok',
    store: { kind: store.kind, ok },
    nodes,
    ...(market
      ? {
          marketData: {
            source: market.source,
            state: market.state,
            staleSymbols: market.staleSymbols,
            breakers: market.breakers,
          },
        }
      : {}),
  };
}
