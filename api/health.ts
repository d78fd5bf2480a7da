// Readiness: the store answers and no pipeline node has failed (retrying = degraded); a live
// market-data source that is degraded (a Yahoo breaker not closed, stale symbols) degrades it too.
import type { MarketDataStatus } from '../engine/source-status.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { PipelineSource } from './pipeline-view.js';

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface Health {
  status: HealthStatus;
  store: { kind: string; ok: boolean };
  nodes: Array<{ node: string; status: string; lastError: string | null }>;
  /** The live source's state (yahoo); absent for the replay. */
  marketData?: Pick<MarketDataStatus, 'source' | 'state' | 'staleSymbols' | 'breakers'>;
}

export async function health(
  running: PipelineSource,
  store: TimeSeriesStore,
  marketData?: () => MarketDataStatus | null,
): Promise<Health> {
  const ok = await store.ping().catch(() => false);
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
