import { describe, expect, it } from 'vitest';
import { type TableTopic, TestDriver } from '../../engine/index.js';
import { type Bar, type Prediction, type SmaSignal, schemas } from '../../schemas/index.js';
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
      rankScore: null,
    };
    await d.pipe('input', [p, { ...p, upper: 165 }]);
    await d.run();
    const stored = await store.predictions('AAPL');
    expect(stored).toHaveLength(1);
    expect(stored[0]!.upper).toBe(165);
  });
});

describe('timeseries of a declared topic', () => {
  // The SMA-cross example's topic: its records are stored by the key and time it declares.
  const signals = {
    name: 'signals',
    schema: schemas.SmaSignal,
    table: { key: ['symbol'], time: 'ts' },
  } satisfies TableTopic<SmaSignal>;
  const signal = (day: number, direction: string, close: number): SmaSignal => ({
    symbol: 'AAPL',
    ts: Date.UTC(2018, 1, day),
    direction,
    close,
    fast: close * 1.01,
    slow: close,
    fastBars: 20,
    slowBars: 50,
  });

  it('stores any topic with a table: delivering the same batch twice stores each record once', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    const d = await TestDriver.forOperator(timeseries({ store, topic: signals }));
    const batch = [signal(6, 'up', 163.03), signal(7, 'down', 159.54)];
    await d.pipe('input', batch);
    await d.pipe('input', batch);
    await d.run();
    expect(await store.records(signals, { symbol: 'AAPL' })).toEqual(batch);
    await store.close();
  });

  it('refuses a table its schema cannot have, when the pipeline is built', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    expect(() => timeseries({ store, topic: { ...signals, table: { key: ['symbol'], time: 'close' } } })).toThrow(
      'timeseries sink: topic signals: table time field close must be a long with logicalType timestamp-millis',
    );
    await store.close();
  });
});
