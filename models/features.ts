// The feature spec, defined once: the streaming `features` operator folds `updateFeatures` over a
// symbol's bars with its state in a keyed state store, and offline training calls
// `computeFeatureSeries`, which is the same fold. So training and serving cannot disagree.
//
// A feature is one entry in FEATURE_DEFS: a name, the parameters that fix its value, its warm-up,
// and an update that reads shared rolling windows of the symbol's bars (see `BarWindow`).
import { createHash } from 'node:crypto';
import type { Bar } from '../schemas/index.js';
import type { EarningsCalendar, EarningsEvent } from './earnings-calendar.js';
import { tradingDaysBetween } from './trading-calendar.js';

/** Read access to the current bar and the symbol's recent bars; `k` is bars ago (0 = this bar). */
export interface BarWindow {
  /** Bars accepted so far, including this one (1 on the first bar). */
  readonly n: number;
  open(k: number): number;
  close(k: number): number;
  high(k: number): number;
  low(k: number): number;
  volume(k: number): number;
  /**
   * One-bar log return ending `k` bars ago: log(close(k) / close(k + 1)); needs k + 2 bars. NaN
   * when a trading day between the two daily bars has no bar (a rejected row): that is a move
   * over two sessions or more, not a one-session return, and it is not passed off as one.
   */
  ret(k: number): number;
  /** Value an EARLIER feature in FEATURE_DEFS reported for this bar (NaN while it warms up). */
  value(name: string): number;
  /**
   * Mean and standard deviation (divisor m − ddof) of the last `m` values of a series, this bar
   * included; `flat` when they are all equal (σ is then 0, though float sums may leave a residue).
   * For `ret`, a NaN return (over a missing trading day) is left out: m is then the count of the
   * others (NaN when m − ddof ≤ 0).
   * The result object is reused: read it before the next call.
   */
  stats(series: Series, m: number, ddof: 0 | 1): WindowStats;
  /**
   * Statistics of the last `m` bars (this one included), computed once per bar and window and
   * shared by every feature over that window (Alpha158 families). Read-only; valid for this bar.
   */
  rolling(m: number): RollingStats;
  /** The bar's symbol and event time (for the earnings calendar). */
  readonly symbol: string;
  readonly ts: number;
  /** The symbol's earnings around this bar; null without a calendar (the values are then NaN). */
  earnings(): EarningsContext | null;
}

/** What the fold needs from an earnings calendar (models/earnings-calendar.ts has one). */
export type FeatureCalendar = Pick<EarningsCalendar, 'isEarningsWindow' | 'nextEarnings' | 'lastEarnings'>;

/** A bar's place in its symbol's earnings calendar. Dates are scheduled in advance: no look-ahead. */
export interface EarningsContext {
  next: EarningsEvent | null;
  last: EarningsEvent | null;
  /** The next-day return spans an announcement (the router's earnings branch). */
  window: boolean;
}

/** One window's statistics (see `BarWindow.rolling`); flat = all values equal (exact test). */
export interface RollingStats {
  meanClose: number;
  /** Sample σ (m − 1) of close. */
  sdClose: number;
  closeFlat: boolean;
  maxHigh: number;
  minLow: number;
  meanVolume: number;
  /** Sample σ (m − 1) of volume. */
  sdVolume: number;
  volumeFlat: boolean;
  /** Least-squares slope of close on time (bars, oldest first). */
  slope: number;
  /** R² of that regression (NaN when close is flat). */
  rsq: number;
  /** Pearson correlation of close and log(volume + 1) (NaN when either is flat). */
  corrCloseLogVolume: number;
  /** Bars whose close rose / fell against the previous close (NaN unless n > m). */
  up: number;
  down: number;
  /** 0.8 / 0.2 quantile of close, linear interpolation between order statistics (as pandas). */
  q80: number;
  q20: number;
  /** 1-based position of the max high / min low from the oldest bar (first occurrence), as Qlib IdxMax. */
  maxHighAt: number;
  minLowAt: number;
  /** Sum of positive close changes, and of |close changes| (NaN unless n > m). */
  gains: number;
  moves: number;
  /** Mean and sample σ of |close / previous close − 1| · volume (NaN unless n > m). */
  meanWv: number;
  sdWv: number;
}

export type Series = 'close' | 'high' | 'low' | 'volume' | 'ret';
export interface WindowStats {
  mean: number;
  sd: number;
  flat: boolean;
}

export interface FeatureDef<N extends string = string> {
  readonly name: N;
  /** Everything that fixes the value; part of the spec hash, so changing one changes the spec id. */
  readonly params: Readonly<Record<string, number>>;
  /** The value is defined from the bar where n (bars seen, 1-based) reaches `warmup`; NaN before. */
  readonly warmup: number;
  /** Bars of history the update reads through BarWindow, this bar included (sizes the ring buffers). */
  readonly lookback: number;
  /**
   * Private recursive state (EMAs, Wilder averages): finite numbers only, so it stays JSON-safe.
   * With `init`, `update` runs on EVERY bar; without, only from `warmup` on (windows are full then).
   */
  readonly init?: () => number[];
  /** Value for the current bar; may mutate `s`. Return NaN for an undefined value (0/0), never ±Infinity. */
  update(w: BarWindow, s: number[]): number;
}

// ---------------------------------------------------------------------------------------------
// Feature definitions. Helpers build the families; FEATURE_DEFS fixes names and order.

/** (a / b) with a zero denominator giving NaN, never ±Infinity. */
function div(a: number, b: number): number {
  return b === 0 ? Number.NaN : a / b;
}

/**
 * Log return of close over `n` bars. Warm-up n + 1 bars. Over a missing trading day, ret1 is NaN
 * (`BarWindow.ret`); longer ones stay over n bars (their span then holds one more session).
 */
function logReturn<const N extends number>(n: N): FeatureDef<`ret${N}`> {
  return {
    name: `ret${n}`,
    params: { bars: n },
    warmup: n + 1,
    lookback: n + 1,
    update: n === 1 ? (w) => w.ret(0) : (w) => Math.log(w.close(0) / w.close(n)),
  };
}

