// score: predictions → scores. Each prediction waits (keyed state per symbol) for the session it
// is for; the close of that session is the `lastClose` of the symbol's first prediction made on it
// (every bar of a symbol yields predictions), so the join needs only the predictions topic.
// Event-time join: a prediction is scored when a prediction of its target session arrives (from
// either regime's predict node, so in any order), and is `missing` once the watermark has passed
// its target session without one (the symbol had no bar that day: an event-time timer). A
// prediction that arrives after its target session (late) is scored from the closes the state keeps.
// Scores keep the symbol as key (co-partitioned with the predictions).
// Late predictions are counted (given a registry): tickcast_score_late_total{horizon, status},
// status `scored` (from a kept close) or `missing` (its close is no longer kept, so its score says
// missing though the session had a bar). Missing sessions are counted from the scores topic by
// score-metrics (tickcast_scores_total{status="missing"}).
import { Counter, type Registry } from 'prom-client';
import { avroStateCodec, defineOperator, END_OF_TIME } from '../../engine/index.js';
import { type ScoredPrediction, scoreOf } from '../../models/scores.js';
import { type Prediction, type Score, schemas } from '../../schemas/index.js';

/**
 * Closes kept per symbol for late predictions once the watermark has passed them: about three
 * months of sessions. Closes the watermark has not passed yet are all kept (the other regime's
 * predictions of those sessions may still come).
 */
const KEPT_CLOSES = 64;

/** A prediction waiting for its target session: what its score keeps, and the rest of the state's record (restored from the changelog, nothing more). */
type Pending = ScoredPrediction & Pick<Prediction, 'rankScore'>;

export interface ScoreState {
  /** [session ts, close], oldest first, at most KEPT_CLOSES. */
  closes: Array<[number, number]>;
  /** Predictions waiting for their target session. */
  pending: Pending[];
}

export interface ScoreOptions {
  /**
   * Length of the bars the predictions are made on (default a day): a session's predictions carry
   * the bar's start as event time and come with the watermark at the bar's end, so a target
   * session is over (missing if no prediction of it came) once the watermark passes its end.
   */
  intervalMs?: number;
  /** Where to count late predictions (tickcast_score_late_total); none: not counted. */
  registry?: Registry;
}

const LATE_METRIC = 'tickcast_score_late_total';

/**
 * The state on its changelog, in Avro: a pending prediction is a Prediction without createdAt and
 * predictedReturn, which a score does not keep (Avro writes a record's own fields and skips the
 * rest). A symbol's state holds up to ~27 of them: as JSON ~4–8 KB, five times slower to write (issue 15).
 */
const predictionRecord = schemas.Prediction.avsc as { fields: ReadonlyArray<{ name: string }> };
const scoreStateCodec = avroStateCodec<ScoreState>({
  type: 'record',
  name: 'ScoreState',
  namespace: 'tickcast.state',
  fields: [
    { name: 'closes', type: { type: 'array', items: { type: 'array', items: 'double' } } },
    {
      name: 'pending',
      type: {
        type: 'array',
        items: {
          ...predictionRecord,
          name: 'PendingPrediction',
          fields: predictionRecord.fields.filter((f) => f.name !== 'createdAt' && f.name !== 'predictedReturn'),
        },
      },
    },
  ],
} as unknown as Parameters<typeof avroStateCodec>[0]);

/** The registry's late-prediction counter (one per registry, however many score operators share it). */
function lateCounter(registry: Registry): Counter<'horizon' | 'status'> {
  return (
    (registry.getSingleMetric(LATE_METRIC) as Counter<'horizon' | 'status'> | undefined) ??
    new Counter({
      name: LATE_METRIC,
      help: 'Predictions that arrived after their target session, by the score they got: scored (from a kept close) or missing (no close of that session kept)',
      labelNames: ['horizon', 'status'],
      registers: [registry],
    })
  );
}

export function score(opts: ScoreOptions = {}) {
  const intervalMs = opts.intervalMs ?? 86_400_000;
  const late = opts.registry ? lateCounter(opts.registry) : undefined;
  return defineOperator<Prediction, { scores: typeof schemas.Score }, ScoreState>({
    kind: 'transform',
    name: 'score',
    input: schemas.Prediction,
    outputs: { scores: schemas.Score },
    state: {
      description: 'per symbol: predictions waiting for their target session, and recent closes',
      codec: scoreStateCodec,
    },
    process({ value: p }, ctx) {
      const state = ctx.state.get() ?? { closes: [], pending: [] };
      const emit = (x: Score) => ctx.emit('scores', x, { timestamp: x.targetTs });
      recordClose(state, p.ts, p.lastClose, ctx.watermark - intervalMs);
      const waiting: Pending[] = [];
      for (const q of state.pending) {
        if (q.targetTs === p.ts) emit(scoreOf(q, p.lastClose));
        else waiting.push(q);
      }
      const known = closeAt(state, p.targetTs);
      // Late: its target session's close already came, or the watermark is past that session.
      const isLate = known !== null || ctx.watermark >= p.targetTs + intervalMs;
      if (known !== null) emit(scoreOf(p, known));
      else if (!waiting.some((q) => q.id === p.id)) {
        // The prediction itself waits (no copy): the changelog writes only the fields it keeps.
        waiting.push(p);
        ctx.setTimer(p.targetTs + intervalMs);
      }
      if (isLate) late?.inc({ horizon: String(p.horizon), status: known !== null ? 'scored' : 'missing' });
      state.pending = waiting;
      ctx.state.set(state);
    },
    onTimer(timer, ctx) {
      const state = ctx.state.get();
      // The end of a finite stream is not a session without a bar: what waits stays pending.
      if (!state || ctx.watermark >= END_OF_TIME) return;
      const waiting: Pending[] = [];
      for (const q of state.pending) {
        if (q.targetTs + intervalMs <= timer.time) {
          ctx.emit('scores', scoreOf(q, closeAt(state, q.targetTs)), { timestamp: q.targetTs });
        } else waiting.push(q);
      }
      state.pending = waiting;
      ctx.state.set(state);
    },
  });
}

/** Adds a session's close; drops the oldest beyond KEPT_CLOSES among those before `passed`. */
function recordClose(state: ScoreState, ts: number, close: number, passed: number): void {
  const closes = state.closes;
  let i = closes.length;
  while (i > 0 && closes[i - 1]![0] > ts) i--;
  if (i > 0 && closes[i - 1]![0] === ts) return; // the session's close is known (another horizon)
  closes.splice(i, 0, [ts, close]);
  if (closes.length <= KEPT_CLOSES) return;
  let over = 0;
  while (over < closes.length - KEPT_CLOSES && closes[over]![0] < passed) over++;
  if (over > 0) closes.splice(0, over);
}

function closeAt(state: ScoreState, ts: number): number | null {
  for (let i = state.closes.length - 1; i >= 0; i--) {
    const [t, c] = state.closes[i]!;
    if (t === ts) return c;
    if (t < ts) break;
  }
  return null;
}
