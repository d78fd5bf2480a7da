// The numbers and times the views print: prices, compact counts, signed and unsigned percents,
// durations, dates, ages and the freshness of a prediction.
import { describe, expect, it } from 'vitest';
import { changePct, fmtAbsPct, fmtAge, fmtCompact, fmtDate, fmtMs, fmtPct, fmtPrice, freshness } from './format';

describe('format', () => {
  it('prints prices with two decimals and thousands separators, a dash for no value', () => {
    expect(fmtPrice(1234.5)).toBe('1,234.50');
    expect(fmtPrice(0.006)).toBe('0.01');
    expect(fmtPrice(null)).toBe('—');
    expect(fmtPrice(undefined)).toBe('—');
  });

  it('prints volumes and counts compactly', () => {
    expect(fmtCompact(950)).toBe('950');
    expect(fmtCompact(12_345)).toBe('12.3K');
    expect(fmtCompact(4_560_000)).toBe('4.6M');
    expect(fmtCompact(null)).toBe('—');
  });

  it('signs a change in percent (a plus for a rise, none for zero)', () => {
    expect(fmtPct(1.234)).toBe('+1.23%');
    expect(fmtPct(-0.5)).toBe('-0.50%');
    expect(fmtPct(0)).toBe('0.00%');
    expect(fmtPct(2, 0)).toBe('+2%');
    expect(fmtPct(undefined)).toBe('—');
  });

  it('prints a magnitude in percent without a sign', () => {
    expect(fmtAbsPct(1.234)).toBe('1.23%');
    expect(fmtAbsPct(0.5, 1)).toBe('0.5%');
    expect(fmtAbsPct(null)).toBe('—');
  });

  it('prints durations in µs under a millisecond, ms under a second, else seconds', () => {
    expect(fmtMs(0.25)).toBe('250 µs');
    expect(fmtMs(12.34)).toBe('12.3 ms');
    expect(fmtMs(999)).toBe('999.0 ms');
    expect(fmtMs(1500)).toBe('1.5 s');
    expect(fmtMs(null)).toBe('—');
  });

  it('keeps the date of an ISO time', () => {
    expect(fmtDate('2024-03-15T20:00:00.000Z')).toBe('2024-03-15');
  });

  it('computes the change from one price to another in percent', () => {
    expect(changePct(100, 110)).toBeCloseTo(10);
    expect(changePct(200, 150)).toBeCloseTo(-25);
  });

  it('says how long ago in the largest whole unit', () => {
    expect(fmtAge(-500)).toBe('0 s'); // a clock a little ahead reads as now
    expect(fmtAge(3_000)).toBe('3 s');
    expect(fmtAge(59_400)).toBe('59 s');
    expect(fmtAge(4 * 60_000)).toBe('4 min');
    expect(fmtAge(2 * 3_600_000)).toBe('2 h');
    expect(fmtAge(5 * 86_400_000)).toBe('5 d');
  });

  it('calls a prediction live under 10 s, recent under 2 min, stale after', () => {
    expect(freshness(0)).toBe('live');
    expect(freshness(9_999)).toBe('live');
    expect(freshness(10_000)).toBe('recent');
    expect(freshness(119_999)).toBe('recent');
    expect(freshness(120_000)).toBe('stale');
  });
});
