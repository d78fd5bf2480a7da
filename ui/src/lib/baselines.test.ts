// What the Model view says about the shipped model against the best baseline, and the line per
// horizon that names the point forecast that ships.
import { describe, expect, it } from 'vitest';
import { fmtSkill, type PointForecast, pointLine, type Selection, versusBest } from './baselines';

const selection: Selection[] = [
  { model: 'gru', maeRatio: 0.97, skillVsBest: 0.9876 },
  { model: 'lgbm', maeRatio: 1.01, skillVsBest: 1.0123 },
  { model: 'constantDrift', maeRatio: 0.99, skillVsBest: 1 },
  { model: 'old', maeRatio: 0.98, skillVsBest: null },
];

describe('versusBest', () => {
  it('says the model is ahead when its MAE is below the best baseline’s', () => {
    expect(versusBest('gru', 'constantDrift', selection)).toEqual({
      tone: 'ahead',
      text: 'MAE ÷ best baseline (constantDrift) 0.9876: beats every baseline on validation normal days.',
    });
  });

  it('says it is behind when it is no better', () => {
    const v = versusBest('lgbm', 'constantDrift', selection);
    expect(v.tone).toBe('behind');
    expect(v.text).toBe(
      'MAE ÷ best baseline (constantDrift) 1.0123: no better than constantDrift on validation normal days.',
    );
  });

  it('says so when the shipped model is the best baseline itself', () => {
    expect(versusBest('constantDrift', 'constantDrift', selection)).toEqual({
      tone: 'behind',
      text: 'The shipped model is the best baseline, constantDrift.',
    });
  });

  it('reads old artifacts (no best baseline, no skill, model not listed) as not recorded', () => {
    for (const v of [
      versusBest('gru', null, selection),
      versusBest('old', 'constantDrift', selection),
      versusBest('missing', 'constantDrift', selection),
    ]) {
      expect(v.tone).toBe('unknown');
      expect(v.text).toMatch(/^Not recorded/);
    }
  });
});

describe('fmtSkill', () => {
  it('prints the ratio with the baseline it is against, or a dash', () => {
    expect(fmtSkill(1.00123, 'constantDrift')).toBe('1.001 (constantDrift)');
    expect(fmtSkill(0.9, null)).toBe('0.900');
    expect(fmtSkill(null, 'constantDrift')).toBe('—');
  });
});

describe('pointLine', () => {
  const p = (o: Partial<PointForecast>): PointForecast => ({
    horizon: 5,
    point: 'net',
    value: null,
    skillVsBest: 0.95,
    skillT: -3.14,
    skillDates: 250,
    bestBaseline: 'constantDrift',
    ...o,
  });

  it('names the net’s median with its skill and t', () => {
    expect(pointLine(p({}))).toBe(
      "point forecast at h5: the net's median (MAE ÷ best baseline 0.950, t -3.1 over 250 dates, constantDrift)",
    );
  });

  it('shows a constant drift as the % change its log return means, and says the net had no clear skill', () => {
    expect(pointLine(p({ point: 'constantDrift', value: Math.log(1.003), skillVsBest: 0.999, skillT: -1.2 }))).toBe(
      'point forecast at h5: constant drift +0.30% (the net had no clear skill: MAE ÷ best 0.999, t -1.2 over 250 dates)',
    );
  });

  it('says persistence means no change, and no skill when the net was worse or not scored', () => {
    expect(pointLine(p({ horizon: 1, point: 'persistence', skillVsBest: 1.01, skillT: null }))).toBe(
      'point forecast at h1: persistence, no change (the net had no skill: MAE ÷ best 1.010)',
    );
    expect(pointLine(p({ point: 'constantDrift', value: null, skillVsBest: null, skillT: null }))).toBe(
      'point forecast at h5: constant drift — (the net had no skill: MAE ÷ best —)',
    );
  });
});