/** Sample standard deviation (n − 1) of the last `n` one-bar log returns. Warm-up n + 1 bars. */
function volatility<const N extends number>(n: N): FeatureDef<`vol${N}`> {
  return {
    name: `vol${n}`,
    params: { returns: n, ddof: 1 },
    warmup: n + 1,
    lookback: n + 1,
    update: (w) => w.stats('ret', n, 1).sd,
  };
}

/**
 * Wilder's RSI (0..100) of close-to-close changes: average gain and loss seeded with the simple
 * average of the first `n` changes, then avg = (avg·(n−1) + x) / n. RSI = 100·gain / (gain + loss),
 * i.e. 100 − 100 / (1 + RS); 100 with no losses, NaN when nothing moved. Warm-up n + 1 bars.
 */
function rsi<const N extends number>(n: N): FeatureDef<`rsi${N}`> {
  return {
    name: `rsi${n}`,
    params: { changes: n },
    warmup: n + 1,
    lookback: 2,
    init: () => [0, 0], // [avgGain, avgLoss]; sums of gains and losses until `n` changes are seen
    update(w, s) {
      const changes = w.n - 1;
      if (changes === 0) return Number.NaN;
      const d = w.close(0) - w.close(1);
      const gain = Math.max(d, 0);
      const loss = Math.max(-d, 0);
      if (changes < n) {
        s[0]! += gain;
        s[1]! += loss;
        return Number.NaN;
      }
      if (changes === n) {
        s[0] = (s[0]! + gain) / n;
        s[1] = (s[1]! + loss) / n;
      } else {
        s[0] = (s[0]! * (n - 1) + gain) / n;
        s[1] = (s[1]! * (n - 1) + loss) / n;
      }
      return div(100 * s[0]!, s[0]! + s[1]!);
    },
  };
}

/** Wilder's ATR over `n` true ranges (previous close needed, so the first is on bar 2), ÷ close. Warm-up n + 1. */
function atr<const N extends number>(n: N): FeatureDef<`atr${N}`> {
  return {
    name: `atr${n}`,
    params: { ranges: n },
    warmup: n + 1,
    lookback: 2,
    init: () => [0], // [atr]; the sum of true ranges until `n` are seen
    update(w, s) {
      const ranges = w.n - 1;
      if (ranges === 0) return Number.NaN;
      const h = w.high(0);
      const l = w.low(0);
      const pc = w.close(1);
      const tr = Math.max(h - l, Math.abs(h - pc), Math.abs(l - pc));
      if (ranges < n) {
        s[0]! += tr;
        return Number.NaN;
      }
      s[0] = ranges === n ? (s[0]! + tr) / n : (s[0]! * (n - 1) + tr) / n;
      return s[0]! / w.close(0);
    },
  };
}

/**
 * MACD line (EMA_fast − EMA_slow) / close, both EMAs seeded with the first close, α = 2/(span+1).
 * Reported once the slow EMA has seen `slow` closes (warm-up `slow` bars).
 */
function macd(fast: number, slow: number): FeatureDef<'macd'> {
  const af = 2 / (fast + 1);
  const as = 2 / (slow + 1);
  return {
    name: 'macd',
    params: { fast, slow },
    warmup: slow,
    lookback: 1,
    init: () => [0, 0], // [emaFast, emaSlow]
    update(w, s) {
      const c = w.close(0);
      if (w.n === 1) {
        s[0] = c;
        s[1] = c;
      } else {
        s[0]! += af * (c - s[0]!);
        s[1]! += as * (c - s[1]!);
      }
      return (s[0]! - s[1]!) / c;
    },
  };
}

/**
 * Signal line: EMA_span of the REPORTED macd, seeded with its first defined value; reported once it
 * has seen `span` macd values (warm-up macd warm-up + span − 1).
 */
function macdSignal(span: number, macdWarmup: number): FeatureDef<'macdSignal'> {
  const a = 2 / (span + 1);
  return {
    name: 'macdSignal',
    params: { span },
    warmup: macdWarmup + span - 1,
    lookback: 1,
    init: () => [0, 0], // [ema, macd values seen]
    update(w, s) {
      const m = w.value('macd');
      if (Number.isNaN(m)) return Number.NaN;
      s[0] = s[1] === 0 ? m : s[0]! + a * (m - s[0]!);
      s[1]! += 1;
      return s[0]!;
    },
  };
}

/** Percent-b: (close − (SMA − 2σ)) / 4σ with population σ of the last `n` closes; NaN if flat. Warm-up n. */
function bollingerPctB<const N extends number>(n: N): FeatureDef<`bbPctB${N}`> {
  return {
    name: `bbPctB${n}`,
    params: { closes: n, sigmas: 2, ddof: 0 },
    warmup: n,
    lookback: n,
    update(w) {
      const { mean, sd, flat } = w.stats('close', n, 0);
      // Flat window: σ is 0 mathematically, but float sums can leave a 1e-17 residue.
      if (flat) return Number.NaN;
      return div(w.close(0) - (mean - 2 * sd), 4 * sd);
    },
  };
}

/** (volume − mean) / sample σ (n − 1) of the last `n` volumes, this bar included; NaN if flat. Warm-up n. */
function volumeZ<const N extends number>(n: N): FeatureDef<`volumeZ${N}`> {
  return {
    name: `volumeZ${n}`,
    params: { volumes: n, ddof: 1 },
    warmup: n,
    lookback: n,
    update(w) {
      const { mean, sd, flat } = w.stats('volume', n, 1);
      if (flat) return Number.NaN;
      return div(w.volume(0) - mean, sd);
    },
  };
}

// Alpha158 (Qlib, qlib/contrib/data/loader.py): candle shape of the current bar, and rolling
// families over the last d bars. Names as in Qlib; `rev` would mark a formula change.

