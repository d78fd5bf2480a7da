// The header's data-source line: source, state (degraded, market closed), the newest quote's age,
// and the tooltip naming stale symbols and the ones with the oldest data.
import { describe, expect, it } from 'vitest';
import { type MarketDataHeader, marketDataLine } from './market-data';

const NOW = Date.parse('2025-02-18T15:03:00Z');
const yahoo: MarketDataHeader = {
  source: 'yahoo',
  state: 'live',
  marketOpen: true,
  newestQuoteTime: '2025-02-18T15:02:48.000Z',
  staleSymbols: 0,
};

describe('market data line', () => {
  it('yahoo, live while the market is open: source, market open, the newest quote’s age', () => {
    expect(marketDataLine(yahoo, NOW)).toEqual({
      text: 'yahoo · market open · newest quote 12 s ago',
      title: 'data source',
      degraded: false,
    });
  });

  it('says "market closed" between sessions, with how old the last quote is', () => {
    const closed = { ...yahoo, marketOpen: false, newestQuoteTime: '2025-02-14T21:00:00.000Z' };
    expect(marketDataLine(closed, NOW).text).toBe('yahoo · market closed · newest quote 4 d ago');
  });

  it('degraded: says so (in the warning colour), and the tooltip names the stale and the oldest symbols', () => {
    const degraded: MarketDataHeader = {
      ...yahoo,
      state: 'degraded',
      staleSymbols: 2,
      stalest: [
        { symbol: 'NONEXIST', ageSeconds: null },
        { symbol: 'MSFT', ageSeconds: 180 },
        { symbol: 'AAPL', ageSeconds: 120 },
        { symbol: 'GOOG', ageSeconds: 60 },
      ],
    };
    expect(marketDataLine(degraded, NOW)).toEqual({
      text: 'yahoo · degraded · market open · newest quote 12 s ago',
      title:
        '2 symbols stale: their last values are kept; oldest data: NONEXIST (none yet), MSFT (3 min), AAPL (2 min)',
      degraded: true,
    });
    expect(marketDataLine({ ...degraded, staleSymbols: 1, stalest: [] }, NOW).title).toBe(
      '1 symbol stale: their last values are kept',
    );
  });

  it('other states before the quotes flow: backfilling, no quote yet', () => {
    expect(marketDataLine({ ...yahoo, state: 'backfilling', newestQuoteTime: null }, NOW).text).toBe(
      'yahoo · backfilling · market open',
    );
  });

  it('a replay: no market hours, the day it has reached instead of an age', () => {
    const replay = {
      source: 'replay',
      state: 'live',
      marketOpen: null,
      newestQuoteTime: '2016-03-04T21:00:00.000Z',
      staleSymbols: 0,
    };
    expect(marketDataLine(replay, NOW)).toEqual({
      text: 'replay · at 2016-03-04',
      title: 'data source',
      degraded: false,
    });
    expect(marketDataLine({ ...replay, state: 'stopped' }, NOW).text).toBe('replay · stopped · at 2016-03-04');
  });
});
