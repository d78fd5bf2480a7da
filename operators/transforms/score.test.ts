import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import type { Prediction, Score } from '../../schemas/index.js';
import { score } from './score.js';

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

/** A prediction made on `iso` (close `close`) for the session `target`, with an interval ±2%. */
function prediction(symbol: string, iso: string, close: number, horizon: number, target: string): Prediction {
  return {
    id: `${symbol}:${day(iso)}:${horizon}`,
    symbol,
    ts: day(iso),
    horizon,
    targetTs: day(target),
    lastClose: close,
    predictedClose: close,
    predictedReturn: 0,
    lower: close * 0.98,
    upper: close * 1.02,
    model: 'persistence',
    modelVersion: '1',
    regime: 'normal',
    createdAt: 0,
    rankScore: null,
  };
}

describe('score', () => {
  it('joins each prediction with the close of its target session, h sessions later, in any order', async () => {
    const d = await TestDriver.forOperator(score());
    await d.pipe('input', [
      prediction('KO', '2017-01-12', 41.0, 1, '2017-01-13'),
      prediction('KO', '2017-01-12', 41.0, 2, '2017-01-17'),
      // Friday's prediction realises the 1-day one: 41.5 is inside ±2%.
      prediction('KO', '2017-01-13', 41.5, 1, '2017-01-17'),
      // Tuesday (Monday was a holiday): realises the 2-day one and Friday's; 42.5 is outside.
      prediction('KO', '2017-01-17', 42.5, 1, '2017-01-18'),
      // An earnings-branch prediction of Wednesday arriving after Thursday's normal one.
      prediction('KO', '2017-01-19', 42.0, 1, '2017-01-20'),
      prediction('KO', '2017-01-18', 42.2, 1, '2017-01-19'),
    ]);
    await d.run();
    const scores = d.read<Score>('scores');
    expect(scores.map((s) => [s.id, s.status, s.realisedClose, s.inside])).toEqual([
      [`KO:${day('2017-01-12')}:1`, 'scored', 41.5, true],
      [`KO:${day('2017-01-12')}:2`, 'scored', 42.5, false],
      [`KO:${day('2017-01-13')}:1`, 'scored', 42.5, false],
      [`KO:${day('2017-01-17')}:1`, 'scored', 42.2, true],
      [`KO:${day('2017-01-18')}:1`, 'scored', 42.0, true],
    ]);
    expect(scores[0]!.realisedReturn).toBeCloseTo(Math.log(41.5 / 41), 12);
    expect(scores[0]!.error).toBeCloseTo(Math.log(41.5 / 41), 12);
    // Keyed by symbol, like the predictions (co-partitioned).
    expect(new Set(d.records('scores').map((r) => r.key))).toEqual(new Set(['KO']));
  });

  it('says missing once the watermark passes a target session without a bar, and scores a late prediction', async () => {
    const d = await TestDriver.forOperator(score());
    await d.pipe('input', [
      prediction('KO', '2017-01-12', 41.0, 1, '2017-01-13'),
      // No bar on Friday: the next prediction is Tuesday's.
      prediction('KO', '2017-01-17', 42.0, 1, '2017-01-18'),
      // A prediction arriving after its target session is scored from the close the state kept.
      prediction('KO', '2017-01-11', 40.0, 4, '2017-01-17'),
    ]);
    await d.run();
    expect(d.read<Score>('scores').map((s) => s.status)).toEqual(['scored']);
    // Nothing made on Friday can arrive once the watermark is past Friday's bar.
    await d.advanceWatermark('input', day('2017-01-14'));
    expect(d.read<Score>('scores').map((s) => [s.ts, s.status, s.realisedClose])).toEqual([
      [day('2017-01-11'), 'scored', 42.0],
      [day('2017-01-12'), 'missing', null],
    ]);
    // The end of the stream leaves Tuesday's 1-day prediction pending, not missing.
    await d.end();
    expect(d.read<Score>('scores')).toHaveLength(2);
  });
});

describe('score counts late predictions', () => {
  it('tickcast_score_late_total{horizon, status}: scored from a kept close, or missing', async () => {
    const registry = new Registry();
    const d = await TestDriver.forOperator(score({ registry }));
    await d.pipe('input', [
      prediction('KO', '2017-01-12', 41.0, 1, '2017-01-13'),
      prediction('KO', '2017-01-17', 42.0, 1, '2017-01-18'),
      // After its target session's close came: late, scored from the kept close.
      prediction('KO', '2017-01-11', 40.0, 4, '2017-01-17'),
    ]);
    await d.run();
    await d.advanceWatermark('input', day('2017-01-14'));
    // Friday had no bar and the watermark is past it: late, and missing.
    await d.pipe('input', [prediction('KO', '2017-01-06', 40.0, 5, '2017-01-13')]);
    await d.run();
    await d.advanceWatermark('input', day('2017-01-15'));
    expect(d.read<Score>('scores').map((s) => [s.ts, s.status])).toEqual([
      [day('2017-01-11'), 'scored'],
      [day('2017-01-12'), 'missing'],
      [day('2017-01-06'), 'missing'],
    ]);
    const late = (await registry.getSingleMetric('tickcast_score_late_total')!.get()).values;
    expect(late.map((v) => [v.labels, v.value])).toEqual([
      [{ horizon: '4', status: 'scored' }, 1],
      [{ horizon: '5', status: 'missing' }, 1],
    ]);
    // On-time predictions are not counted; a second operator on the same registry shares the counter.
    expect(() => score({ registry })).not.toThrow();
  });

  it('keeps its state on the changelog in Avro: what waits comes back as it was (NaN and nulls too)', () => {
    const codec = score().state!.codec!;
    const { createdAt: _c, predictedReturn: _r, ...waiting } = prediction('KO', '2018-01-02', 46.1, 5, '2018-01-09');
    const state = {
      closes: [[day('2018-01-02'), 46.1] as [number, number]],
      pending: [waiting, { ...waiting, id: 'KO:2', lower: Number.NaN, rankScore: 0.4 }],
    };
    const bytes = codec.encode(state);
    expect(bytes.length).toBeLessThan(JSON.stringify(state).length / 2);
    const back = codec.decode(bytes);
    expect(back.closes).toEqual(state.closes);
    expect(back.pending.map((p) => ({ ...p }))).toEqual(state.pending);
    // The operator keeps the prediction itself waiting: the fields a score does not keep are not written.
    const whole: Prediction = {
      ...prediction('KO', '2018-01-02', 46.1, 5, '2018-01-09'),
      createdAt: 123,
      predictedReturn: 0.5,
    };
    const trimmed = Buffer.from(codec.encode({ ...state, pending: [waiting] }));
    expect(Buffer.from(codec.encode({ ...state, pending: [whole] }))).toEqual(trimmed);
  });
});
