// The behaviour every TimeSeriesStore must have, as a vitest suite. An implementation's test
// file calls timeSeriesStoreContract('name', open) with an `open` that returns an empty store.
// The data is real: AAPL and MSFT daily bars from the first two weeks of 2018.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scoreOf } from '../models/scores.js';
import { type Bar, defineSchema, type Prediction, type Score, type SmaSignal, schemas } from '../schemas/index.js';
import type { RecordTable, TimeSeriesStore } from './timeseries-store.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;

/** Midnight UTC of an ISO date, epoch ms. */
export function utc(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

function bar(
  symbol: string,
  date: string,
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
): Bar {
  return { symbol, ts: utc(date), interval: '1d', open, high, low, close, volume, quotes: 1, source: 'replay' };
}

export const AAPL: readonly Bar[] = [
  bar('AAPL', '2018-01-02', 170.16, 172.3, 169.26, 172.26, 25_555_934),
  bar('AAPL', '2018-01-03', 172.53, 174.55, 171.96, 172.23, 29_517_899),
  bar('AAPL', '2018-01-04', 172.54, 173.47, 172.08, 173.03, 22_434_597),
  bar('AAPL', '2018-01-05', 173.44, 175.37, 173.05, 175.0, 23_660_018),
  bar('AAPL', '2018-01-08', 174.35, 175.61, 173.93, 174.35, 20_567_766),
  bar('AAPL', '2018-01-09', 174.55, 175.06, 173.41, 174.33, 21_583_997),
  bar('AAPL', '2018-01-10', 173.16, 174.3, 173.0, 174.29, 23_959_895),
  bar('AAPL', '2018-01-11', 174.59, 175.4886, 174.49, 175.28, 18_667_729),
  bar('AAPL', '2018-01-12', 176.18, 177.36, 175.65, 177.09, 25_418_080),
];

export const MSFT: readonly Bar[] = [
  bar('MSFT', '2018-01-02', 86.125, 86.31, 85.5, 85.95, 22_483_797),
  bar('MSFT', '2018-01-03', 86.055, 86.51, 85.97, 86.35, 26_061_439),
  bar('MSFT', '2018-01-04', 86.59, 87.66, 86.57, 87.11, 21_911_974),
  bar('MSFT', '2018-01-05', 87.66, 88.41, 87.43, 88.19, 23_407_110),
];

/** A forecast made after the close of `date`, with an 80% interval of ±3%. */
function prediction(
  symbol: string,
  date: string,
  horizon: number,
  lastClose: number,
  predictedClose: number,
): Prediction {
  const ts = utc(date);
  return {
    id: `${symbol}:${ts}:${horizon}`,
    symbol,
    ts,
    horizon,
    targetTs: ts + horizon * DAY,
    lastClose,
    predictedClose,
    predictedReturn: Math.log(predictedClose / lastClose),
    lower: predictedClose * 0.97,
    upper: predictedClose * 1.03,
    model: 'mlp-normal',
    modelVersion: '2018.01.1',
    regime: 'normal',
    createdAt: ts + 22 * 3_600_000,
    // A ranking score at h1, none (as from a baseline) at h5: both read back as written.
    rankScore: horizon === 1 ? Math.log(predictedClose / lastClose) - 0.0004 : null,
  };
}

export const PREDICTIONS: readonly Prediction[] = [
  prediction('AAPL', '2018-01-02', 1, 172.26, 172.61),
  prediction('AAPL', '2018-01-02', 5, 172.26, 173.4),
  prediction('AAPL', '2018-01-03', 1, 172.23, 172.5),
  prediction('AAPL', '2018-01-03', 5, 172.23, 173.12),
  prediction('AAPL', '2018-01-04', 1, 173.03, 173.3),
  prediction('MSFT', '2018-01-02', 1, 85.95, 86.1),
  prediction('MSFT', '2018-01-03', 1, 86.35, 86.52),
];

/** The predictions beside what happened: AAPL's realised closes from the bars; MSFT 01-04 had no bar (missing). */
export const SCORES: readonly Score[] = [
  scoreOf(PREDICTIONS[0]!, 172.23),
  scoreOf(PREDICTIONS[2]!, 173.03),
  scoreOf(PREDICTIONS[4]!, 175.0),
  scoreOf(PREDICTIONS[5]!, 86.35),
  scoreOf(PREDICTIONS[6]!, null),
];

/** The SMA-cross example's signals topic, as its pipeline declares it: keyed by symbol, in time by ts. */
export const SIGNALS: RecordTable<SmaSignal> = {
  name: 'signals',
  schema: schemas.SmaSignal,
  table: { key: ['symbol'], time: 'ts' },
};

function signal(symbol: string, date: string, direction: 'up' | 'down', close: number, fast: number, slow: number) {
  return { symbol, ts: utc(date), direction, close, fast, slow, fastBars: 2, slowBars: 5 };
}

/** Signals shaped as the sma-cross operator emits them, at closes of the bars above (the averages are illustrative). */
export const SIGNAL_ROWS: readonly SmaSignal[] = [
  signal('AAPL', '2018-01-08', 'down', 174.35, 174.675, 174.734),
  signal('AAPL', '2018-01-10', 'up', 174.29, 174.31, 174.26),
  signal('AAPL', '2018-01-12', 'up', 177.09, 176.185, 175.068),
  signal('MSFT', '2018-01-05', 'up', 88.19, 87.65, 86.798),
];

/** A record with every kind of field a table column is derived from (a test-only schema). */
interface Sample {
  region: string;
  day: number;
  side: 'buy' | 'sell';
  size: number;
  count: number;
  ratio: number | null;
  active: boolean;
  note: string | null;
  seenAt: number | null;
  tags: string[];
  extra: { [k: string]: number };
}

const SAMPLE: RecordTable<Sample> = {
  name: 'test.samples-v1',
  schema: defineSchema<Sample>({
    type: 'record',
    name: 'Sample',
    namespace: 'tickcast.test',
    fields: [
      { name: 'region', type: 'string' },
      { name: 'day', type: { type: 'long', logicalType: 'timestamp-millis' } },
      { name: 'side', type: { type: 'enum', name: 'Side', symbols: ['buy', 'sell'] } },
      { name: 'size', type: 'long' },
      { name: 'count', type: 'int' },
      { name: 'ratio', type: ['null', 'double'], default: null },
      { name: 'active', type: 'boolean' },
      { name: 'note', type: ['null', 'string'], default: null },
      { name: 'seenAt', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
      { name: 'tags', type: { type: 'array', items: 'string' } },
      { name: 'extra', type: { type: 'map', values: 'double' } },
    ],
  }),
  table: { key: ['region', 'side'], time: 'day' },
};

export function timeSeriesStoreContract(name: string, open: () => Promise<TimeSeriesStore>): void {
  describe(`TimeSeriesStore contract: ${name}`, () => {
    let store: TimeSeriesStore;

    beforeEach(async () => {
      store = await open();
    });

    afterEach(async () => {
      await store.close();
    });

    describe('writes', () => {
      it('stores bars and reads them back unchanged, oldest first', async () => {
        await store.upsertBars([...AAPL].reverse());
        expect(await store.bars('AAPL')).toEqual(AAPL);
      });

      it('is idempotent: replaying a batch leaves the same rows', async () => {
        await store.upsertBars([...AAPL, ...MSFT]);
        await store.upsertPredictions(PREDICTIONS);
        await store.upsertBars([...AAPL, ...MSFT]);
        await store.upsertPredictions(PREDICTIONS);
        expect(await store.counts()).toEqual({ bars: 13, predictions: 7, scores: 0, symbols: 2 });
        expect(await store.bars('AAPL')).toEqual(AAPL);
      });

      it('replaces a bar with the same (symbol, interval, ts): the latest write wins', async () => {
        await store.upsertBars(AAPL);
        // A live bar for 2018-01-12 first seen mid-day, then corrected by the final close.
        const final = AAPL[8]!;
        const revised = { ...final, high: 178.0, close: 177.5, volume: 30_000_000, quotes: 7, source: 'yahoo' };
        await store.upsertBars([revised]);
        expect(await store.counts()).toMatchObject({ bars: 9 });
        expect(await store.bars('AAPL', { from: final.ts })).toEqual([revised]);
      });

      it('keeps the last of two rows with the same key inside one batch', async () => {
        const first = AAPL[0]!;
        const second = { ...first, close: 172.5 };
        await store.upsertBars([first, second]);
        expect(await store.bars('AAPL')).toEqual([second]);
      });

      it('replaces a prediction with the same (symbol, ts, horizon)', async () => {
        await store.upsertPredictions(PREDICTIONS);
        const rerun = { ...PREDICTIONS[0]!, predictedClose: 172.9, modelVersion: '2018.01.2' };
        await store.upsertPredictions([rerun]);
        expect(await store.counts()).toMatchObject({ predictions: 7 });
        expect(await store.predictions('AAPL', { to: utc('2018-01-03'), horizon: 1 })).toEqual([rerun]);
      });

      it('keeps bars of different intervals at the same time apart', async () => {
        const minute = { ...AAPL[0]!, interval: '1m', ts: utc('2018-01-02') + 14.5 * 3_600_000, volume: 1_200 };
        const daily = { ...AAPL[0]!, ts: minute.ts };
        await store.upsertBars([daily, minute]);
        expect(await store.bars('AAPL')).toEqual([daily]);
        expect(await store.bars('AAPL', { interval: '1m' })).toEqual([minute]);
      });

      it('lets concurrent upserts land in call order', async () => {
        const closes = [172.26, 172.3, 172.4, 172.5, 172.6];
        await Promise.all(closes.map((close) => store.upsertBars([{ ...AAPL[0]!, close }, ...MSFT])));
        expect(await store.counts()).toMatchObject({ bars: 5 });
        expect((await store.bars('AAPL'))[0]?.close).toBe(172.6);
      });

      it('accepts an empty batch', async () => {
        await store.upsertBars([]);
        await store.upsertPredictions([]);
        expect(await store.counts()).toEqual({ bars: 0, predictions: 0, scores: 0, symbols: 0 });
      });

      it('round-trips NaN, which marks a value that is not known yet', async () => {
        const warmingUp = { ...PREDICTIONS[0]!, predictedReturn: Number.NaN };
        await store.upsertPredictions([warmingUp]);
        const [stored] = await store.predictions('AAPL');
        expect(stored?.predictedReturn).toBeNaN();
        expect(stored).toEqual(warmingUp);
      });
    });

    describe('bars', () => {
      beforeEach(async () => {
        await store.upsertBars([...AAPL, ...MSFT]);
      });

      it('reads [from, to): from is included, to is not', async () => {
        const week = await store.bars('AAPL', { from: utc('2018-01-08'), to: utc('2018-01-12') });
        expect(week.map((b) => b.close)).toEqual([174.35, 174.33, 174.29, 175.28]);
      });

      it('keeps the newest rows under a limit, still oldest first', async () => {
        const lastThree = await store.bars('AAPL', { limit: 3 });
        expect(lastThree.map((b) => new Date(b.ts).toISOString().slice(0, 10))).toEqual([
          '2018-01-10',
          '2018-01-11',
          '2018-01-12',
        ]);
        expect(await store.bars('AAPL', { to: utc('2018-01-04'), limit: 1 })).toEqual([AAPL[1]]);
        expect(await store.bars('AAPL', { limit: 0 })).toEqual([]);
      });

      it('gives the latest bar per symbol, ordered by symbol', async () => {
        expect(await store.latestBars()).toEqual([AAPL[8], MSFT[3]]);
        expect(await store.latestBars(['MSFT'])).toEqual([MSFT[3]]);
        expect(await store.latestBars(['MSFT', 'AAPL', 'NFLX'])).toEqual([AAPL[8], MSFT[3]]);
        expect(await store.latestBars([])).toEqual([]);
        expect(await store.latestBars(undefined, '1m')).toEqual([]);
      });

      it('lists the symbols that have bars, sorted', async () => {
        await store.upsertPredictions([prediction('NFLX', '2018-01-02', 1, 201.07, 202.0)]);
        expect(await store.symbols()).toEqual(['AAPL', 'MSFT']);
        expect(await store.counts()).toEqual({ bars: 13, predictions: 1, scores: 0, symbols: 2 });
      });
    });

    describe('ohlc', () => {
      beforeEach(async () => {
        await store.upsertBars([...AAPL, ...MSFT]);
      });

      it('aggregates weekly candles: first open, max high, min low, last close, summed volume', async () => {
        // Buckets start at floor(ts / bucketMs) * bucketMs, so 7-day buckets start on Thursdays
        // (1970-01-01 was one): 2017-12-28, 2018-01-04 and 2018-01-11.
        const weeks = await store.ohlc('AAPL', { bucketMs: WEEK });
        expect(weeks).toEqual([
          {
            symbol: 'AAPL',
            interval: '1w',
            ts: utc('2017-12-28'),
            open: 170.16,
            high: 174.55,
            low: 169.26,
            close: 172.23,
            volume: 25_555_934 + 29_517_899,
            quotes: 2,
            source: 'replay',
          },
          {
            symbol: 'AAPL',
            interval: '1w',
            ts: utc('2018-01-04'),
            open: 172.54,
            high: 175.61,
            low: 172.08,
            close: 174.29,
            volume: 22_434_597 + 23_660_018 + 20_567_766 + 21_583_997 + 23_959_895,
            quotes: 5,
            source: 'replay',
          },
          {
            symbol: 'AAPL',
            interval: '1w',
            ts: utc('2018-01-11'),
            open: 174.59,
            high: 177.36,
            low: 174.49,
            close: 177.09,
            volume: 18_667_729 + 25_418_080,
            quotes: 2,
            source: 'replay',
          },
        ]);
      });

      it('aggregates only the bars in [from, to)', async () => {
        const [partial] = await store.ohlc('MSFT', { bucketMs: WEEK, from: utc('2018-01-03'), to: utc('2018-01-05') });
        expect(partial).toMatchObject({ ts: utc('2017-12-28'), open: 86.055, close: 86.35, quotes: 1 });
        // One-day buckets over daily bars are the bars themselves.
        expect(await store.ohlc('MSFT', { bucketMs: DAY, from: utc('2018-01-04') })).toEqual([MSFT[2], MSFT[3]]);
      });

      it('rejects a bucket that is not a positive whole number of ms', async () => {
        await expect(store.ohlc('AAPL', { bucketMs: 0 })).rejects.toThrow(RangeError);
        await expect(store.ohlc('AAPL', { bucketMs: 1.5 })).rejects.toThrow(RangeError);
      });
    });

    describe('predictions', () => {
      beforeEach(async () => {
        await store.upsertPredictions([...PREDICTIONS].reverse());
      });

      it('gives the latest prediction per (symbol, horizon), ordered by symbol then horizon', async () => {
        const latest = await store.latestPredictions();
        expect(latest.map((p) => p.id)).toEqual([
          `AAPL:${utc('2018-01-04')}:1`,
          `AAPL:${utc('2018-01-03')}:5`,
          `MSFT:${utc('2018-01-03')}:1`,
        ]);
        expect(latest[0]).toEqual(PREDICTIONS[4]);
      });

      it('filters the latest predictions by symbols and horizon', async () => {
        expect(await store.latestPredictions(['MSFT'])).toEqual([PREDICTIONS[6]]);
        expect(await store.latestPredictions(undefined, 5)).toEqual([PREDICTIONS[3]]);
        expect(await store.latestPredictions(['AAPL', 'MSFT'], 1)).toEqual([PREDICTIONS[4], PREDICTIONS[6]]);
        expect(await store.latestPredictions([])).toEqual([]);
      });

      it('reads the predictions of a symbol in [from, to), oldest first', async () => {
        const aapl = await store.predictions('AAPL');
        expect(aapl).toEqual(PREDICTIONS.slice(0, 5));
        const jan3 = await store.predictions('AAPL', { from: utc('2018-01-03'), to: utc('2018-01-04') });
        expect(jan3.map((p) => p.horizon)).toEqual([1, 5]);
        const oneDay = await store.predictions('AAPL', { horizon: 1, limit: 2 });
        expect(oneDay).toEqual([PREDICTIONS[2], PREDICTIONS[4]]);
      });
    });

    describe('unknown and hostile input', () => {
      beforeEach(async () => {
        await store.upsertBars([...AAPL, ...MSFT]);
        await store.upsertPredictions(PREDICTIONS);
      });

      it('returns empty results for a symbol it has never seen', async () => {
        expect(await store.bars('NFLX')).toEqual([]);
        expect(await store.ohlc('NFLX', { bucketMs: WEEK })).toEqual([]);
        expect(await store.predictions('NFLX')).toEqual([]);
        expect(await store.latestBars(['NFLX'])).toEqual([]);
        expect(await store.latestPredictions(['NFLX'])).toEqual([]);
      });

      it.each([
        "O'X",
        "AAPL' OR '1'='1",
        "'; DROP TABLE bars; --",
        'AAPL"; DELETE FROM predictions; --',
        '%',
        '\\',
        '',
      ])('treats %j as a symbol like any other: no rows, no error', async (symbol) => {
        expect(await store.bars(symbol)).toEqual([]);
        expect(await store.bars('AAPL', { interval: symbol })).toEqual([]);
        expect(await store.ohlc(symbol, { bucketMs: WEEK })).toEqual([]);
        expect(await store.predictions(symbol)).toEqual([]);
        expect(await store.latestBars([symbol])).toEqual([]);
        expect(await store.latestBars([symbol, 'MSFT'])).toEqual([MSFT[3]]);
        expect(await store.latestPredictions([symbol])).toEqual([]);
        expect(await store.counts()).toEqual({ bars: 13, predictions: 7, scores: 0, symbols: 2 });
      });

      it('stores and finds a symbol with a quote in it', async () => {
        const odd = { ...MSFT[0]!, symbol: "O'X" };
        await store.upsertBars([odd]);
        expect(await store.bars("O'X")).toEqual([odd]);
        expect(await store.symbols()).toEqual(['AAPL', 'MSFT', "O'X"]);
      });
    });

    describe('lifecycle', () => {
      it('answers ping while open and not after close; closing twice is fine', async () => {
        expect(store.kind).toMatch(/\w+/);
        expect(await store.ping()).toBe(true);
        await store.close();
        expect(await store.ping()).toBe(false);
      });
    });

    describe('scores', () => {
      it('stores scores idempotently and reads them back, a missing realisation as null', async () => {
        await store.upsertScores(SCORES);
        await store.upsertScores(SCORES);
        expect((await store.counts()).scores).toBe(5);
        expect(await store.scores('AAPL')).toEqual(SCORES.slice(0, 3));
        const msft = await store.scores('MSFT', { horizon: 1 });
        expect(msft.map((x) => [x.status, x.realisedClose, x.inside])).toEqual([
          ['scored', 86.35, true],
          ['missing', null, null],
        ]);
        expect(await store.scores('AAPL', { from: utc('2018-01-03'), limit: 1 })).toEqual([SCORES[2]]);
      });

      it('sums up live skill per target session (scored forecasts only)', async () => {
        await store.upsertScores(SCORES);
        const days = await store.scoreDays({ horizon: 1 });
        // Target sessions: AAPL and MSFT on 01-03 (two forecasts), AAPL on 01-04 and 01-05; MSFT's
        // 01-04 target had no bar (missing) and is not in the figures.
        expect(days.map((d) => [d.ts, d.n])).toEqual([
          [utc('2018-01-03'), 2],
          [utc('2018-01-04'), 1],
          [utc('2018-01-05'), 1],
        ]);
        const first = days[0]!;
        const mae = ((Math.abs(172.23 - 172.61) / 172.26 + Math.abs(86.35 - 86.1) / 85.95) / 2) * 100;
        expect(first.mae).toBeCloseTo(mae, 10);
        expect(first.maePersistence).toBeCloseTo(((Math.abs(172.23 - 172.26) / 172.26 + 0.4 / 85.95) / 2) * 100, 10);
        expect(first.coverage).toBe(1);
        expect(first).toMatchObject({ horizon: 1, regime: 'normal', model: 'mlp-normal', modelVersion: '2018.01.1' });
        expect(await store.scoreDays({ horizon: 1, from: utc('2018-01-04') })).toHaveLength(2);
      });
    });

    describe('records of a declared topic (a table derived from its Avro schema)', () => {
      it('reads nothing before anything was stored (no table yet)', async () => {
        expect(await store.records(SIGNALS, { symbol: 'AAPL' })).toEqual([]);
      });

      it('stores records and reads them back by key, oldest first, unchanged', async () => {
        await store.upsertRecords(SIGNALS, [...SIGNAL_ROWS].reverse());
        expect(await store.records(SIGNALS, { symbol: 'AAPL' })).toEqual(SIGNAL_ROWS.slice(0, 3));
        expect(await store.records(SIGNALS, { symbol: 'MSFT' })).toEqual([SIGNAL_ROWS[3]]);
        expect(await store.records(SIGNALS, { symbol: 'NFLX' })).toEqual([]);
      });

      it('is idempotent on (key, time): a replay adds nothing, the latest write wins, also within a batch', async () => {
        await store.upsertRecords(SIGNALS, SIGNAL_ROWS);
        await store.upsertRecords(SIGNALS, SIGNAL_ROWS);
        const revised = { ...SIGNAL_ROWS[1]!, close: 174.3, fast: 174.32 };
        await store.upsertRecords(SIGNALS, [SIGNAL_ROWS[1]!, revised]);
        expect(await store.records(SIGNALS, { symbol: 'AAPL' })).toEqual([SIGNAL_ROWS[0], revised, SIGNAL_ROWS[2]]);
        await store.upsertRecords(SIGNALS, []);
        // The store's own tables are untouched.
        expect(await store.counts()).toEqual({ bars: 0, predictions: 0, scores: 0, symbols: 0 });
      });

      it('reads [from, to) and keeps the newest rows under a limit, oldest first', async () => {
        await store.upsertRecords(SIGNALS, SIGNAL_ROWS);
        const range = { from: utc('2018-01-08'), to: utc('2018-01-12') };
        expect(await store.records(SIGNALS, { symbol: 'AAPL' }, range)).toEqual(SIGNAL_ROWS.slice(0, 2));
        expect(await store.records(SIGNALS, { symbol: 'AAPL' }, { limit: 2 })).toEqual(SIGNAL_ROWS.slice(1, 3));
        expect(await store.records(SIGNALS, { symbol: 'AAPL' }, { limit: 0 })).toEqual([]);
      });

      it('maps every field kind to a column and back: enums, longs, nullable unions, booleans, arrays and maps', async () => {
        const rows: Sample[] = [
          {
            region: 'eu',
            day: utc('2018-01-02'),
            side: 'buy',
            size: 9_007_199_254_740_991,
            count: -3,
            ratio: 0.25,
            active: true,
            note: "it's",
            seenAt: utc('2018-01-02') + 1,
            tags: ['a', 'b'],
            extra: { x: 1.5 },
          },
          {
            region: 'eu',
            day: utc('2018-01-03'),
            side: 'buy',
            size: 0,
            count: 2_147_483_647,
            ratio: null,
            active: false,
            note: null,
            seenAt: null,
            tags: [],
            extra: {},
          },
          { ...rowOf('eu', '2018-01-03'), side: 'sell' },
        ];
        await store.upsertRecords(SAMPLE, rows);
        expect(await store.records(SAMPLE, { region: 'eu', side: 'buy' })).toEqual(rows.slice(0, 2));
        expect(await store.records(SAMPLE, { region: 'eu', side: 'sell' })).toEqual([rows[2]]);
      });

      it('refuses a batch with a bad value whole, and a read with a wrong key', async () => {
        await expect(store.upsertRecords(SIGNALS, [SIGNAL_ROWS[0]!, { ...SIGNAL_ROWS[1]!, ts: 1.5 }])).rejects.toThrow(
          RangeError,
        );
        expect(await store.records(SIGNALS, { symbol: 'AAPL' })).toEqual([]);
        await expect(store.records(SIGNALS, { ticker: 'AAPL' })).rejects.toThrow(/ticker not a key field/);
        await expect(store.records(SIGNALS, {})).rejects.toThrow(/give key field symbol/);
        await expect(store.records({ ...SIGNALS, name: 'x"; DROP TABLE bars; --' }, { symbol: 'A' })).rejects.toThrow(
          RangeError,
        );
      });

      it.each(["AAPL' OR '1'='1", "'; DROP TABLE topic_signals; --", '%', ''])(
        'treats %j as a key value like any other: no rows, no error',
        async (symbol) => {
          await store.upsertRecords(SIGNALS, SIGNAL_ROWS);
          expect(await store.records(SIGNALS, { symbol })).toEqual([]);
          expect(await store.records(SIGNALS, { symbol: 'MSFT' })).toEqual([SIGNAL_ROWS[3]]);
        },
      );
    });
  });
}

function rowOf(region: string, date: string): Sample {
  return {
    region,
    day: utc(date),
    side: 'buy',
    size: 1,
    count: 1,
    ratio: 1,
    active: true,
    note: 'n',
    seenAt: null,
    tags: ['t'],
    extra: { y: -2 },
  };
}
