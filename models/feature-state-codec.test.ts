// featureStateCodec (the features operator's changelog codec) is bit-exact: a state after a real
// replay of the bundled tickers decodes to one that gives exactly the same features for the next
// bars, and NaN, ±Infinity and −0 survive (JSON makes them null or 0).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { features } from '../operators/transforms/features.js';
import type { Bar } from '../schemas/index.js';
import { barOf, parseDailyCsv, tickerFromFileName } from './daily-csv.js';
import { createFeatureState, type FeatureState, featureStateCodec, updateFeatures } from './features.js';

const DIR = new URL('../data/sp500-daily/', import.meta.url).pathname;
/** A sample of the bundled tickers (every fold costs ~1 s on 50): BMY, O and ORCL have rejected rows. */
const FILES = ['AAPL', 'BMY', 'JPM', 'NVDA', 'O', 'ORCL', 'XOM'].map((t) => `${t}_data.csv`);

function barsOf(file: string): Bar[] {
  return parseDailyCsv(readFileSync(join(DIR, file)), tickerFromFileName(file), () => {}).map(barOf);
}

/** Every number of two states, pairwise, by Object.is (NaN equals NaN, −0 differs from 0): the differences. */
function differences(a: FeatureState, b: FeatureState): string[] {
  const out: string[] = [];
  const same = (what: string, x: unknown, y: unknown) => {
    if (!Object.is(x, y)) out.push(`${what}: ${String(x)} vs ${String(y)}`);
  };
  same('keys', Object.keys(a).sort().join(), Object.keys(b).sort().join());
  for (const k of ['spec', 'count', 'lastTs', 'head'] as const) same(k, a[k], b[k]);
  const arrays = (what: string, x: readonly number[] | undefined, y: readonly number[] | undefined) => {
    same(`${what}.length`, x?.length, y?.length);
    for (let i = 0; i < (x?.length ?? 0); i++) same(`${what}[${i}]`, x![i], y?.[i]);
  };
  for (const k of ['open', 'close', 'high', 'low', 'volume', 'ret', 'gap', 'logVolume'] as const) arrays(k, a[k], b[k]);
  same('f.length', a.f.length, b.f.length);
  for (let i = 0; i < a.f.length; i++) arrays(`f[${i}]`, a.f[i], b.f[i]);
  return out;
}

const roundTrip = (s: FeatureState) => featureStateCodec.decode(featureStateCodec.encode(s));

describe('featureStateCodec', () => {
  it('is the features operator’s state codec', () => {
    expect(features().state?.codec).toBe(featureStateCodec);
  });

  it('a replayed state decodes to one that continues with exactly the same features, for real tickers', () => {
    // Restored every 100 bars and right after each rejected row (a 1 in the gap ring), the copy
    // must give, for the next 30 bars, exactly the features the original gave.
    const AHEAD = 30;
    let restores = 0;
    let afterGaps = 0;
    for (const file of FILES) {
      const bars = barsOf(file);
      expect(bars.length, file).toBeGreaterThan(100);
      const state = createFeatureState();
      // Restored copies, each checked against the original for AHEAD bars.
      let copies: Array<{ restored: FeatureState; after: number }> = [];
      bars.forEach((bar, i) => {
        const a = updateFeatures(state, bar)!;
        for (const { restored, after } of copies) {
          const b = updateFeatures(restored, bar)!;
          const differ = [...a].flatMap((x, k) => (Object.is(x, b[k]) ? [] : [`${k}: ${x} vs ${b[k]}`]));
          expect(b.length, `${file} bar ${i}`).toBe(a.length);
          expect(differ, `${file} bar ${i}, restored after bar ${after}`).toEqual([]);
        }
        copies = copies.filter((c) => i - c.after < AHEAD);
        const afterGap = state.gap?.[state.head] === 1;
        if ((i % 100 !== 99 && !afterGap) || i + AHEAD >= bars.length) return;
        restores++;
        if (afterGap) afterGaps++;
        const bytes = featureStateCodec.encode(state);
        expect(bytes.length).toBeLessThan(Buffer.byteLength(JSON.stringify(state)));
        const restored = featureStateCodec.decode(bytes);
        expect(differences(state, restored), `${file} after bar ${i}`).toEqual([]);
        copies.push({ restored, after: i });
      });
    }
    expect(restores).toBeGreaterThan(80);
    expect(afterGaps).toBeGreaterThan(0);
  }, 60_000);

  it('keeps NaN, ±Infinity, −0, an absent gap ring, another spec id and odd lengths', () => {
    const s = createFeatureState();
    s.spec = 'other@é✓'; // a state of another spec (restored after an upgrade), not ASCII
    s.lastTs = Number.MIN_SAFE_INTEGER;
    s.close[0] = Number.NaN;
    s.close[1] = Number.POSITIVE_INFINITY;
    s.ret[2] = Number.NEGATIVE_INFINITY;
    s.ret[3] = -0;
    s.open = [1, 2, 3]; // not CAP long
    s.f[0] = [Number.NaN, -0];
    s.f.push([]);
    delete s.gap; // written before the gap ring existed
    const r = roundTrip(s);
    expect(differences(s, r)).toEqual([]);
    expect('gap' in r).toBe(false);
    // A gap ring of other values than 0 and 1 (never written so) still round-trips, as float64s.
    s.gap = [0, 1, -0, Number.NaN, 0.5];
    expect(differences(s, roundTrip(s))).toEqual([]);
    // JSON, the default, would not: NaN and Infinity become null, −0 becomes 0.
    const viaJson = JSON.parse(JSON.stringify(s)) as FeatureState;
    expect(viaJson.close[0]).toBeNull();
    expect(Object.is(viaJson.ret[3], -0)).toBe(false);
  });

  it('decodes bytes at any offset of a larger buffer (a changelog frame), and refuses other bytes', () => {
    const s = createFeatureState();
    updateFeatures(s, {
      symbol: 'X',
      ts: 86_400_000,
      interval: '1d',
      open: 1,
      high: 2,
      low: 0.5,
      close: 1.5,
      volume: 7,
      quotes: 1,
      source: 'replay',
    });
    const bytes = featureStateCodec.encode(s);
    for (const offset of [0, 3, 8]) {
      const big = new Uint8Array(bytes.length + 16);
      big.set(bytes, offset);
      expect(differences(s, featureStateCodec.decode(big.subarray(offset, offset + bytes.length)))).toEqual([]);
      expect(differences(s, featureStateCodec.decode(Buffer.from(big.buffer, offset, bytes.length)))).toEqual([]);
    }
    expect(() => featureStateCodec.decode(bytes.subarray(0, bytes.length - 8))).toThrow(/not a feature state/);
    expect(() => featureStateCodec.decode(new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/not a feature state/);
  });
});
