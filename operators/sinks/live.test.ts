import { describe, expect, it } from 'vitest';
import { createLiveHub, TestDriver } from '../../engine/index.js';
import { type Bar, schemas } from '../../schemas/index.js';
import { live } from './live.js';

const bar = (symbol: string, close: number): Bar => ({
  symbol,
  ts: Date.UTC(2018, 1, 7),
  interval: '1d',
  open: close,
  high: close,
  low: close,
  close,
  volume: 1,
  quotes: 1,
  source: 'replay',
});

describe('live', () => {
  it('publishes each record to its channel and its per-symbol channel', async () => {
    const hub = createLiveHub();
    const all: Bar[] = [];
    const aapl: Bar[] = [];
    hub.subscribe('bars', (v) => all.push(v as Bar));
    const stop = hub.subscribe('bars:AAPL', (v) => aapl.push(v as Bar));
    const d = await TestDriver.forOperator(live({ hub, schema: schemas.Bar, channel: 'bars' }));
    await d.pipe('input', [bar('AAPL', 159.54), bar('MSFT', 89.61)]);
    await d.run();
    expect(all.map((b) => b.symbol).sort()).toEqual(['AAPL', 'MSFT']);
    expect(aapl.map((b) => b.close)).toEqual([159.54]);
    stop();
    expect(hub.listeners('bars:AAPL')).toBe(0);
  });
});
