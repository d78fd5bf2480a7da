import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import { constantModel } from '../../models/constant-model.js';
import { withIntervalScale } from '../../models/interval-scale.js';
import { type Model, outputsFromQuantiles } from '../../models/model.js';
import { withConstantPoints } from '../../models/point-forecast.js';
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
  values: Float32Array.of(0.01),
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

  it("carries the net's own median as rankScore, from the same pass, also where the point is a constant", async () => {
    // A stand-in for a trained net, giving typed quantiles as the nets do: its median (and rank) is the input's
    // first feature value times the horizon.
    let passes = 0;
    const net: Model = {
      name: 'net',
      version: '3',
      spec: 'basic@test',
      horizons: [1, 5],
      predictBatch: (inputs) => outputsFromQuantiles(inputs, [1, 5], net.predictQuantiles!(inputs)),
      predictQuantiles: (inputs) => {
        passes++;
        return Float64Array.from(
          inputs.flatMap((f) =>
            [1, 5].flatMap((h) => {
              const m = f.values[0]! * h;
              return [m - 0.02, m, m + 0.02, m]; // lower, median, upper, rank
            }),
          ),
        );
      },
    };
    // As shipped: the net had no point skill, so both points are constants; the earnings branch shrinks the median.
    const constant = (horizon: number, value: number) => ({
      horizon,
      point: 'constantDrift' as const,
      value,
      skillVsBest: 1.001,
      bestBaseline: 'constantDrift',
      skillT: 0.3,
      skillDates: 126,
      rankIc: 0.03,
      rankIcT: 1.6,
    });
    const pointed = withConstantPoints(net, [constant(1, 0.0006), constant(5, 0.003)]);
    const branches = [
      { regime: 'normal' as const, model: withIntervalScale(pointed, 0.9, { branch: 'calibrated' }) },
      { regime: 'earnings' as const, model: withIntervalScale(pointed, 1.6, { shrink: 0.5, oneDay: true }) },
    ];
    for (const { regime, model } of branches) {
      passes = 0;
      const d = await TestDriver.forOperator(predict({ model, regime }));
      await d.pipe('input', [
        { ...features('AAPL', 160.5), values: Float32Array.of(0.002) },
        { ...features('MSFT', 91.78), values: Float32Array.of(-0.001) },
      ]);
      await d.run();
      expect(passes, regime).toBe(1); // one pass of the net per batch, the rank included
      const out = d.read<Prediction>('predictions').sort((a, b) => a.id.localeCompare(b.id));
      expect(
        out.map((p) => [p.symbol, p.horizon, p.rankScore]),
        regime,
      ).toEqual([
        // A feature row holds float32: 0.002 in it is Math.fround(0.002).
        ['AAPL', 1, Math.fround(0.002)],
        ['AAPL', 5, 5 * Math.fround(0.002)],
        ['MSFT', 1, Math.fround(-0.001)],
        ['MSFT', 5, 5 * Math.fround(-0.001)],
      ]);
      // The point is the constant (halved on the earnings branch): the rank score is a signal beside it.
      const shrink = regime === 'earnings' ? 0.5 : 1;
      expect(out[0]!.predictedReturn).toBeCloseTo(0.0006 * shrink, 12);
      expect(out[1]!.predictedReturn).toBeCloseTo(0.003 * shrink, 12);
    }

    // A baseline (no net behind it), or a net whose median is not finite: no rank score.
    const unranked = constantModel({ name: 'nan', lower: -0.05, median: 0.01, upper: 0.05, rank: Number.NaN });
    for (const model of [fixed, unranked]) {
      const plain = await TestDriver.forOperator(predict({ model, regime: 'normal' }));
      await plain.pipe('input', features('AAPL', 160.5));
      await plain.run();
      expect(plain.read<Prediction>('predictions').map((p) => p.rankScore)).toEqual([null, null]);
    }
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
