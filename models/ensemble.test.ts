import { describe, expect, it } from 'vitest';
import type { Features } from '../schemas/index.js';
import { persistenceModel } from './baselines.js';
import { ensembleModel } from './ensemble.js';
import type { Model } from './model.js';

const input: Features = {
  symbol: 'AAPL',
  ts: Date.UTC(2017, 0, 3),
  close: 116.15,
  spec: 'basic@test',
  values: [],
  history: 300,
};

/** A model that always forecasts the same quantiles (a test double for a trained net). */
function fixed(name: string, lower: number, median: number, upper: number): Model {
  return {
    name,
    version: '1',
    spec: 'basic@test',
    horizons: [1, 5],
    predictBatch: (inputs) =>
      inputs.flatMap((f) =>
        [1, 5].map((horizon) => ({
          symbol: f.symbol,
          ts: f.ts,
          horizon,
          lowerReturn: lower,
          predictedReturn: median,
          upperReturn: upper,
        })),
      ),
  };
}

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
    expect(e).toMatchObject({ name: 'ens', version: 'v1', spec: 'basic@test', horizons: [1, 5] });
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
