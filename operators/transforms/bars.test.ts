import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import { type Bar, type Quote, schemas } from '../../schemas/index.js';
import { bars } from './bars.js';

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const DAY = 86_400_000;

// Real AAPL days from data/sp500-daily/AAPL_data.csv.
const aapl = (iso: string, open: number, high: number, low: number, close: number, volume: number): Quote => ({
  symbol: 'AAPL',
  ts: day(iso) + 21 * 3_600_000,
  price: close,
  dayOpen: open,
  dayHigh: high,
  dayLow: low,
  dayVolume: volume,
  source: 'replay',
});
const feb6 = aapl('2018-02-06', 154.83, 163.72, 154, 163.03, 68243838);
const feb7 = aapl('2018-02-07', 163.085, 163.4, 159.0685, 159.54, 51608580);

const tick = (iso: string, price: number, dayVolume: number): Quote => ({
  symbol: 'MSFT',
  ts: Date.parse(iso),
  price,
  dayOpen: null,
  dayHigh: null,
  dayLow: null,
  dayVolume,
  source: 'yahoo',
});

describe('bars', () => {
  it('turns a daily quote into a daily bar when the watermark closes the day', async () => {
    const d = await TestDriver.forOperator(bars({ interval: '1d' }));
    await d.pipe('input', feb6);
    await d.run();
    expect(d.read('bars')).toEqual([]);
    await d.advanceWatermark('input', day('2018-02-07'));
    expect(d.read<Bar>('bars')).toEqual([
      {
        symbol: 'AAPL',
        ts: day('2018-02-06'),
        interval: '1d',
        open: 154.83,
        high: 163.72,
        low: 154,
        close: 163.03,
        volume: 68243838,
        quotes: 1,
        source: 'replay',
      },
    ]);
  });

  it('ignores an exact duplicate and dead-letters a quote later than the grace period', async () => {
    const d = await TestDriver.forOperator(bars({ interval: '1d', graceMs: 3_600_000 }));
    await d.pipe('input', [feb6, feb6]);
    await d.advanceWatermark('input', day('2018-02-07') + 3_600_000);
    await d.pipe('input', feb6); // the window closed an hour after midnight: too late now
    await d.pipe('input', feb7);
    await d.advanceWatermark('input', day('2018-02-08') + 3_600_000);
    expect(d.read<Bar>('bars').map((b) => [b.close, b.quotes])).toEqual([
      [163.03, 1],
      [159.54, 1],
    ]);
    const dlq = d.deadLetters('input');
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({ kind: 'late', key: 'AAPL' });
    expect(dlq[0]!.reason).toMatch(
      /late quote: 2018-02-06T21:00:00.000Z is in a window closed at 2018-02-07T01:00:00.000Z/,
    );
  });

  it('accepts a late quote within the grace period into its still-open window', async () => {
    const d = await TestDriver.forOperator(bars({ interval: '1m', graceMs: 30_000 }));
    await d.pipe('input', [tick('2018-02-07T15:30:05Z', 92.1, 1000), tick('2018-02-07T15:31:02Z', 92.3, 1500)]);
    await d.advanceWatermark('input', Date.parse('2018-02-07T15:31:10Z'));
    await d.pipe('input', tick('2018-02-07T15:30:50Z', 92.6, 1200)); // 20 s after its window ended
    await d.advanceWatermark('input', Date.parse('2018-02-07T15:32:30Z'));
    const out = d.read<Bar>('bars');
    expect(out.map((b) => [new Date(b.ts).toISOString(), b.open, b.high, b.low, b.close, b.volume, b.quotes])).toEqual([
      ['2018-02-07T15:30:00.000Z', 92.1, 92.6, 92.1, 92.6, 1200, 2],
      ['2018-02-07T15:31:00.000Z', 92.3, 92.3, 92.3, 92.3, 300, 1],
    ]);
    expect(d.deadLetters('input')).toEqual([]);
  });

  it('builds minute bars from live quotes, out of order within the minute', async () => {
    const d = await TestDriver.forOperator(bars({ interval: '1m' }));
    await d.pipe('input', [
      tick('2018-02-07T15:30:40Z', 92.4, 2000),
      tick('2018-02-07T15:30:05Z', 92.1, 1000), // arrives late but inside the open window
      tick('2018-02-07T15:30:59Z', 92.0, 2600),
    ]);
    await d.advanceWatermark('input', Date.parse('2018-02-07T15:31:00Z'));
    expect(d.read<Bar>('bars')).toMatchObject([
      {
        ts: Date.parse('2018-02-07T15:30:00Z'),
        interval: '1m',
        open: 92.1,
        high: 92.4,
        low: 92.0,
        close: 92.0,
        volume: 2600,
        quotes: 3,
      },
    ]);
  });

  it('keeps state only for open windows', async () => {
    const d = await TestDriver.forOperator(bars({ interval: '1d' }));
    await d.pipe('input', feb6);
    await d.run();
    expect(d.state('bars').get('AAPL')).toMatchObject({ windows: { [String(day('2018-02-06'))]: { close: 163.03 } } });
    await d.advanceWatermark('input', day('2018-02-06') + DAY);
    expect(d.state('bars').size).toBe(0);
  });

  it('accepts a ticker it has never seen, and dead-letters one that is not a ticker', async () => {
    const d = await TestDriver.forOperator(bars({ interval: '1d' }));
    // Policy: any well-formed ticker is welcome (new listings); a malformed one is rejected.
    await d.pipe('input', { ...feb7, symbol: 'NEWCO' });
    await d.pipeRaw('input', schemas.Quote.type.toBuffer({ ...feb7, symbol: 'not a ticker' }));
    await d.advanceWatermark('input', day('2018-02-08'));
    expect(d.read<Bar>('bars').map((b) => b.symbol)).toEqual(['NEWCO']);
    expect(d.deadLetters('input')).toMatchObject([
      { kind: 'validation', reason: 'symbol: "not a ticker" is not a ticker (A-Z, digits, . ^ = -)' },
    ]);
  });
});

describe('bars from some sources only (minute bars of live quotes, not of daily history rows)', () => {
  it('skips quotes of other sources', async () => {
    const d = await TestDriver.forOperator(bars({ interval: '1m', sources: ['yahoo'] }));
    const history: Quote = { ...tick('2025-02-13T21:00:00Z', 400, 1000), source: 'yahoo-history' };
    await d.pipe('input', [history, tick('2025-02-14T15:00:05Z', 410, 2000)]);
    await d.advanceWatermark('input', Date.parse('2025-02-14T15:01:00Z'));
    expect(d.read<Bar>('bars').map((b) => [new Date(b.ts).toISOString(), b.close, b.source])).toEqual([
      ['2025-02-14T15:00:00.000Z', 410, 'yahoo'],
    ]);
    expect(d.deadLetters('input')).toEqual([]);
  });
});
