// facts: the shipped model's fact sheets for real AAPL features (bundled prices and earnings).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import { loadDailyBars } from '../../models/daily-csv.js';
import { loadEarningsCalendar } from '../../models/earnings-calendar.js';
import { computeFeatureSeries, FEATURE_SPEC } from '../../models/features.js';
import { loadShipped } from '../../models/shipped.js';
import type { FactSheet, Features } from '../../schemas/index.js';
import { facts } from './facts.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const DAY = 86_400_000;

async function aaplFeatures(
  days: number,
): Promise<{ features: Features[]; calendar: Awaited<ReturnType<typeof loadEarningsCalendar>> }> {
  const calendar = await loadEarningsCalendar(
    join(ROOT, 'data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv'),
  );
  const { bars } = await loadDailyBars(join(ROOT, 'data/sp500-daily'), { symbols: ['AAPL'] });
  const aapl = bars.get('AAPL')!;
  const rows = computeFeatureSeries(aapl, calendar);
  const features = aapl.slice(-days).map((b, i) => ({
    symbol: 'AAPL',
    ts: b.ts,
    close: b.close,
    spec: FEATURE_SPEC.id,
    values: rows[rows.length - days + i]!,
    history: aapl.length - days + i + 1,
  }));
  return { features, calendar };
}

describe('facts', () => {
  it("writes one sheet per symbol and batch, for the newest bar, with the model's forecasts and what moved them", async () => {
    const shipped = (await loadShipped())!;
    const { features, calendar } = await aaplFeatures(3);
    const d = await TestDriver.forOperator(facts({ model: shipped.normal, regime: 'normal', calendar }));
    await d.pipe('input', features);
    await d.run();
    const sheets = d.read<FactSheet>('facts');
    // Three bars of AAPL in one batch: the newest (2018-02-07) gets the sheet.
    expect(sheets.map((s) => s.id)).toEqual([`facts:AAPL:${Date.UTC(2018, 1, 7)}`]);
    const sheet = sheets[0]!;
    expect(sheet).toMatchObject({
      symbol: 'AAPL',
      ts: Date.UTC(2018, 1, 7),
      asOf: Date.UTC(2018, 1, 8),
      regime: 'normal',
    });
    const fact = (name: string) => sheet.facts.find((f) => f.name === name);
    expect(fact('close')).toMatchObject({ value: 159.54, unit: 'usd', id: `AAPL:${Date.UTC(2018, 1, 7)}:close` });

    // The sheet's forecast is the model's: the same numbers predict gives.
    const [out] = (await shipped.normal.predictBatch([features[2]!])).filter((o) => o.horizon === 1);
    expect(fact('h1.change')!.value).toBeCloseTo(Math.expm1(out!.predictedReturn) * 100, 10);
    expect(fact('h1.close')!.value).toBeCloseTo(159.54 * Math.exp(out!.predictedReturn), 10);
    expect(fact('h1.target')!.value).toBe(Date.UTC(2018, 1, 8));

    // Drivers: ten groups whose contributions add up to the forecast minus the average-input forecast.
    for (const h of [1, 5, 21]) {
      const drivers = sheet.facts.filter((f) => f.name.startsWith(`h${h}.driver.`));
      expect(drivers).toHaveLength(10);
      const sum = drivers.reduce((a, f) => a + f.value!, 0);
      const change = Math.log1p(fact(`h${h}.change`)!.value! / 100) * 100;
      const baseline = Math.log1p(fact(`h${h}.baseline`)!.value! / 100) * 100;
      // Integrated gradients on the nets: complete within a few percent of the move (models/README.md).
      expect(Math.abs(sum - (change - baseline))).toBeLessThan(0.05 * Math.abs(change - baseline) + 1e-4);
      // `constant`: the shipped median at h is a constant baseline's (models/README.md, "Which point ships").
      expect(fact(`h${h}.method`)!.text).toMatch(/^(exact|integrated-gradients:\d+|constant)$/);
      expect(sheet.facts.filter((f) => f.name.startsWith(`h${h}.feature.`))).toHaveLength(3);
    }

    // Earnings: AAPL reported on 2018-02-01, after the close (the calendar's date), and next on 2018-05-01.
    expect(fact('earnings.last')!.value).toBe(Date.UTC(2018, 1, 1));
    expect(fact('earnings.daysSince')!.value).toBe(6);
    expect(fact('earnings.surprise')!.unit).toBe('pct');
    expect(sheet.facts.every((f) => f.id === `AAPL:${sheet.ts}:${f.name}`)).toBe(true);
  });

  it('says so when a symbol has no earnings dates, and writes no driver facts for a model without attributions', async () => {
    const { features } = await aaplFeatures(1);
    const calendar = await loadEarningsCalendar(
      join(ROOT, 'data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv'),
    );
    const shipped = (await loadShipped())!;
    const persistence = { ...shipped.normal, name: 'persistence', attribute: undefined };
    const d = await TestDriver.forOperator(facts({ model: persistence, regime: 'normal', calendar }));
    const xyz = { ...features[0]!, symbol: 'XYZ' };
    await d.pipe('input', xyz);
    await d.run();
    const [sheet] = d.read<FactSheet>('facts');
    expect(sheet!.facts.find((f) => f.name === 'earnings.none')?.text).toBe('no earnings dates are known for XYZ');
    expect(sheet!.facts.some((f) => f.kind === 'driver')).toBe(false);
    expect(sheet!.asOf - sheet!.ts).toBe(DAY);
  });

  it('dead-letters features of another spec instead of explaining them with the wrong inputs', async () => {
    const shipped = (await loadShipped())!;
    const { features } = await aaplFeatures(1);
    const d = await TestDriver.forOperator(facts({ model: shipped.normal, regime: 'normal' }));
    await d.pipe('input', { ...features[0]!, spec: 'basic@other' });
    await d.run();
    expect(d.read('facts')).toEqual([]);
    expect(d.deadLetters('input').map((l) => l.reason)).toEqual([
      expect.stringContaining('features spec basic@other does not match model'),
    ]);
  });
});
