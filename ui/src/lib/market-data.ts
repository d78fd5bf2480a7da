// The header's data-source line (components/MarketData.svelte), from GraphQL `marketData`: which
// source, its state when not plainly live (degraded, backfilling…), whether the NYSE is open, and
// how old the newest quote is (a replay: the day it has reached). The tooltip names the stale
// symbols, and the ones with the oldest data.
import { fmtAge } from './format';

export interface MarketDataHeader {
  source: string;
  state: string;
  marketOpen: boolean | null;
  newestQuoteTime: string | null;
  staleSymbols: number;
  /** Oldest data first (GraphQL `stalest(limit)`); null age: never answered. */
  stalest?: ReadonlyArray<{ symbol: string; ageSeconds: number | null }>;
}

export interface MarketDataLine {
  text: string;
  title: string;
  /** Shown in the warning colour. */
  degraded: boolean;
}

/** How many of the stalest symbols the tooltip names. */
export const STALEST_SHOWN = 3;

export function marketDataLine(m: MarketDataHeader, now: number): MarketDataLine {
  const parts = [m.source];
  if (m.state !== 'live') parts.push(m.state);
  if (m.marketOpen !== null) parts.push(m.marketOpen ? 'market open' : 'market closed');
  if (m.newestQuoteTime) {
    // A replay's time is the replayed day; a live source's is how old its newest quote is.
    parts.push(
      m.source === 'yahoo'
        ? `newest quote ${fmtAge(now - Date.parse(m.newestQuoteTime))} ago`
        : `at ${m.newestQuoteTime.slice(0, 10)}`,
    );
  }
  const titles = [m.staleSymbols > 0 ? `${staleCount(m.staleSymbols)}: their last values are kept` : 'data source'];
  const oldest = (m.stalest ?? []).slice(0, STALEST_SHOWN);
  if (oldest.length > 0) {
    const named = oldest.map(
      (s) => `${s.symbol} (${s.ageSeconds === null ? 'none yet' : fmtAge(s.ageSeconds * 1000)})`,
    );
    titles.push(`oldest data: ${named.join(', ')}`);
  }
  return { text: parts.join(' · '), title: titles.join('; '), degraded: m.state === 'degraded' };
}

function staleCount(n: number): string {
  return n === 1 ? '1 symbol stale' : `${n.toLocaleString('en-US')} symbols stale`;
}
