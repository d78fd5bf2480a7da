// The whole price-prediction DAG on real bundled data, driven step by step.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLiveHub, TestDriver } from '../engine/index.js';
import { driftModel, persistenceModel } from '../models/baselines.js';
import { createCalibrationTable } from '../models/calibration-table.js';
import { loadEarningsCalendar } from '../models/earnings-calendar.js';
import { replay } from '../operators/sources/replay.js';
import type { Calibration, Features, Prediction, Score } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { pricePrediction } from './price-prediction.js';

const ROOT = new URL('..', import.meta.url).pathname;
const DATA = join(ROOT, 'data/sp500-daily');
const EARNINGS = join(ROOT, 'data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv');
const SYMBOLS = ['AAPL', 'MSFT', 'O', 'XOM'];
const FROM = Date.UTC(2015, 6, 1);
const TO = Date.UTC(2016, 0, 31);

async function setup(store: Awaited<ReturnType<typeof openDuckDbStore>>) {
  const pipeline = pricePrediction({
    source: replay({ dir: DATA, symbols: SYMBOLS, from: FROM, to: TO }),
    calendar: await loadEarningsCalendar(EARNINGS),
    models: { normal: persistenceModel({ horizons: [1, 5] }), earnings: driftModel({ horizons: [1, 5] }) },
    store,
    hub: createLiveHub(),
    scoring: { table: createCalibrationTable() },
  });
  return TestDriver.create(pipeline);
}

describe('price-prediction pipeline', () => {
  it('replays real data into bars and predictions in the store, routing earnings days', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    const d = await setup(store);
    await d.runSource();

    const counts = await store.counts();
    const quotes = d.read('quotes').length;
    // O has an empty-cell row on 2015-07-17 and another on 2016-01-12: both dead-lettered.
    expect(d.deadLetters('quotes').map((l) => l.reason)).toEqual([
      'O_data.csv:599: open is empty',
      'O_data.csv:722: open is empty; high is empty; low is empty',
    ]);
    // Every prediction is scored except each symbol's last 1 (h1) and 5 (h5), still pending; O's
    // predictions for its two rejected days are scored as missing (4: one per horizon and day).
    expect(counts).toEqual({ bars: quotes, predictions: quotes * 2, scores: quotes * 2 - 4 * (1 + 5), symbols: 4 });
    const missing = d
      .read<Score>('scores')
      .filter((x) => x.status === 'missing')
      .sort((a, b) => a.targetTs - b.targetTs || a.horizon - b.horizon);
    expect(missing.map((x) => `${x.symbol} h${x.horizon} ${new Date(x.targetTs).toISOString().slice(0, 10)}`)).toEqual([
      'O h1 2015-07-17',
      'O h5 2015-07-17',
      'O h1 2016-01-12',
      'O h5 2016-01-12',
    ]);
    // The calibration stepped on every session's realisations, per horizon and regime.
    const steps = d.read<Calibration>('calibration');
    expect(new Set(steps.map((c) => c.group))).toEqual(new Set(['1:normal', '5:normal', '1:earnings', '5:earnings']));

    // AAPL reported on 2015-07-21 and 2015-10-27 (after the close): those bars go to the earnings model.
    const earnings = d.read<Features>('features.earnings').filter((f) => f.symbol === 'AAPL');
    expect(earnings.map((f) => new Date(f.ts).toISOString().slice(0, 10))).toEqual(
      expect.arrayContaining(['2015-07-21', '2015-10-27']),
    );
    const latest = await store.latestPredictions(['AAPL'], 1);
    expect(latest).toHaveLength(1);
    const p = latest[0] as Prediction;
    // AAPL closed at 97.34 on 2016-01-29 (the last replayed day); persistence predicts it again.
    expect(p).toMatchObject({ symbol: 'AAPL', ts: Date.UTC(2016, 0, 29), lastClose: 97.34, model: 'persistence' });
    expect(p.lower).toBeLessThan(p.predictedClose);
    expect(p.upper).toBeGreaterThan(p.predictedClose);
    expect(p.targetTs).toBe(Date.UTC(2016, 1, 1)); // Friday + 1 trading day = Monday
    for (const node of d.metrics.snapshot()) expect(node.status).not.toBe('failed');
  });

  it('writes the same rows when the same data is replayed twice', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    await (await setup(store)).runSource();
    const first = await store.counts();
    const before = await store.predictions('MSFT', { horizon: 5 });
    await (await setup(store)).runSource();
    expect(await store.counts()).toEqual(first);
    const after = await store.predictions('MSFT', { horizon: 5 });
    expect(after.map((p) => [p.id, p.predictedClose])).toEqual(before.map((p) => [p.id, p.predictedClose]));
  });
});

describe('minute bars beside the daily ones (live quotes)', () => {
  it('adds bars.1m (from the sources named) and its store sink; the models still read the daily bars', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    const model = persistenceModel({ horizons: [1] });
    const pipeline = pricePrediction({
      source: replay({ dir: DATA, symbols: ['AAPL'] }),
      calendar: await loadEarningsCalendar(EARNINGS),
      models: { normal: model, earnings: model },
      store,
      hub: createLiveHub(),
      minuteBars: { sources: ['yahoo'] },
    });
    const dag = pipeline.describe();
    const node = (id: string) => dag.nodes.find((n) => n.id === id);
    expect(node('bars-1m')).toMatchObject({ reads: ['quotes'], writes: [{ port: 'bars', topic: 'bars.1m' }] });
    expect(node('store-bars-1m')?.reads).toEqual(['bars.1m']);
    expect(node('features')?.reads).toEqual(['bars']);
    await store.close();
  });
});
