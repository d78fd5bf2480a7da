// facts: the shipped model's fact sheets for real AAPL features (bundled prices and earnings).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import { checkGrounding } from '../../explain/grounding.js';
import { writeExplanation } from '../../explain/template-explainer.js';
import { withCalibration } from '../../models/calibration-table.js';
import { loadDailyBars } from '../../models/daily-csv.js';
import { loadEarningsCalendar } from '../../models/earnings-calendar.js';
import { computeFeatureSeries, FEATURE_SPEC } from '../../models/features.js';
import { predictionsFrom } from '../../models/predictions.js';
import { loadShipped } from '../../models/shipped.js';
import type { FactSheet, Features } from '../../schemas/index.js';
import { tableScalingH5 } from '../../test/support/calibration.js';
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
      const method = fact(`h${h}.method`)!.text;
      expect(method).toMatch(/^(exact|integrated-gradients:\d+|constant)$/);
      // `constant`: the shipped median at h is a constant baseline's (models/README.md, "Which point ships"):
      // no feature moved it, so the drivers are those of the interval's width (below).
      const prefix = method === 'constant' ? 'width' : '';
      const drivers = sheet.facts.filter((f) => f.name.startsWith(`h${h}.${prefix ? 'widthDriver' : 'driver'}.`));
      expect(drivers).toHaveLength(10);
      const sum = drivers.reduce((a, f) => a + f.value!, 0);
      const [value, baseline] =
        method === 'constant'
          ? [fact(`h${h}.width`)!.value!, fact(`h${h}.widthBaseline`)!.value!]
          : [
              Math.log1p(fact(`h${h}.change`)!.value! / 100) * 100,
              Math.log1p(fact(`h${h}.baseline`)!.value! / 100) * 100,
            ];
      // Integrated gradients on the nets: complete within a few percent of the move (models/README.md).
      expect(Math.abs(sum - (value - baseline))).toBeLessThan(0.05 * Math.abs(value - baseline) + 1e-4);
      expect(
        sheet.facts.filter((f) => f.name.startsWith(`h${h}.${prefix ? 'widthFeature' : 'feature'}.`)),
      ).toHaveLength(3);
    }

    // Earnings: AAPL reported on 2018-02-01, after the close (the calendar's date), and next on 2018-05-01.
    expect(fact('earnings.last')!.value).toBe(Date.UTC(2018, 1, 1));
    expect(fact('earnings.daysSince')!.value).toBe(6);
    expect(fact('earnings.surprise')!.unit).toBe('pct');
    expect(sheet.facts.every((f) => f.id === `AAPL:${sheet.ts}:${f.name}`)).toBe(true);
  });

  it('with the shipped constant point, says where the point comes from and what widened or narrowed the interval', async () => {
    const shipped = (await loadShipped())!;
    const { features, calendar } = await aaplFeatures(1);
    const d = await TestDriver.forOperator(facts({ model: shipped.normal, regime: 'normal', calendar }));
    await d.pipe('input', features);
    await d.run();
    const [sheet] = d.read<FactSheet>('facts');
    const fact = (name: string) => sheet!.facts.find((f) => f.name === name);
    const [out] = (await shipped.normal.predictBatch(features)).filter((o) => o.horizon === 1);
    // models/artifacts/shipped.json ships constantDrift's median at h1: no point drivers, all of it zeros.
    expect(fact('h1.method')!.text).toBe('constant');
    expect(sheet!.facts.some((f) => f.name.startsWith('h1.driver.') || f.name.startsWith('h1.feature.'))).toBe(false);
    expect(fact('h1.point')!.text).toMatch(/^the training window's constant drift .*did not beat it on validation/);
    // The interval's width, as the prediction shows it, and what moved it.
    expect(fact('h1.width')).toMatchObject({ unit: 'pct', kind: 'driver', id: `AAPL:${sheet!.ts}:h1.width` });
    expect(fact('h1.width')!.value).toBeCloseTo((out!.upperReturn - out!.lowerReturn) * 100, 6);
    expect(fact('h1.widthMethod')!.text).toBe('integrated-gradients:32');
    expect(Math.abs(fact('h1.width')!.value! - fact('h1.widthBaseline')!.value!)).toBeGreaterThan(0.01);

    // The template says so, in words the grounding checker accepts.
    const facts1 = sheet!.facts
      .filter((f) => f.horizon === null || f.horizon === 1)
      .map((f, i) => ({ ...f, ref: `F${i + 1}` }));
    const prediction = predictionsFrom(shipped.normal, features, [out!], 'normal', 0)[0]!;
    const ctx = {
      prediction,
      sheet: sheet!,
      facts: facts1,
      news: [],
      query: '',
      window: { from: 0, to: 0 },
      degraded: null,
    };
    const text = writeExplanation(ctx);
    expect(text).toContain("it is the training window's constant drift");
    expect(text).toContain("the model's own forecast did not beat that constant");
    expect(text).toMatch(
      /What the model does move is the width of its interval: \d+\.\d+ points of log return here, against \d+\.\d+ for an average input, (widened|narrowed) by /,
    );
    expect(checkGrounding(text, ctx)).toMatchObject({ grounded: true, problems: [] });
  });

  it('under a live calibration, the width is the issued interval’s and the text says the calibration widened it', async () => {
    const shipped = (await loadShipped())!;
    // As after the February 2018 shock: the 5-day intervals widened 3× by online calibration.
    const table = tableScalingH5(3);
    const model = withCalibration(shipped.normal, table, 'normal');
    const { features, calendar } = await aaplFeatures(1);
    const d = await TestDriver.forOperator(facts({ model, regime: 'normal', calendar }));
    await d.pipe('input', features);
    await d.run();
    const [sheet] = d.read<FactSheet>('facts');
    const fact = (name: string) => sheet!.facts.find((f) => f.name === name);
    const [out] = (await model.predictBatch(features)).filter((o) => o.horizon === 5);
    expect(fact('h5.width')!.value).toBeCloseTo((out!.upperReturn - out!.lowerReturn) * 100, 4);
    expect(fact('h5.calibration')!.value).toBeCloseTo(200, 6);
    expect(fact('h1.calibration')).toBeUndefined();
    const facts5 = sheet!.facts
      .filter((f) => f.horizon === null || f.horizon === 5)
      .map((f, i) => ({ ...f, ref: `F${i + 1}` }));
    const prediction = predictionsFrom(model, features, [out!], 'normal', 0)[0]!;
    const ctx = {
      prediction,
      sheet: sheet!,
      facts: facts5,
      news: [],
      query: '',
      window: { from: 0, to: 0 },
      degraded: null,
    };
    const text = writeExplanation(ctx);
    expect(text).toMatch(/That interval is the model's, widened by 200(\.0)?% because recent closes fell outside/);
    expect(checkGrounding(text, ctx)).toMatchObject({ grounded: true, problems: [] });
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