/** A candle-shape feature of the current bar (open, high, low, close); warm-up 1. */
function candle<const N extends string>(
  name: N,
  f: (o: number, h: number, l: number, c: number) => number,
): FeatureDef<N> {
  return {
    name,
    params: {},
    warmup: 1,
    lookback: 1,
    update: (w) => f(w.open(0), w.high(0), w.low(0), w.close(0)),
  };
}

const CANDLE = [
  candle('KMID', (o, _h, _l, c) => (c - o) / o),
  candle('KLEN', (o, h, l) => (h - l) / o),
  candle('KMID2', (o, h, l, c) => div(c - o, h - l)),
  candle('KUP', (o, h, _l, c) => (h - Math.max(o, c)) / o),
  candle('KUP2', (o, h, l, c) => div(h - Math.max(o, c), h - l)),
  candle('KLOW', (o, _h, l, c) => (Math.min(o, c) - l) / o),
  candle('KLOW2', (o, h, l, c) => div(Math.min(o, c) - l, h - l)),
  candle('KSFT', (o, h, l, c) => (2 * c - h - l) / o),
  candle('KSFT2', (_o, h, l, c) => div(2 * c - h - l, h - l)),
] as const;

/** A rolling family over the last `d` bars; `extra` = 1 when the oldest bar needs its previous close. */
function family<const P extends string, const D extends number>(
  prefix: P,
  d: D,
  extra: 0 | 1,
  f: (r: RollingStats, w: BarWindow, d: number) => number,
): FeatureDef<`${P}${D}`> {
  return {
    name: `${prefix}${d}`,
    params: { bars: d },
    warmup: d + extra,
    lookback: d + extra,
    update: (w) => f(w.rolling(d), w, d),
  };
}

/** One family over the Alpha158 windows 5, 10, 20, 30, 60. */
function windows<const P extends string>(
  prefix: P,
  extra: 0 | 1,
  f: (r: RollingStats, w: BarWindow, d: number) => number,
) {
  return [
    family(prefix, 5, extra, f),
    family(prefix, 10, extra, f),
    family(prefix, 20, extra, f),
    family(prefix, 30, extra, f),
    family(prefix, 60, extra, f),
  ] as const;
}

const ALPHA158 = [
  ...CANDLE,
  ...windows('ROC', 1, (_r, w, d) => w.close(d) / w.close(0)), // close d bars ago / close
  ...windows('MA', 0, (r, w) => r.meanClose / w.close(0)),
  ...windows('STD', 0, (r, w) => r.sdClose / w.close(0)), // sample σ, as pandas / Qlib
  ...windows('BETA', 0, (r, w) => r.slope / w.close(0)),
  ...windows('RSQR', 0, (r) => r.rsq),
  ...windows('MAX', 0, (r, w) => r.maxHigh / w.close(0)),
  ...windows('MIN', 0, (r, w) => r.minLow / w.close(0)),
  ...windows('RSV', 0, (r, w) => div(w.close(0) - r.minLow, r.maxHigh - r.minLow)),
  ...windows('CORR', 0, (r) => r.corrCloseLogVolume),
  ...windows('CNTP', 1, (r, _w, d) => r.up / d),
  ...windows('CNTN', 1, (r, _w, d) => r.down / d),
  ...windows('VMA', 0, (r, w) => div(r.meanVolume, w.volume(0))),
  ...windows('VSTD', 0, (r, w) => div(r.sdVolume, w.volume(0))),
  ...windows('QTLU', 0, (r, w) => r.q80 / w.close(0)),
  ...windows('QTLD', 0, (r, w) => r.q20 / w.close(0)),
  ...windows('IMAX', 0, (r, _w, d) => r.maxHighAt / d),
  ...windows('IMIN', 0, (r, _w, d) => r.minLowAt / d),
  ...windows('SUMP', 1, (r) => div(r.gains, r.moves)),
  ...windows('WVMA', 1, (r) => div(r.sdWv, r.meanWv)),
] as const;

// Earnings context: days to and since the symbol's announcements and the last EPS surprise.
// Calendar days, capped: beyond a quarter the distance says nothing more.
const EARNINGS_CAP_DAYS = 92;
const DAY_MS = 86_400_000;

/** A feature of the bar's earnings context; NaN without a calendar or without the event it reads. */
function earnings<const N extends string>(
  name: N,
  params: Record<string, number>,
  f: (e: EarningsContext, ts: number) => number,
): FeatureDef<N> {
  return {
    name,
    params,
    warmup: 1,
    lookback: 1,
    update(w) {
      const e = w.earnings();
      return e === null ? Number.NaN : f(e, w.ts);
    },
  };
}

const EARNINGS = [
  earnings('EDAYSTO', { capDays: EARNINGS_CAP_DAYS }, (e, ts) =>
    e.next ? Math.min(EARNINGS_CAP_DAYS, (e.next.date - ts) / DAY_MS) : Number.NaN,
  ),
  earnings('EDAYSSINCE', { capDays: EARNINGS_CAP_DAYS }, (e, ts) =>
    e.last ? Math.min(EARNINGS_CAP_DAYS, (ts - e.last.date) / DAY_MS) : Number.NaN,
  ),
  // Surprise in % as the source reports it, clipped: a tiny estimate makes it explode.
  earnings('ESURPRISE', { clipPct: 100 }, (e) =>
    e.last?.surprisePct == null ? Number.NaN : Math.max(-100, Math.min(100, e.last.surprisePct)),
  ),
  earnings('EWINDOW', {}, (e) => (e.window ? 1 : 0)),
] as const;

// The sequence block: the last SEQ_STEPS bars as (return, range, relative volume), oldest
// last. A sequence model reads it as a [steps, 3] series; the others see it as plain lags.
export const SEQ_STEPS = 20;
export const SEQ_CHANNELS = ['SEQR', 'SEQK', 'SEQV'] as const;

