// Streaming features equal offline features for the same bars: one definition, two uses.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import { loadEarningsCalendar } from '../../models/earnings-calendar.js';
import { computeFeatureSeries, FEATURE_NAMES, FEATURE_SPEC } from '../../models/features.js';
import type { Bar, Features } from '../../schemas/index.js';
import { features } from './features.js';

function realBars(ticker: string): Bar[] {
  const lines = readFileSync(new URL(`../../data/sp500-daily/${ticker}_data.csv`, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  return lines
    .map((l) => l.split(','))
    .filter((c) => c.slice(0, 6).every((x) => x !== ''))
    .map(([date, open, high, low, close, volume]) => ({
      symbol: ticker,
      ts: Date.parse(`${date}T00:00:00Z`),
      interval: '1d',
      open: Number(open),
      high: Number(high),
      low: Number(low),
      close: Number(close),
      volume: Number(volume),
      quotes: 1,
      source: 'replay',
    }));
}

describe('features', () => {
  it('computes the same numbers streaming as offline training does, for real bars', async () => {
    const bars = [...realBars('AAPL').slice(0, 300), ...realBars('KO').slice(0, 300)];
    const calendar = await loadEarningsCalendar(
      new URL('../../data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv', import.meta.url).pathname,
    );
    const d = await TestDriver.forOperator(features({ calendar }), { partitions: 2 });
    await d.pipe('input', bars);
    await d.run();
    const out = d.read<Features>('features');
    for (const ticker of ['AAPL', 'KO']) {
      const streamed = out.filter((f) => f.symbol === ticker);
      const offline = computeFeatureSeries(
        bars.filter((b) => b.symbol === ticker),
        calendar,
      );
      expect(streamed).toHaveLength(300);
      // Bit for bit: Avro doubles round-trip exactly, and it is the same code.
      expect(streamed.map((f) => f.values)).toEqual(offline);
    }
    const last = out.filter((f) => f.symbol === 'AAPL').at(-1)!;
    expect(last).toMatchObject({ spec: FEATURE_SPEC.id, history: 300, close: bars[299]!.close });
    expect(last.values).toHaveLength(FEATURE_NAMES.length);
    expect(last.values.every(Number.isFinite)).toBe(true);
  });

  it('ignores a re-delivered bar', async () => {
    const bars = realBars('AAPL').slice(0, 30);
    const d = await TestDriver.forOperator(features());
    await d.pipe('input', [...bars, bars[29]!]);
    await d.run();
    expect(d.read('features')).toHaveLength(30);
  });
});
