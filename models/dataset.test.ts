import { describe, expect, it } from 'vitest';
import { loadDailyBars } from './daily-csv.js';
import { buildDataset, targetRows } from './dataset.js';
import { loadEarningsCalendar } from './earnings-calendar.js';
import { computeFeatureSeries } from './features.js';

const ROOT = new URL('..', import.meta.url).pathname;

describe('buildDataset', () => {
  it('pairs each real bar with its features, future log returns and earnings flag', async () => {
    const { bars } = await loadDailyBars(`${ROOT}data/sp500-daily`, { symbols: ['AAPL', 'KO'] });
    const calendar = await loadEarningsCalendar(
      `${ROOT}data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv`,
    );
    const data = buildDataset(bars, { horizons: [1, 5], calendar });
    const aapl = bars.get('AAPL')!;
    expect(data.examples).toHaveLength(aapl.length + bars.get('KO')!.length);
    // Grouped by day: both symbols of a day next to each other, in name order.
    expect(data.examples.slice(0, 2).map((e) => e.symbol)).toEqual(['AAPL', 'KO']);

    const i = 100;
    const e = data.examples.find((x) => x.symbol === 'AAPL' && x.ts === aapl[i]!.ts)!;
    expect(e.targets[0]).toBeCloseTo(Math.log(aapl[i + 1]!.close / aapl[i]!.close), 15);
    expect(e.targets[1]).toBeCloseTo(Math.log(aapl[i + 5]!.close / aapl[i]!.close), 15);
    expect(e.features).toEqual(computeFeatureSeries(aapl, calendar)[i]);
    // The last bar has no next-day target.
    expect(data.examples.filter((x) => x.symbol === 'AAPL').at(-1)!.targets[0]).toBeNaN();
    // AAPL reported on 2015-07-21 after the close.
    expect(data.examples.find((x) => x.symbol === 'AAPL' && x.ts === Date.UTC(2015, 6, 21))!.earnings).toBe(true);
    expect(data.examples.find((x) => x.symbol === 'AAPL' && x.ts === Date.UTC(2015, 6, 14))!.earnings).toBe(false);
  });

  it('keeps only the examples of a window (as they are without one), every day, and the other targets on demand', async () => {
    const { bars } = await loadDailyBars(`${ROOT}data/sp500-daily`, { symbols: ['AAPL', 'KO'] });
    const calendar = await loadEarningsCalendar(
      `${ROOT}data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv`,
    );
    const full = buildDataset(bars, { horizons: [1, 5], calendar });
    const window = { from: Date.UTC(2017, 0, 3), to: Date.UTC(2017, 6, 1) };
    const scored = buildDataset(bars, { horizons: [1, 5], calendar, window });
    // The features are folded over every bar: the window's examples equal the full dataset's.
    expect(scored.examples).toEqual(full.examples.filter((e) => e.ts >= window.from && e.ts < window.to));
    expect(scored.examples).toHaveLength(2 * 125); // 125 NYSE sessions in the first half of 2017
    expect(scored.days).toEqual(full.days);
    // The examples left out are still there for statistics of returns, one at a time.
    const rows = [...targetRows(bars, [1, 5])].sort((a, b) => a.ts - b.ts || a.symbol.localeCompare(b.symbol));
    expect(rows).toEqual(full.examples.map(({ symbol, ts, targets }) => ({ symbol, ts, targets })));
  });
});