/** One lag of a sequence channel; the whole block appears together (warm-up SEQ_STEPS + 1). */
function lag<const P extends string, const K extends number>(
  prefix: P,
  k: K,
  f: (w: BarWindow, k: number) => number,
): FeatureDef<`${P}${K}`> {
  return {
    name: `${prefix}${k}`,
    params: { lag: k, steps: SEQ_STEPS },
    warmup: SEQ_STEPS + 1,
    lookback: SEQ_STEPS + 1,
    update: (w) => f(w, k),
  };
}

function lags<const P extends string>(prefix: P, f: (w: BarWindow, k: number) => number) {
  // Spelled out (not a loop) so the names stay literal types.
  return [
    lag(prefix, 0, f),
    lag(prefix, 1, f),
    lag(prefix, 2, f),
    lag(prefix, 3, f),
    lag(prefix, 4, f),
    lag(prefix, 5, f),
    lag(prefix, 6, f),
    lag(prefix, 7, f),
    lag(prefix, 8, f),
    lag(prefix, 9, f),
    lag(prefix, 10, f),
    lag(prefix, 11, f),
    lag(prefix, 12, f),
    lag(prefix, 13, f),
    lag(prefix, 14, f),
    lag(prefix, 15, f),
    lag(prefix, 16, f),
    lag(prefix, 17, f),
    lag(prefix, 18, f),
    lag(prefix, 19, f),
  ] as const;
}

const SEQUENCE = [
  ...lags('SEQR', (w, k) => w.ret(k)),
  ...lags('SEQK', (w, k) => Math.log(w.high(k) / w.low(k))),
  // log of volume over the block's mean volume (+1 keeps zero-volume days finite).
  ...lags('SEQV', (w, k) => Math.log((w.volume(k) + 1) / (w.rolling(SEQ_STEPS).meanVolume + 1))),
] as const;

const MACD = macd(12, 26);
const MACD_SIGNAL = macdSignal(9, MACD.warmup);

/** The features, in output order. Add one by appending an entry (a new name changes the spec id). */
export const FEATURE_DEFS = [
  logReturn(1),
  logReturn(5),
  logReturn(10),
  logReturn(20),
  volatility(20),
  rsi(14),
  MACD,
  MACD_SIGNAL,
  {
    name: 'macdHist',
    params: {},
    warmup: MACD_SIGNAL.warmup,
    lookback: 1,
    update: (w) => w.value('macd') - w.value('macdSignal'),
  },
  bollingerPctB(20),
  atr(14),
  volumeZ(20),
  ...ALPHA158,
  ...EARNINGS,
  ...SEQUENCE,
] as const satisfies readonly FeatureDef[];

type Names<T extends readonly FeatureDef[]> = {
  -readonly [K in keyof T]: T[K] extends FeatureDef<infer N> ? N : never;
};
export type FeatureName = Names<typeof FEATURE_DEFS>[number];

// ---------------------------------------------------------------------------------------------
// The spec

const DEFS: readonly FeatureDef[] = FEATURE_DEFS;

export const FEATURE_NAMES = DEFS.map((d) => d.name) as unknown as Readonly<Names<typeof FEATURE_DEFS>>;

/** Bars needed (n, 1-based) before each feature is defined. */
export const FEATURE_WARMUP = Object.fromEntries(DEFS.map((d) => [d.name, d.warmup])) as Readonly<
  Record<FeatureName, number>
>;

/** Bars after which every feature is defined. */
export const MAX_WARMUP = Math.max(...DEFS.map((d) => d.warmup));

const INDEX = new Map<string, number>(DEFS.map((d, i) => [d.name, i]));
if (INDEX.size !== DEFS.length) throw new Error('models/features: duplicate feature name');

export const FEATURE_SPEC: { name: 'basic'; names: readonly FeatureName[]; id: string } = {
  name: 'basic',
  names: FEATURE_NAMES,
  id: `basic@${createHash('sha256')
    .update(JSON.stringify({ names: FEATURE_NAMES, params: DEFS.map((d) => d.params) }))
    .digest('hex')
    .slice(0, 8)}`,
};

/** Position of a feature in a values array. Throws on an unknown name. */
export function featureIndex(name: FeatureName): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new Error(`unknown feature ${JSON.stringify(name)} (spec ${FEATURE_SPEC.id})`);
  return i;
}

/**
 * Positions of the sequence block in a values array, time-major and oldest first
 * (SEQ_STEPS × SEQ_CHANNELS): the layout a sequence model reads.
 */
export function sequenceColumns(): number[] {
  const out: number[] = [];
  for (let t = 0; t < SEQ_STEPS; t++) {
    for (const c of SEQ_CHANNELS) out.push(featureIndex(`${c}${SEQ_STEPS - 1 - t}` as FeatureName));
  }
  return out;
}

/** Values by name, for display and explanations. */
export function featureRecord(values: ArrayLike<number>): Record<FeatureName, number> {
  if (values.length !== DEFS.length) {
    throw new Error(`expected ${DEFS.length} feature values for ${FEATURE_SPEC.id}, got ${values.length}`);
  }
  const out = {} as Record<FeatureName, number>;
  for (let i = 0; i < DEFS.length; i++) out[DEFS[i]!.name as FeatureName] = values[i]!;
  return out;
}

// ---------------------------------------------------------------------------------------------
// State and the incremental update

/** Ring buffer length: the longest lookback any feature reads. */
const CAP = Math.max(...DEFS.map((d) => d.lookback));

/**
 * Per-symbol state: plain data (numbers and arrays), so a state store can snapshot it as JSON and a
 * restored copy continues exactly. Changelogs write it with `featureStateCodec` (binary, exact).
 */
