// What a live market-data source reports about itself, for the API (GraphQL marketData, /healthz)
// and the dashboard header: the one shape every source's status takes, so the API reads it
// without knowing which source (or operator module) produced it.

/** A circuit breaker's state (closed: calls go through; open: refused; half-open: one probe). */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface MarketDataStatus {
  source: string;
  /** starting, backfilling, live, degraded (stale symbols or a breaker not closed), stopped. */
  state: 'starting' | 'backfilling' | 'live' | 'degraded' | 'stopped';
  marketOpen: boolean | null;
  /** Event time of the newest quote seen (epoch ms). */
  newestQuoteTs: number | null;
  symbols: number;
  /** Symbols whose last fetch failed: their last good values are kept. */
  staleSymbols: number;
  /** Age of the freshest data the source holds per symbol: max and median over the universe, ms. */
  dataAgeMaxMs: number | null;
  dataAgeMedianMs: number | null;
  /**
   * The symbols with the oldest data, oldest first: at most STALEST_SYMBOLS of them, whatever the
   * universe's size (5,000 symbols must not make 5,000 rows or metric series). Sources without
   * per-symbol data (a replay) leave it out.
   */
  stalest?: SymbolDataAge[];
  breakers: Array<{ endpoint: string; state: BreakerState }>;
  /** Start of the last full quote cycle (epoch ms). */
  lastCycleAt: number | null;
  backfill: { done: number; total: number } | null;
}

/** How many of its stalest symbols a source's status lists (GraphQL `marketData.stalest(limit)`). */
export const STALEST_SYMBOLS = 20;

export interface SymbolDataAge {
  symbol: string;
  /** Since the source last got an answer for it, ms; null: never answered (unknown, or failing since start). */
  ageMs: number | null;
  /** Its last fetch failed: the last good values are kept. */
  stale: boolean;
}
