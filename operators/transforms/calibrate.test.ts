import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import { createCalibrationTable } from '../../models/calibration-table.js';
import type { Calibration, Score } from '../../schemas/index.js';
import { type CalibrateState, calibrate } from './calibrate.js';

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

function scored(symbol: string, target: string, inside: boolean, horizon = 1): Score {
  return {
    id: `${symbol}:${day(target) - 86_400_000}:${horizon}`,
    symbol,
    ts: day(target) - 86_400_000,
    targetTs: day(target),
    horizon,
    model: 'm',
    modelVersion: '1',
    regime: 'normal',
    lastClose: 100,
    predictedClose: 100,
    lower: 98,
    upper: 102,
    status: 'scored',
    realisedClose: inside ? 101 : 105,
    error: 0,
    realisedReturn: 0,
    inside,
  };
}

describe('calibrate', () => {
  it('publishes one step per group and target session, which the calibration table applies', async () => {
    const d = await TestDriver.forOperator(calibrate({ eta: 0.5 }));
    const session = (target: string, misses: number) =>
      Array.from({ length: 10 }, (_, i) => scored(`S${i}`, target, i >= misses));
    // 2017-03-01: half missed; 03-02: none missed; 03-03 is still open.
    // Arrival order does not matter: each session steps when the watermark passes its end.
    await d.pipe('input', [...session('2017-03-02', 0), ...session('2017-03-01', 5), ...session('2017-03-03', 2)], {
      key: '1:normal',
    });
    await d.advanceWatermark('input', day('2017-03-03'));
    const steps = d.read<Calibration>('calibration');
    expect(steps.map((c) => [c.group, c.ts, c.n, c.coverage, Number(c.logScale.toFixed(4))])).toEqual([
      ['1:normal', day('2017-03-01'), 10, 0.5, 0.15],
      ['1:normal', day('2017-03-02'), 10, 1, 0.05],
    ]);
    const table = createCalibrationTable();
    for (const c of steps) table.apply(c);
    expect(table.scale(1, 'normal')).toBeCloseTo(Math.exp(0.05), 12);
    // Other groups follow the lead group (1:normal) until they have steps of their own.
    expect(table.scale(21, 'earnings')).toBeCloseTo(Math.exp(0.05), 12);
    // An older step arriving late does not undo a newer one.
    table.apply(steps[0]!);
    expect(table.scale(1, 'normal')).toBeCloseTo(Math.exp(0.05), 12);
  });

  it('skips scores whose target session had no bar', async () => {
    const d = await TestDriver.forOperator(calibrate());
    await d.pipe('input', [
      { ...scored('A', '2017-03-01', true), status: 'missing', realisedClose: null, inside: null },
      scored('A', '2017-03-02', false),
    ]);
    await d.run();
    expect(d.read<Calibration>('calibration')).toEqual([]);
    expect([...d.state<CalibrateState>('calibrate').values()][0]!.open).toEqual([[day('2017-03-02'), 1, 1]]);
  });
});
