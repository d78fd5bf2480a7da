// The calibration table by example: a group's published step scales the intervals the model
// issues, and the explanation's width attribution with them (what it explains is the interval issued).
import { describe, expect, it } from 'vitest';
import type { Features } from '../schemas/index.js';
import { tableScalingH5 } from '../test/support/calibration.js';
import { createCalibrationTable, withCalibration } from './calibration-table.js';
import type { Model, WidthAttribution } from './model.js';

const width = (): WidthAttribution => ({
  symbol: 'KO',
  ts: 1,
  horizon: 5,
  method: 'integrated-gradients:32',
  predictedWidth: 0.08,
  baselineWidth: 0.06,
  contributions: Float32Array.of(0.015, 0.005),
});
const model: Model = {
  name: 'fixed',
  version: 'v1',
  spec: 'spec',
  horizons: [5],
  predictBatch: async (inputs) =>
    inputs.map(() => ({
      symbol: 'KO',
      ts: 1,
      horizon: 5,
      predictedReturn: 0.01,
      lowerReturn: -0.03,
      upperReturn: 0.05,
    })),
  attribute: async () => [
    {
      symbol: 'KO',
      ts: 1,
      horizon: 5,
      predictedReturn: 0.01,
      method: 'constant',
      point: 'constantDrift',
      baselineReturn: 0.01,
      contributions: new Float32Array(2),
      width: width(),
    },
  ],
  attributeWidth: async () => [width()],
};
const input = {} as Features;

describe('withCalibration', () => {
  it('scales the issued interval and its width attribution alike; the median is the model’s', async () => {
    const table = tableScalingH5(2);
    const calibrated = withCalibration(model, table, 'normal');
    const scale = table.scale(5, 'normal');
    expect(scale).toBeCloseTo(2, 9);
    const [out] = await calibrated.predictBatch([input]);
    expect(out!.predictedReturn).toBe(0.01);
    expect(out!.upperReturn - out!.lowerReturn).toBeCloseTo(0.08 * scale, 9);
    const [a] = await calibrated.attribute!([input]);
    expect(a!.width!.predictedWidth).toBeCloseTo(out!.upperReturn - out!.lowerReturn, 9);
    expect(a!.width!.baselineWidth).toBeCloseTo(0.06 * scale, 9);
    expect([...a!.width!.contributions]).toEqual([0.015 * scale, 0.005 * scale].map((c) => expect.closeTo(c, 6)));
    const [w] = await calibrated.attributeWidth!([input]);
    expect(w!.predictedWidth).toBeCloseTo(0.08 * scale, 9);
  });

  it('leaves everything as the model gave it before any calibration step (scale 1)', async () => {
    const calibrated = withCalibration(model, createCalibrationTable(), 'earnings');
    const [a] = await calibrated.attribute!([input]);
    expect(a!.width!.predictedWidth).toBe(0.08);
  });
});
