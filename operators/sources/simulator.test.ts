import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import type { Quote } from '../../schemas/index.js';
import { simulator } from './simulator.js';

describe('simulator (synthetic data for benchmarks)', () => {
  it('labels every quote as synthetic and repeats exactly for a seed', async () => {
    const run = async () => {
      const d = await TestDriver.forOperator(simulator({ symbols: 3, ticks: 2, seed: 7 }));
      await d.runSource();
      return d.read<Quote>('quotes');
    };
    const quotes = await run();
    expect(quotes).toHaveLength(6);
    expect(quotes.every((q) => q.source === 'simulator' && q.symbol.startsWith('SIM'))).toBe(true);
    expect(quotes.every((q) => q.dayLow! <= q.price && q.price <= q.dayHigh!)).toBe(true);
    expect(await run()).toEqual(quotes);
  });
});
