import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModelInfo } from './model-info.js';

const scores = {
  n: 100,
  mae: 1.01,
  maePersistence: 1,
  maeRatio: 1.01,
  hitRate: 0.52,
  rankIc: 0.01,
  coverage80: 0.8,
  pinball: 0.3,
};

/** An artifacts folder: shipped.json naming net `mlp`, and its metadata.json. */
function artifacts(selection: object, validation: object, extra: object = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'model-info-'));
  const manifest = {
    normal: { name: 'mlp', version: 'v1' },
    earningsIntervalScale: 1.4,
    horizons: [1, 5, 21],
    featureSpec: 'basic@test',
    selection: { validation: { from: '2016-07-05', to: '2017-01-03' }, ...selection },
    ...extra,
  };
  writeFileSync(join(dir, 'shipped.json'), JSON.stringify(manifest));
  mkdirSync(join(dir, 'mlp', 'v1'), { recursive: true });
  const metadata = { name: 'mlp', version: 'v1', kind: 'mlp', metrics: { validation: { horizon: 1, ...validation } } };
  writeFileSync(join(dir, 'mlp', 'v1', 'metadata.json'), JSON.stringify(metadata));
  return dir;
}

describe('readModelInfo', () => {
  it('reads the model against the best baseline from what `tickcast train` writes', async () => {
    const versus = {
      baselines: {
        persistence: { mae: 1, maeRatio: 1, hitRate: null }, // NaN in JSON is null
        constantDrift: { mae: 0.99, maeRatio: 0.99, hitRate: 0.53 },
      },
      alwaysUpHitRate: 0.53,
      best: 'constantDrift',
      skillVsBest: 1.0202,
    };
    const dir = artifacts(
      {
        maeRatio: { persistence: 1, mlp: 1.01 },
        bestBaseline: 'constantDrift',
        skillVsBest: { persistence: 1.0101, mlp: 1.0202 },
      },
      { all: { ...scores, hitRateAlwaysUp: 0.53, rankIcT: 0.8 }, versus: { all: versus } },
    );
    const info = (await readModelInfo(dir))!;
    expect(info.bestBaseline).toBe('constantDrift');
    expect(info.selection).toContainEqual({ model: 'mlp', maeRatio: 1.01, skillVsBest: 1.0202 });
    expect(info.nets[0]!.validation).toEqual([
      {
        ...scores,
        segment: 'all',
        horizon: 1,
        rankIcT: 0.8,
        bestBaseline: 'constantDrift',
        skillVsBest: 1.0202,
        maeConstantDrift: 0.99,
        hitRateConstantDrift: 0.53,
        hitRateAlwaysUp: 0.53,
      },
    ]);
  });

  it('reads which median ships per horizon: constantDrift where the net had no skill', async () => {
    const points = [
      {
        horizon: 1,
        point: 'net',
        value: null,
        skillVsBest: 0.998,
        bestBaseline: 'persistence',
        skillT: -2.3,
        skillDates: 250,
        rankIc: 0.02,
        rankIcT: 2.1,
      },
      {
        horizon: 5,
        point: 'constantDrift',
        value: 0.003,
        skillVsBest: 1.009,
        bestBaseline: 'constantDrift',
        skillT: null, // NaN in JSON
        skillDates: 1,
        rankIc: 0.01,
        rankIcT: null,
      },
    ];
    const info = (await readModelInfo(artifacts({ maeRatio: { mlp: 1.01 } }, { all: scores }, { points })))!;
    expect(info.points).toEqual(points);
  });

  it('reads artifacts trained before the baselines were recorded, those figures null', async () => {
    const info = (await readModelInfo(artifacts({ maeRatio: { mlp: 1.01 } }, { all: scores })))!;
    expect(info.bestBaseline).toBeNull();
    expect(info.points).toEqual([]); // the net's median at every horizon
    expect(info.selection).toEqual([{ model: 'mlp', maeRatio: 1.01, skillVsBest: null }]);
    expect(info.nets[0]!.validation[0]).toMatchObject({
      rankIcT: null,
      bestBaseline: null,
      skillVsBest: null,
      maeConstantDrift: null,
      hitRateAlwaysUp: null,
    });
  });
});
