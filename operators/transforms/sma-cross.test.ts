// The SMA-cross example on real bars (the bundled KO history): what a data engineer's test of a
// stateful operator looks like, with no broker and no sleeps.
import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import { loadDailyBars } from '../../models/daily-csv.js';
import type { SmaSignal } from '../../schemas/index.js';
import { type SmaCrossState, smaCross } from './sma-cross.js';

const DATA = new URL('../../data/sp500-daily', import.meta.url).pathname;
const iso = (t: number) => new Date(t).toISOString().slice(0, 10);

describe('sma-cross', async () => {
  const { bars } = await loadDailyBars(DATA, { symbols: ['KO'] });
  const ko = bars.get('KO')!;
  const sma = (i: number, n: number) => ko.slice(i - n + 1, i + 1).reduce((a, b) => a + b.close, 0) / n;

  it('signals each 20/50-bar crossover of KO, alternating up and down, where the averages really crossed', async () => {
    const d = await TestDriver.forOperator(smaCross({ fast: 20, slow: 50 }));
    await d.pipe('input', ko);
    await d.run();
    const signals = d.read<SmaSignal>('signals');
    expect(signals.length).toBeGreaterThan(10);
    for (const [k, s] of signals.entries()) {
      if (k > 0) expect(s.direction).not.toBe(signals[k - 1]!.direction);
      // Checked against the averages computed here from the same closes.
      const i = ko.findIndex((b) => b.ts === s.ts);
      expect(s.fast).toBeCloseTo(sma(i, 20), 9);
      expect(s.slow).toBeCloseTo(sma(i, 50), 9);
      const before = Math.sign(sma(i - 1, 20) - sma(i - 1, 50));
      expect(Math.sign(s.fast - s.slow)).toBe(s.direction === 'up' ? 1 : -1);
      expect(before === 0 || before === -Math.sign(s.fast - s.slow), iso(s.ts)).toBe(true);
    }
    // The state is per symbol and declared: it holds the last 50 closes.
    const state = d.state<SmaCrossState>('sma-cross').get('KO')!;
    expect(state.closes).toHaveLength(50);
    expect(state.closes.at(-1)).toBe(ko.at(-1)!.close);
  });

  it('takes a re-delivered bar as a repeat: no second signal', async () => {
    const d = await TestDriver.forOperator(smaCross({ fast: 20, slow: 50 }));
    await d.pipe('input', ko);
    await d.run();
    const first = d.read<SmaSignal>('signals').length;
    await d.pipe('input', ko.slice(-200));
    await d.run();
    expect(d.read<SmaSignal>('signals')).toHaveLength(first);
  });

  it('refuses averages that cannot cross', () => {
    expect(() => smaCross({ fast: 50, slow: 20 })).toThrow(/1 <= fast < slow/);
  });
});