export interface FeatureState {
  /** Spec id the state was built for: a state from another spec is started afresh. */
  spec: string;
  /** Bars accepted (for this spec), including the last one. */
  count: number;
  /** Event time of the last accepted bar (Number.MIN_SAFE_INTEGER before the first: JSON-safe). */
  lastTs: number;
  /** Ring-buffer slot of the last accepted bar. */
  head: number;
  open: number[];
  close: number[];
  high: number[];
  low: number[];
  volume: number[];
  /** One-bar log returns (0 in the slot of the first bar, which has none). */
  ret: number[];
  /**
   * 1 where the bar's one-bar return spans a trading day without a bar (its return reads as NaN),
   * else 0. Absent in states written before it existed (read as all 0).
   */
  gap?: number[];
  /** log(volume + 1), kept so each bar's logarithm is taken once. */
  logVolume: number[];
  /** Each feature's private state, in FEATURE_NAMES order ([] when it has none). */
  f: number[][];
}

export function createFeatureState(): FeatureState {
  const ring = () => new Array<number>(CAP).fill(0);
  return {
    spec: FEATURE_SPEC.id,
    count: 0,
    lastTs: Number.MIN_SAFE_INTEGER,
    head: CAP - 1,
    open: ring(),
    close: ring(),
    high: ring(),
    low: ring(),
    volume: ring(),
    ret: ring(),
    gap: ring(),
    logVolume: ring(),
    f: DEFS.map((d) => (d.init ? d.init() : [])),
  };
}

// The changelog codec of FeatureState (the `features` operator declares it: engine/README.md,
// "State codecs"). JSON of one state is ~5.4 KB and costs more to stringify and parse than the
// update itself on Kafka, and turns NaN and ±Infinity into null; this keeps every number as its
// 8 bytes. Layout (little-endian):
//   u8 version, u8 flags (1: `gap` present, 2: as one byte per slot), u16 spec id length in
//   bytes, u16 number of per-feature arrays (F), u16 0; the spec id (UTF-8); u16 length of each
//   ring (open, close, high, low, volume, ret, logVolume, then gap if present) and of each of
//   the F arrays; the gap ring as bytes when its values are all 0 or 1 (they are); zeros to a
//   multiple of 8; then float64s: count, lastTs, head, the rings' values (gap's unless as bytes),
//   the F arrays' values.

const CODEC_VERSION = 1;
const HAS_GAP = 1;
const GAP_BYTES = 2;
/** Float64Array is in the host's byte order; the format is little-endian. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
/** The current spec id's UTF-8, encoded once (nearly every state carries it). */
const SPEC_UTF8 = Buffer.from(FEATURE_SPEC.id, 'utf8');

type Ring = 'open' | 'close' | 'high' | 'low' | 'volume' | 'ret' | 'logVolume';
const RINGS: readonly Ring[] = ['open', 'close', 'high', 'low', 'volume', 'ret', 'logVolume'];

function checkHost(): void {
  if (!HOST_LITTLE_ENDIAN) throw new Error('featureStateCodec: needs a little-endian host');
}

function u16(out: Uint8Array, at: number, v: number): void {
  if (!(v >= 0 && v <= 0xffff)) throw new RangeError(`featureStateCodec: ${v} does not fit the format (u16)`);
  out[at] = v & 0xff;
  out[at + 1] = v >>> 8;
}

const zeroOrOne = (a: readonly number[]): boolean => a.every((x) => x === 1 || Object.is(x, 0));

/**
 * One buffer for every encode (a fresh ArrayBuffer per state cost as much as the encoding): the
 * engine copies what `encode` returns into its changelog frame before it encodes again.
 */
let scratchBuffer = new Uint8Array(8192);
function scratch(length: number): Uint8Array {
  if (scratchBuffer.length < length) scratchBuffer = new Uint8Array(2 * length);
  return scratchBuffer.subarray(0, length);
}

function encodeFeatureState(st: FeatureState): Uint8Array {
  checkHost();
  const spec = st.spec === FEATURE_SPEC.id ? SPEC_UTF8 : Buffer.from(st.spec, 'utf8');
  const gap = st.gap;
  const gapBytes = gap !== undefined && zeroOrOne(gap);
  const wide: number[][] = RINGS.map((r) => st[r]);
  if (gap && !gapBytes) wide.push(gap);
  const lengthCount = RINGS.length + (gap ? 1 : 0) + st.f.length;
  const headerEnd = 8 + spec.length + 2 * lengthCount + (gapBytes ? gap.length : 0);
  const start = (headerEnd + 7) & ~7;
  let n = 3;
  for (const a of wide) n += a.length;
  for (const a of st.f) n += a.length;
  const out = scratch(start + 8 * n);
  out.fill(0, 6, 8);
  out.fill(0, headerEnd, start);
  out[0] = CODEC_VERSION;
  out[1] = (gap ? HAS_GAP : 0) | (gapBytes ? GAP_BYTES : 0);
  u16(out, 2, spec.length);
  u16(out, 4, st.f.length);
  out.set(spec, 8);
  let at = 8 + spec.length;
  for (const r of RINGS) {
    u16(out, at, st[r].length);
    at += 2;
  }
  if (gap) {
    u16(out, at, gap.length);
    at += 2;
  }
  for (const a of st.f) {
    u16(out, at, a.length);
    at += 2;
  }
  if (gapBytes) for (let i = 0; i < gap.length; i++) out[at++] = gap[i]!;
  const x = new Float64Array(out.buffer, out.byteOffset + start, n);
  x[0] = st.count;
  x[1] = st.lastTs;
  x[2] = st.head;
  let p = 3;
  for (const a of wide) for (let i = 0; i < a.length; i++) x[p++] = a[i]!;
  for (const a of st.f) for (let i = 0; i < a.length; i++) x[p++] = a[i]!;
  return out;
}

/**
 * Shared by every empty per-feature array of a decoded state (most features keep no state: 170
 * arrays a state, most of the decoding's allocations). Frozen: updateFeatures never writes to
 * them (a feature with state has a non-empty one), and a write would fail loudly.
 */
const NO_NUMBERS = Object.freeze([]) as unknown as number[];

function corrupt(why: string): Error {
  return new Error(`featureStateCodec: not a feature state (${why})`);
}

