import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Features } from '../schemas/index.js';
import { tableScalingH5 } from '../test/support/calibration.js';
import { withCalibration } from './calibration-table.js';
import { loadDailyBars } from './daily-csv.js';
import { computeFeatureSeries, FEATURE_SPEC } from './features.js';
import { predictionsFrom, predictRecords } from './predictions.js';
import { loadShipped } from './shipped.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The last `days` days of real feature rows of a few bundled tickers. */
async function realFeatures(days: number): Promise<Features[]> {
  const symbols = ['AAPL', 'JPM', 'XOM', 'KO'];
  const { bars } = await loadDailyBars(new URL('../data/sp500-daily', import.meta.url).pathname, { symbols });
  const out: Features[] = [];
  for (const [symbol, series] of bars) {
    const rows = computeFeatureSeries(series);
    for (let i = series.length - days; i < series.length; i++) {
      const { ts, close } = series[i]!;
      out.push({ symbol, ts, close, spec: FEATURE_SPEC.id, values: rows[i]!, history: i });
    }
  }
  return out;
}

describe('loadShipped: the predictions rankScore, the net’s own median', () => {
  it('comes with every forecast of both branches from the same pass, where the points are constants too', async () => {
    const shipped = (await loadShipped())!;
    expect(shipped.manifest.points?.some((p) => p.point !== 'net')).toBe(true);
    // `ranking`: the net behind the branches with its own medians (what `tickcast evaluate` scores as the ranking).
    expect(shipped.ranking).not.toBeNull();
    const inputs = await realFeatures(60);
    const own = await shipped.ranking!.predictBatch(inputs);
    for (const model of [shipped.normal, shipped.earnings]) {
      const out = await model.predictBatch(inputs);
      expect(out.map((o) => [o.symbol, o.ts, o.horizon])).toEqual(own.map((o) => [o.symbol, o.ts, o.horizon]));
      // The net's median to the bit, while the shipped points at the constant horizons are all the same number.
      expect(out.map((o) => o.rankReturn)).toEqual(own.map((o) => o.predictedReturn));
      for (const p of shipped.manifest.points!.filter((x) => x.point !== 'net')) {
        const medians = new Set(out.filter((o) => o.horizon === p.horizon).map((o) => o.predictedReturn));
        expect(medians.size, `h${p.horizon}`).toBe(1);
      }
      expect(new Set(out.map((o) => o.rankReturn)).size).toBeGreaterThan(inputs.length);
    }
  });

  it('issues the same records from its typed quantiles as from its output objects, calibrated or not', async () => {
    const shipped = (await loadShipped())!;
    const inputs = await realFeatures(30);
    const table = tableScalingH5(Math.exp(0.3));
    for (const model of [shipped.normal, withCalibration(shipped.normal, table, 'normal')]) {
      // The predict operator's path (predictQuantiles, no ModelOutput objects) against predictBatch's.
      expect(model.predictQuantiles).toBeDefined();
      const typed = await predictRecords(model, inputs, 'normal', 7);
      const objects = predictionsFrom(model, inputs, await model.predictBatch(inputs), 'normal', 7);
      expect(typed).toEqual(objects);
      expect(typed).toHaveLength(inputs.length * model.horizons.length);
    }
    // The calibration moved the h5 intervals (and only them): the typed path applied it.
    const plain = await predictRecords(shipped.normal, inputs, 'normal', 7);
    const widened = await predictRecords(withCalibration(shipped.normal, table, 'normal'), inputs, 'normal', 7);
    const spread = (p: { upper: number; lower: number }) => p.upper - p.lower;
    for (let i = 0; i < plain.length; i++) {
      expect(widened[i]!.predictedReturn).toBe(plain[i]!.predictedReturn);
      if (plain[i]!.horizon === 5) expect(spread(widened[i]!)).toBeGreaterThan(spread(plain[i]!));
      else expect(spread(widened[i]!)).toBe(spread(plain[i]!));
    }
  });

  it('is null when a baseline ships: there is no net to rank by', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipped-'));
    dirs.push(dir);
    const manifest = {
      normal: { name: 'persistence', version: '1' },
      earningsIntervalScale: 1.2,
      horizons: [1, 5],
      featureSpec: 'basic@test',
    };
    writeFileSync(join(dir, 'shipped.json'), JSON.stringify(manifest));
    const shipped = (await loadShipped(dir))!;
    expect(shipped.normal.name).toBe('persistence');
    expect(shipped.ranking).toBeNull();
    const input = { symbol: 'A', ts: 0, close: 1, spec: 'basic@test', values: new Float32Array(0), history: 1 };
    const out = await shipped.normal.predictBatch([input]);
    const predictions = predictionsFrom(shipped.normal, [input], out, 'normal', 0);
    expect(predictions.map((p) => p.rankScore)).toEqual([null, null]);
  });
});
