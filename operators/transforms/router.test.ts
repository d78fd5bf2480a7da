import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import type { Features } from '../../schemas/index.js';
import { router } from './router.js';

const features = (symbol: string, iso: string): Features => ({
  symbol,
  ts: Date.parse(`${iso}T00:00:00Z`),
  close: 100,
  spec: 'test@0',
  values: new Float32Array(0),
  history: 30,
});

describe('router', () => {
  it('sends symbols near their earnings to the earnings branch', async () => {
    // AAPL reported on 2018-02-01 (after the close): the bar of that day is an earnings window.
    const calendar = { isEarningsWindow: (s: string, ts: number) => s === 'AAPL' && ts === Date.parse('2018-02-01') };
    const d = await TestDriver.forOperator(router({ calendar }));
    await d.pipe('input', [
      features('AAPL', '2018-01-31'),
      features('AAPL', '2018-02-01'),
      features('MSFT', '2018-02-01'),
    ]);
    await d.run();
    const label = (f: Features) => `${f.symbol} ${new Date(f.ts).toISOString().slice(0, 10)}`;
    expect(d.read<Features>('earnings').map(label)).toEqual(['AAPL 2018-02-01']);
    expect(d.read<Features>('normal').map(label)).toEqual(['AAPL 2018-01-31', 'MSFT 2018-02-01']);
  });
});
