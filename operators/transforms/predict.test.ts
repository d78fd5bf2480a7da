import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import { constantModel } from '../../models/constant-model.js';
import type { Model } from '../../models/model.js';
import type { Features, Prediction } from '../../schemas/index.js';
import { predict } from './predict.js';

// A test double of a model: a fixed +1% median and ±5% interval, so the arithmetic is checkable.
const fixed = constantModel({
  name: 'fixed',
  version: '7',
  lower: Math.log(0.95),
  median: Math.log(1.01),
  upper: Math.log(1.05),
});

const features = (symbol: string, close: number, spec = 'basic@test'): Features => ({
  symbol,
  ts: Date.UTC(2018, 1, 2), // a Friday
  close,
  spec,
  values: [0.01],
  history: 40,
});

describe('predict', () => {
  it('turns model outputs into predictions with prices, interval, version and target time', async () => {
    const d = await TestDriver.forOperator(predict({ model: fixed, regime: 'normal' }));
    await d.pipe('input', [features('AAPL', 160.5), features('MSFT', 91.78)]);
    await d.run();
    const out = d.read<Prediction>('predictions').sort((a, b) => a.id.localeCompare(b.id));
    expect(out.map((p) => p.id)).toEqual([
      `AAPL:${Date.UTC(2018, 1, 2)}:1`,
      `AAPL:${Date.UTC(2018, 1, 2)}:5`,
      `MSFT:${Date.UTC(2018, 1, 2)}:1`,
      `MSFT:${Date.UTC(2018, 1, 2)}:5`,
    ]);
    expect(out[0]).toMatchObject({
      symbol: 'AAPL',
      horizon: 1,
      lastClose: 160.5,
      model: 'fixed',
      modelVersion: '7',
      regime: 'normal',
      targetTs: Date.UTC(2018, 1, 5), // Monday
    });
    expect(out[0]!.predictedClose).toBeCloseTo(162.105, 9);
    expect(out[0]!.lower).toBeCloseTo(152.475, 9);
    expect(out[0]!.upper).toBeCloseTo(168.525, 9);
    expect(out[1]!.targetTs).toBe(Date.UTC(2018, 1, 9));
  });

  it("carries the ranking net's own median as rankScore, null without one or where it has none", async () => {
    // A stand-in for the shipped net: its median is the input's first feature value (NaN: none).
    const net: Model = {
      name: 'net',
      version: '3',
      spec: 'basic@test',
      horizons: [1, 5],
      predictBatch: (inputs) =>
        inputs.flatMap((f) =>
          [1, 5].map((horizon) => ({
            symbol: f.symbol,
            ts: f.ts,
            horizon,
            predictedReturn: f.values[0]! * horizon,
            lowerReturn: -1,
            upperReturn: 1,
          })),
        ),
    };
    const ranked = await TestDriver.forOperator(predict({ model: fixed, regime: 'normal', ranking: net }));
    await ranked.pipe('input', [
      { ...features('AAPL', 160.5), values: [0.002] },
      { ...features('MSFT', 91.78), values: [Number.NaN] },
    ]);
    await ranked.run();
    const out = ranked.read<Prediction>('predictions').sort((a, b) => a.id.localeCompare(b.id));
    expect(out.map((p) => [p.symbol, p.horizon, p.rankScore])).toEqual([
      ['AAPL', 1, 0.002],
      ['AAPL', 5, 0.01],
      ['MSFT', 1, null],
      ['MSFT', 5, null],
    ]);
    // The point stays the model's: the rank score is a signal beside it, not a forecast.
    expect(out[0]!.predictedReturn).toBeCloseTo(Math.log(1.01), 12);

    const plain = await TestDriver.forOperator(predict({ model: fixed, regime: 'normal' }));
    await plain.pipe('input', features('AAPL', 160.5));
    await plain.run();
    expect(plain.read<Prediction>('predictions').map((p) => p.rankScore)).toEqual([null, null]);
  });

  it('refuses features built for another feature spec', async () => {
    const d = await TestDriver.forOperator(predict({ model: fixed, regime: 'earnings' }));
    await d.pipe('input', features('AAPL', 160.5, 'basic@other'));
    await d.run();
    expect(d.read('predictions')).toEqual([]);
    expect(d.deadLetters('input')[0]!.reason).toBe(
      'features spec basic@other does not match model fixed@7 (basic@test)',
    );
  });
});