function decodeFeatureState(bytes: Uint8Array): FeatureState {
  checkHost();
  if (bytes.length < 8 || bytes[0] !== CODEC_VERSION) throw corrupt(`version ${bytes[0]}, ${bytes.length} bytes`);
  const flags = bytes[1]!;
  const specLength = bytes[2]! | (bytes[3]! << 8);
  const fCount = bytes[4]! | (bytes[5]! << 8);
  const hasGap = (flags & HAS_GAP) !== 0;
  const gapBytes = (flags & GAP_BYTES) !== 0;
  const ringCount = RINGS.length + (hasGap ? 1 : 0);
  let at = 8 + specLength;
  if (bytes.length < at + 2 * (ringCount + fCount)) throw corrupt(`${bytes.length} bytes`);
  const specBytes = bytes.subarray(8, at);
  const spec = Buffer.compare(specBytes, SPEC_UTF8) === 0 ? FEATURE_SPEC.id : utf8Decoder.decode(specBytes);
  const lengths = new Array<number>(ringCount + fCount);
  for (let i = 0; i < lengths.length; i++, at += 2) lengths[i] = bytes[at]! | (bytes[at + 1]! << 8);
  let gap: number[] | undefined;
  if (gapBytes) {
    const len = lengths[RINGS.length]!;
    if (bytes.length < at + len) throw corrupt(`${bytes.length} bytes`);
    gap = new Array<number>(len);
    for (let i = 0; i < len; i++) gap[i] = bytes[at++]!;
  }
  const start = (at + 7) & ~7;
  let n = 3;
  lengths.forEach((len, i) => {
    if (!(gapBytes && i === RINGS.length)) n += len;
  });
  if (bytes.length !== start + 8 * n) throw corrupt(`${bytes.length} bytes where the lengths say ${start + 8 * n}`);
  // A Float64Array needs an 8-aligned offset: a view when the bytes are aligned, else a copy
  // (new Uint8Array(view) copies; a Buffer's slice() would not).
  const x =
    (bytes.byteOffset + start) % 8 === 0
      ? new Float64Array(bytes.buffer, bytes.byteOffset + start, n)
      : new Float64Array(new Uint8Array(bytes.subarray(start)).buffer, 0, n);
  let p = 3;
  const take = (len: number): number[] => {
    if (len === 0) return NO_NUMBERS;
    const a = new Array<number>(len);
    for (let i = 0; i < len; i++) a[i] = x[p++]!;
    return a;
  };
  const rings = RINGS.map((_, i) => take(lengths[i]!));
  if (hasGap && !gapBytes) gap = take(lengths[RINGS.length]!);
  const f = new Array<number[]>(fCount);
  for (let i = 0; i < fCount; i++) f[i] = take(lengths[ringCount + i]!);
  const state: FeatureState = {
    spec,
    count: x[0]!,
    lastTs: x[1]!,
    head: x[2]!,
    open: rings[0]!,
    close: rings[1]!,
    high: rings[2]!,
    low: rings[3]!,
    volume: rings[4]!,
    ret: rings[5]!,
    logVolume: rings[6]!,
    f,
  };
  if (gap) state.gap = gap;
  return state;
}

/**
 * FeatureState to bytes and back, bit-exact (NaN, ±Infinity and −0 included): the `features`
 * operator's state codec. A `StateCodec<FeatureState>` (engine/state-codec.ts), by shape. The
 * bytes `encode` returns are valid until its next call (a shared buffer): copy them to keep them.
 */
export const featureStateCodec = { encode: encodeFeatureState, decode: decodeFeatureState } as const;

/** Scratch per window length: the window's closes, sorted for the quantiles. */
const SORTED: Float64Array[] = Array.from({ length: CAP + 1 }, (_, m) => new Float64Array(m));
/** Scratch: |close / previous close − 1| · volume of the window's bars, newest first. */
const WV = new Float64Array(CAP);

