import { describe, expect, it } from 'vitest';
import {
  describeFeature,
  FEATURE_GROUPS,
  type FeatureGroupId,
  groupContributions,
  groupOf,
  topFeatures,
} from './feature-groups.js';
import { FEATURE_NAMES, featureIndex } from './features.js';

describe('feature groups', () => {
  it('puts every feature in exactly one group (add a new feature to one)', () => {
    for (const name of FEATURE_NAMES) {
      const holders = FEATURE_GROUPS.filter((g) => g.members.test(name)).map((g) => g.id);
      expect(holders, name).toHaveLength(1);
      expect(groupOf(name).id).toBe(holders[0]);
    }
    // Every group holds something, and the ids are stable kebab-case.
    for (const g of FEATURE_GROUPS) {
      expect(
        FEATURE_NAMES.some((n) => g.members.test(n)),
        g.id,
      ).toBe(true);
      expect(g.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(g.description).toMatch(/^[A-Z].*\.$/);
    }
    expect(new Set(FEATURE_GROUPS.map((g) => g.id)).size).toBe(FEATURE_GROUPS.length);
    expect(FEATURE_GROUPS.length).toBeGreaterThanOrEqual(8);
    expect(FEATURE_GROUPS.length).toBeLessThanOrEqual(12);
  });

  it('sorts families into the groups a reader expects', () => {
    const expected: Record<string, FeatureGroupId> = {
      ret5: 'momentum',
      ROC60: 'momentum',
      MA20: 'trend',
      RSQR10: 'trend',
      RSV20: 'range-position',
      bbPctB20: 'range-position',
      IMAX30: 'range-position',
      vol20: 'volatility',
      KLEN: 'volatility',
      rsi14: 'oscillators',
      macdHist: 'oscillators',
      CNTP5: 'up-down-days',
      VMA5: 'volume',
      CORR60: 'volume',
      KMID2: 'candle',
      ESURPRISE: 'earnings',
      SEQV19: 'last-20-days',
    };
    for (const [name, id] of Object.entries(expected)) expect(groupOf(name as never).id, name).toBe(id);
  });

  it('describes every feature in plain words', () => {
    for (const name of FEATURE_NAMES) expect(describeFeature(name), name).toMatch(/^[\w'].{8,}/);
    expect(describeFeature('ret5')).toBe('5-day return');
    expect(describeFeature('SEQR0')).toBe('return on the last day');
    expect(describeFeature('SEQR3')).toBe('return 3 days before the last');
    expect(describeFeature('MAX20')).toBe("20-day high against today's price");
  });

  it('sums contributions per group, largest first, adding up to the total', () => {
    const c = new Float32Array(FEATURE_NAMES.length);
    c[featureIndex('ret5')] = 0.002;
    c[featureIndex('ROC20')] = -0.0005; // momentum: +0.0015
    c[featureIndex('VMA5')] = -0.003; // volume: -0.003
    c[featureIndex('SEQR0')] = 0.0001;
    const groups = groupContributions(c);
    expect(groups).toHaveLength(FEATURE_GROUPS.length);
    expect(groups.slice(0, 3).map((g) => [g.group, Number(g.contribution.toFixed(6))])).toEqual([
      ['volume', -0.003],
      ['momentum', 0.0015],
      ['last-20-days', 0.0001],
    ]);
    expect(groups[1]).toMatchObject({ label: 'momentum over the last 1–60 days' });
    const total = groups.reduce((s, g) => s + g.contribution, 0);
    expect(total).toBeCloseTo(0.002 - 0.0005 - 0.003 + 0.0001, 9);
    expect(() => groupContributions(new Float32Array(3))).toThrow(/expected 180 contributions/);
  });

  it('lists the top features with a description, their group and (given values) their value', () => {
    const c = new Float32Array(FEATURE_NAMES.length);
    c[featureIndex('ret5')] = 0.002;
    c[featureIndex('VMA5')] = -0.003;
    c[featureIndex('EDAYSTO')] = 0.0004;
    const values = FEATURE_NAMES.map((_, i) => i / 10);
    expect(topFeatures(c, 2, values)).toEqual([
      {
        name: 'VMA5',
        description: "5-day average volume against the last day's",
        group: 'volume',
        contribution: c[featureIndex('VMA5')],
        value: featureIndex('VMA5') / 10,
      },
      {
        name: 'ret5',
        description: '5-day return',
        group: 'momentum',
        contribution: c[featureIndex('ret5')],
        value: featureIndex('ret5') / 10,
      },
    ]);
    expect(topFeatures(c, 1)[0]).not.toHaveProperty('value');
  });
});
