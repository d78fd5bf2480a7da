import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import type { Bar, Prediction } from '../../schemas/index.js';
import { openDuckDbStore } from '../../storage/duckdb-store.js';
import { timeseries } from './timeseries.js';

// AAPL, real closes of 2018-02-06 and 2018-02-07 (data/sp500-daily/AAPL_data.csv).
const bar = (day: number, close: number): Bar => ({
  symbol: 'AAPL',
  ts: Date.UTC(2018, 1, day),
  interval: '1d',
  open: close,
  high: close,
  low: close,
  close,
  volume: 1,
  quotes: 1,
  source: 'replay',
});

describe('timeseries', () => {
  it('upserts bars: delivering the same batch twice stores each row once', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    const d = await TestDriver.forOperator(timeseries({ store, table: 'bars' }));
    await d.pipe('input', [bar(6, 163.03), bar(7, 159.54)]);
    await d.pipe('input', [bar(6, 163.03), bar(7, 159.54)]);
    await d.run();
    expect((await store.counts()).bars).toBe(2);
    expect((await store.latestBars(['AAPL']))[0]!.close).toBe(159.54);
  });

  it('upserts predictions on (symbol, ts, horizon)', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    const d = await TestDriver.forOperator(timeseries({ store, table: 'predictions' }));
    const p: Prediction = {
      id: `AAPL:${Date.UTC(2018, 1, 7)}:1`,
      symbol: 'AAPL',
      ts: Date.UTC(2018, 1, 7),
      horizon: 1,
      targetTs: Date.UTC(2018, 1, 8),
      lastClose: 159.54,
      predictedClose: 159.54,
      predictedReturn: 0,
      lower: 155.1,
      upper: 164.1,
      model: 'persistence',
      modelVersion: '1',
      regime: 'normal',
      createdAt: Date.UTC(2018, 1, 7, 22),
    };
    await d.pipe('input', [p, { ...p, upper: 165 }]);
    await d.run();
    const stored = await store.predictions('AAPL');
    expect(stored).toHaveLength(1);
    expect(stored[0]!.upper).toBe(165);
  });
});
