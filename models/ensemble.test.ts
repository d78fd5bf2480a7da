import { describe, expect, it } from 'vitest';
import type { Features } from '../schemas/index.js';
import { persistenceModel } from './baselines.js';
import { constantModel } from './constant-model.js';
import { ensembleModel } from './ensemble.js';

const input: Features = {
  symbol: 'AAPL',
  ts: Date.UTC(2017, 0, 3),
  close: 116.15,
  spec: 'basic@test',
  values: new Float32Array(0),
  history: 300,
};

/** A test double for a trained net: the same quantiles for every input. */
const fixed = (name: string, lower: number, median: number, upper: number) =>
  constantModel({ name, lower, median, upper });

describe('ensembleModel', () => {
  it('averages its members quantile by quantile, per symbol, time and horizon', async () => {
    const e = ensembleModel([fixed('a', -0.02, 0.001, 0.02), fixed('b', -0.04, 0.003, 0.01)], {
      name: 'ens',
      version: 'v1',
    });
    const out = await e.predictBatch([input, { ...input, symbol: 'MSFT' }]);
    expect(out).toHaveLength(4);
    const aapl5 = out.find((o) => o.symbol === 'AAPL' && o.horizon === 5)!;
    expect(aapl5.lowerReturn).toBeCloseTo(-0.03, 12);
    expect(aapl5.predictedReturn).toBeCloseTo(0.002, 12);
    expect(aapl5.upperReturn).toBeCloseTo(0.015, 12);
    expect(aapl5.rankReturn).toBeNaN(); // members without a rank signal (no net): none
    expect(e).toMatchObject({ name: 'ens', version: 'v1', spec: 'basic@test', horizons: [1, 5] });
  });

  it("ranks by the mean of its nets' own medians, also where their points are constants", async () => {
    // Two nets whose shipped point is a constant (0.001) while their own medians, the rank signal, differ.
    const a = constantModel({ name: 'a', lower: -0.02, median: 0.001, upper: 0.02, rank: 0.004 });
    const b = constantModel({ name: 'b', lower: -0.02, median: 0.001, upper: 0.02, rank: -0.002 });
    const [o] = await ensembleModel([a, b], { name: 'ens', version: 'v1' }).predictBatch([input]);
    expect(o!.predictedReturn).toBeCloseTo(0.001, 12);
    expect(o!.rankReturn).toBeCloseTo(0.001, 12);
    // With a baseline among the members the mean has no rank: none rather than a partial one.
    const [mixed] = await ensembleModel([a, { ...persistenceModel({ horizons: [1, 5] }), spec: a.spec }], {
      name: 'mixed',
      version: 'v1',
    }).predictBatch([input]);
    expect(mixed!.rankReturn).toBeNaN();
  });

  it('matches outputs by symbol, time and horizon when members list them in another order', async () => {
    const a = fixed('a', -0.02, 0.001, 0.02);
    const reversed = {
      ...fixed('b', -0.04, 0.003, 0.01),
      predictBatch: async (inputs: readonly Features[]) =>
        (await fixed('b', -0.04, 0.003, 0.01).predictBatch(inputs)).reverse(),
    };
    const out = await ensembleModel([a, reversed], { name: 'ens', version: 'v1' }).predictBatch([
      input,
      { ...input, symbol: 'MSFT' },
    ]);
    expect(out).toHaveLength(4);
    for (const o of out) expect(o.predictedReturn).toBeCloseTo(0.002, 12);
  });

  it('refuses members that disagree on the feature spec or the horizons', () => {
    expect(() => ensembleModel([], { name: 'e', version: '1' })).toThrow(/no members/);
    expect(() =>
      ensembleModel([fixed('a', 0, 0, 0), persistenceModel({ horizons: [1, 5] })], { name: 'e', version: '1' }),
    ).toThrow(/spec/);
    const other = { ...fixed('c', 0, 0, 0), horizons: [1] };
    expect(() => ensembleModel([fixed('a', 0, 0, 0), other], { name: 'e', version: '1' })).toThrow(/horizons/);
  });
});