/** Quantile q of sorted[0..m) by linear interpolation between order statistics at (m − 1)·q (pandas). */
function quantile(sorted: Float64Array, m: number, q: number): number {
  const pos = (m - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * One window's statistics in two passes over the ring (sums, extremes and counts; then centred
 * sums of squares and cross products: no cancellation from raw moments).
 */
function computeRolling(st: FeatureState, m: number, counts: boolean, r: RollingStats): void {
  const { close: c, high: h, low: l, volume: v, logVolume: lv } = st;
  const head = st.head;
  const c0 = c[head]!;
  const v0 = v[head]!;
  let sc = 0;
  let sv = 0;
  let sl = 0;
  let maxH = Number.NEGATIVE_INFINITY;
  let minL = Number.POSITIVE_INFINITY;
  let kMax = 0;
  let kMin = 0;
  let gains = 0;
  let moves = 0;
  let swv = 0;
  let closeFlat = true;
  let volumeFlat = true;
  let up = 0;
  let down = 0;
  let prev = c0; // close and volume of the newer bar (k − 1) while walking back
  let prevV = v0;
  const sorted = SORTED[m]!;
  // k = m is the close one bar before the window: only the oldest bar's change needs it.
  const last = counts ? m : m - 1;
  for (let k = 0, j = head; k <= last; k++, j = j === 0 ? CAP - 1 : j - 1) {
    const x = c[j]!;
    if (k > 0) {
      // The change of bar k − 1 (prev − x): gain, |change| and |simple return|·volume (WVMA).
      const d = prev - x;
      if (d > 0) {
        up++;
        gains += d;
      } else if (d < 0) down++;
      moves += Math.abs(d);
      const wv = Math.abs(prev / x - 1) * prevV;
      WV[k - 1] = wv;
      swv += wv;
    }
    if (k === m) break;
    const y = v[j]!;
    sc += x;
    sv += y;
    sl += lv[j]!;
    // Walking back, >= / <= move to the older bar on a tie: the first occurrence, as numpy argmax.
    if (h[j]! >= maxH) {
      maxH = h[j]!;
      kMax = k;
    }
    if (l[j]! <= minL) {
      minL = l[j]!;
      kMin = k;
    }
    if (x !== c0) closeFlat = false;
    if (y !== v0) volumeFlat = false;
    prev = x;
    prevV = y;
    // Insertion sort as the closes arrive (at most 60: cheaper than a sort call).
    let i = k;
    while (i > 0 && sorted[i - 1]! > x) {
      sorted[i] = sorted[i - 1]!;
      i--;
    }
    sorted[i] = x;
  }
  let mw = Number.NaN;
  let sdw = Number.NaN;
  if (counts) {
    mw = swv / m;
    let ss = 0;
    for (let k = 0; k < m; k++) {
      const e = WV[k]! - mw;
      ss += e * e;
    }
    sdw = Math.sqrt(ss / (m - 1));
  }
  // A flat window's mean is its value exactly (a float sum / m can be off by an ulp).
  const mc = closeFlat ? c0 : sc / m;
  const mv = volumeFlat ? v0 : sv / m;
  const ml = sl / m;
  const mt = (m - 1) / 2;
  let scc = 0;
  let svv = 0;
  let sll = 0;
  let stc = 0;
  let scl = 0;
  for (let k = 0, j = head; k < m; k++, j = j === 0 ? CAP - 1 : j - 1) {
    const dc = c[j]! - mc;
    const dv = v[j]! - mv;
    const dl = lv[j]! - ml;
    scc += dc * dc;
    svv += dv * dv;
    sll += dl * dl;
    stc += (m - 1 - k - mt) * dc;
    scl += dc * dl;
  }
  const stt = (m * (m * m - 1)) / 12;
  r.meanClose = mc;
  r.sdClose = closeFlat ? 0 : Math.sqrt(scc / (m - 1));
  r.closeFlat = closeFlat;
  r.maxHigh = maxH;
  r.minLow = minL;
  r.meanVolume = mv;
  r.sdVolume = volumeFlat ? 0 : Math.sqrt(svv / (m - 1));
  r.volumeFlat = volumeFlat;
  r.slope = closeFlat ? 0 : stc / stt;
  r.rsq = closeFlat ? Number.NaN : (stc * stc) / (stt * scc);
  r.corrCloseLogVolume = closeFlat || volumeFlat ? Number.NaN : scl / Math.sqrt(scc * sll);
  r.up = counts ? up : Number.NaN;
  r.down = counts ? down : Number.NaN;
  r.q80 = quantile(sorted, m, 0.8);
  r.q20 = quantile(sorted, m, 0.2);
  r.maxHighAt = m - kMax;
  r.minLowAt = m - kMin;
  r.gains = counts ? gains : Number.NaN;
  r.moves = counts ? moves : Number.NaN;
  r.meanWv = mw;
  r.sdWv = sdw;
}

/** The BarWindow over one state, reused across calls (a scratch object, never stored). */
class Window implements BarWindow {
  st: FeatureState = createFeatureState();
  /** This bar's values as computed (doubles: a feature that reads another reads it unrounded). */
  readonly out = new Float64Array(DEFS.length);
  /** Values of `out` written so far this bar: a feature may read only those before it. */
  filled = 0;
  n = 0;

  private slot(k: number): number {
    const i = this.st.head - k;
    return i < 0 ? i + CAP : i;
  }
  open(k: number): number {
    return this.st.open[this.slot(k)]!;
  }
  close(k: number): number {
    return this.st.close[this.slot(k)]!;
  }
  high(k: number): number {
    return this.st.high[this.slot(k)]!;
  }
  low(k: number): number {
    return this.st.low[this.slot(k)]!;
  }
  volume(k: number): number {
    return this.st.volume[this.slot(k)]!;
  }
  ret(k: number): number {
    const i = this.slot(k);
    return this.st.gap?.[i] === 1 ? Number.NaN : this.st.ret[i]!;
  }
  private readonly result: WindowStats = { mean: 0, sd: 0, flat: false };
  stats(series: Series, m: number, ddof: 0 | 1): WindowStats {
    if (m > CAP) throw new RangeError(`stats over ${m} bars: the windows keep ${CAP}; raise the feature's lookback`);
    // Two passes (mean, then squared deviations) straight over the ring: no drift from running sums.
    const a = this.st[series];
    // Returns over a missing trading day are left out (see BarWindow.ret).
    const skip = series === 'ret' ? this.st.gap : undefined;
    const head = this.st.head;
    let first = Number.NaN;
    let count = 0;
    let sum = 0;
    let flat = true;
    for (let k = 0, j = head; k < m; k++, j = j === 0 ? CAP - 1 : j - 1) {
      if (skip?.[j] === 1) continue;
      const x = a[j]!;
      if (count === 0) first = x;
      else if (x !== first) flat = false;
      sum += x;
      count++;
    }
    const mean = sum / count;
    let ss = 0;
    for (let k = 0, j = head; k < m; k++, j = j === 0 ? CAP - 1 : j - 1) {
      if (skip?.[j] === 1) continue;
      const d = a[j]! - mean;
      ss += d * d;
    }
    const r = this.result;
    r.mean = mean;
    r.sd = count - ddof > 0 ? Math.sqrt(ss / (count - ddof)) : Number.NaN;
    r.flat = flat;
    return r;
  }
  /** Bumped per bar: a cached RollingStats is valid while its stamp equals it. */
  gen = 0;
  private readonly rollCache: { gen: number; r: RollingStats }[] = [];
  rolling(m: number): RollingStats {
    if (m > CAP) throw new RangeError(`rolling over ${m} bars: the windows keep ${CAP}; raise the feature's lookback`);
    let e = this.rollCache[m];
    if (e === undefined) {
      e = {
        gen: -1,
        r: {
          meanClose: 0,
          sdClose: 0,
          closeFlat: false,
          maxHigh: 0,
          minLow: 0,
          meanVolume: 0,
          sdVolume: 0,
          volumeFlat: false,
          slope: 0,
          rsq: 0,
          corrCloseLogVolume: 0,
          up: 0,
          down: 0,
          q80: 0,
          q20: 0,
          maxHighAt: 0,
          minLowAt: 0,
          gains: 0,
          moves: 0,
          meanWv: 0,
          sdWv: 0,
        },
      };
      this.rollCache[m] = e;
    }
    if (e.gen !== this.gen) {
      computeRolling(this.st, m, this.n > m, e.r);
      e.gen = this.gen;
    }
    return e.r;
  }
  symbol = '';
  ts = 0;
  calendar: FeatureCalendar | undefined = undefined;
  private earningsGen = -1;
  private earningsCtx: EarningsContext | null = null;
  earnings(): EarningsContext | null {
    if (this.calendar === undefined) return null;
    if (this.earningsGen !== this.gen) {
      const c = this.calendar;
      this.earningsCtx = {
        next: c.nextEarnings(this.symbol, this.ts),
        last: c.lastEarnings(this.symbol, this.ts),
        window: c.isEarningsWindow(this.symbol, this.ts),
      };
      this.earningsGen = this.gen;
    }
    return this.earningsCtx;
  }
  value(name: string): number {
    const i = INDEX.get(name);
    if (i === undefined || i >= this.filled) throw new Error(`feature ${name} is not computed before this one`);
    return this.out[i]!;
  }
}
const win = new Window();

function validBar(b: Bar): boolean {
  // Written as one expression: it runs for every bar. `!(x > 0)` is also true for NaN.
  return (
    Number.isFinite(b.ts) &&
    b.open > 0 &&
    b.high > 0 &&
    b.low > 0 &&
    b.close > 0 &&
    b.volume >= 0 &&
    b.open < Number.POSITIVE_INFINITY &&
    b.high < Number.POSITIVE_INFINITY &&
    b.low < Number.POSITIVE_INFINITY &&
    b.close < Number.POSITIVE_INFINITY &&
    b.volume < Number.POSITIVE_INFINITY
  );
}

const NO_STATE: number[] = [];

/**
 * Folds one bar into the state and returns the feature values for it, in FEATURE_NAMES order
 * (NaN while a feature warms up). The earnings-context features read `calendar` (NaN without
 * one). Bars must arrive in ts order: a bar with ts <= the last accepted
 * ts (a re-delivery, or out of order) is ignored, leaving the state unchanged, and gives null.
 * Throws RangeError on a non-finite or non-positive price (state unchanged).
 */
export function updateFeatures(state: FeatureState, bar: Bar, calendar?: FeatureCalendar): Float32Array | null {
  if (state.spec !== FEATURE_SPEC.id) {
    // State from another feature spec (e.g. restored after an upgrade): warm up again, keep dedup.
    const lastTs = state.lastTs;
    Object.assign(state, createFeatureState(), { lastTs });
  }
  if (bar.ts <= state.lastTs) return null;
  if (!validBar(bar)) {
    // Rejected before any mutation: one bad bar must not poison the windows for good.
    const { ts, open, high, low, close, volume } = bar;
    throw new RangeError(
      `bar ${bar.symbol}@${ts}: prices must be finite and > 0, volume finite and >= 0 (${JSON.stringify({ open, high, low, close, volume })})`,
    );
  }

  const head = state.head + 1 === CAP ? 0 : state.head + 1;
  const prevClose = state.close[state.head]!;
  // A trading day without a bar since the last one (its row was rejected): the return is marked.
  const gap = state.count > 0 && bar.interval === '1d' && tradingDaysBetween(state.lastTs, bar.ts) > 0 ? 1 : 0;
  if (gap === 1 && !state.gap) state.gap = new Array<number>(CAP).fill(0);
  if (state.gap) state.gap[head] = gap;
  state.head = head;
  state.open[head] = bar.open;
  state.close[head] = bar.close;
  state.high[head] = bar.high;
  state.low[head] = bar.low;
  state.volume[head] = bar.volume;
  state.ret[head] = state.count === 0 ? 0 : Math.log(bar.close / prevClose);
  state.logVolume[head] = Math.log1p(bar.volume);
  state.count += 1;
  state.lastTs = bar.ts;

  const n = state.count;
  const out = win.out;
  win.st = state;
  win.filled = 0;
  win.n = n;
  win.symbol = bar.symbol;
  win.ts = bar.ts;
  win.calendar = calendar;
  win.gen += 1;
  for (let i = 0; i < DEFS.length; i++) {
    const d = DEFS[i]!;
    if (d.init) {
      const v = d.update(win, state.f[i]!);
      out[i] = n >= d.warmup ? v : Number.NaN;
    } else {
      out[i] = n >= d.warmup ? d.update(win, NO_STATE) : Number.NaN;
    }
    win.filled = i + 1;
  }
  // Stored as float32, what the models read: a typed row is copied into wasm memory whole (schemas/logical-types.ts).
  return new Float32Array(out);
}

/**
 * Offline: the feature rows of one symbol's bars, by the same fold as the stream. Bars are sorted
 * by ts first; a repeated ts is dropped as the stream drops it, so without repeats row i belongs to
 * the i-th bar in ts order. A bar `keep` refuses still goes through the fold but gets an empty row
 * (memory: a row holds 180 numbers, and scoring a window needs only the window's rows).
 */
export function computeFeatureSeries(
  bars: readonly Bar[],
  calendar?: FeatureCalendar,
  keep: (bar: Bar) => boolean = () => true,
): Float32Array[] {
  const sorted = [...bars].sort((a, b) => a.ts - b.ts);
  const symbol = sorted[0]?.symbol;
  const state = createFeatureState();
  const rows: Float32Array[] = [];
  for (const bar of sorted) {
    if (bar.symbol !== symbol) throw new Error(`computeFeatureSeries: mixed symbols ${symbol} and ${bar.symbol}`);
    const values = updateFeatures(state, bar, calendar);
    if (values) rows.push(keep(bar) ? values : NO_ROW);
  }
  return rows;
}

// Shared by every refused bar: empty, so nothing can be written into it.
const NO_ROW = new Float32Array(0);
