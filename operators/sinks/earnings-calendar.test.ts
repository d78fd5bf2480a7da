import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import { createEarningsCalendar, createLiveEarningsCalendar } from '../../models/earnings-calendar.js';
import type { Earnings } from '../../schemas/index.js';
import { earningsCalendar } from './earnings-calendar.js';

const at = (iso: string) => Date.parse(iso);

describe('earnings-calendar sink', () => {
  it('applies each symbol’s newest upcoming days to the calendar the router reads', async () => {
    const file = createEarningsCalendar([
      { symbol: 'AAPL', date: at('2025-01-30T00:00:00Z'), epsEstimate: 2.35, epsActual: 2.4, surprisePct: 2.1 },
    ]);
    const calendar = createLiveEarningsCalendar(file);
    const d = await TestDriver.forOperator(earningsCalendar({ calendar }));
    const record = (symbol: string, ts: string, days: string[]): Earnings => ({
      symbol,
      ts: at(ts),
      days: days.map(at),
      source: 'yahoo',
    });
    await d.pipe('input', [
      record('AAPL', '2025-02-18T15:00:00Z', ['2025-05-01T00:00:00Z']),
      // A newer answer moves the date: the newest record wins.
      record('AAPL', '2025-02-19T15:00:00Z', ['2025-04-30T00:00:00Z']),
      record('QQQ', '2025-02-18T15:00:00Z', []),
    ]);
    await d.run();
    expect(calendar.nextEarnings('AAPL', at('2025-02-20T00:00:00Z'))?.date).toBe(at('2025-04-30T00:00:00Z'));
    expect(calendar.isEarningsWindow('AAPL', at('2025-04-29T00:00:00Z'))).toBe(true);
    expect(calendar.isEarningsWindow('AAPL', at('2025-05-01T00:00:00Z'))).toBe(false);
    // The file's past announcement, with its EPS, is still there.
    expect(calendar.lastEarnings('AAPL', at('2025-02-20T00:00:00Z'))?.epsActual).toBe(2.4);
    expect([...calendar.updated.keys()].sort()).toEqual(['AAPL', 'QQQ']);
  });
});
