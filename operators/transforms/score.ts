// score: predictions → scores. Each prediction waits (keyed state per symbol) for the session it
// is for; the close of that session is the `lastClose` of the symbol's first prediction made on it
// (every bar of a symbol yields predictions), so the join needs only the predictions topic.
// Event-time join: a prediction is scored when a prediction of its target session arrives, and
// is `missing` when a later session arrives first (the symbol had no bar that day). A prediction
// that arrives after its target session (late) is scored from the closes the state keeps.
// Scores are keyed by calibration group (horizon:regime), which is what `calibrate` reads by.
import { defineOperator } from '../../engine/index.js';
import { groupKey } from '../../models/conformal.js';
import { type Prediction, type Score, schemas } from '../../schemas/index.js';

/** Closes kept per symbol for late predictions: about three months of sessions. */
const KEPT_CLOSES = 64;

type Pending = Omit<Prediction, 'createdAt' | 'predictedReturn'>;

export interface ScoreState {
  /** [session ts, close], oldest first, at most KEPT_CLOSES. */
  closes: Array<[number, number]>;
  /** Predictions waiting for their target session. */
  pending: Pending[];
}

export function score() {
  return defineOperator<Prediction, { scores: typeof schemas.Score }, ScoreState>({
    kind: 'transform',
    name: 'score',
    input: schemas.Prediction,
    outputs: { scores: schemas.Score },
    state: { description: 'per symbol: predictions waiting for their target session, and recent closes' },
    process({ value: p }, ctx) {
      const state = ctx.state.get() ?? { closes: [], pending: [] };
      const emit = (s: Score) => ctx.emit('scores', s, { key: groupKey(s.horizon, s.regime), timestamp: s.targetTs });
      recordClose(state, p.ts, p.lastClose);
      const newest = state.closes.at(-1)![0];
      const waiting: Pending[] = [];
      for (const q of state.pending) {
        if (q.targetTs > newest) waiting.push(q);
        else emit(scoreOf(q, closeAt(state, q.targetTs)));
      }
      if (p.targetTs <= newest) emit(scoreOf(p, closeAt(state, p.targetTs)));
      else if (!waiting.some((q) => q.id === p.id)) waiting.push(pendingOf(p));
      state.pending = waiting;
      ctx.state.set(state);
    },
  });
}

function recordClose(state: ScoreState, ts: number, close: number): void {
  const closes = state.closes;
  let i = closes.length;
  while (i > 0 && closes[i - 1]![0] > ts) i--;
  if (i > 0 && closes[i - 1]![0] === ts) return; // the session's close is known (another horizon)
  closes.splice(i, 0, [ts, close]);
  if (closes.length > KEPT_CLOSES) closes.splice(0, closes.length - KEPT_CLOSES);
}

function closeAt(state: ScoreState, ts: number): number | null {
  for (let i = state.closes.length - 1; i >= 0; i--) {
    const [t, c] = state.closes[i]!;
    if (t === ts) return c;
    if (t < ts) break;
  }
  return null;
}

function pendingOf(p: Prediction): Pending {
  const { createdAt: _c, predictedReturn: _r, ...rest } = p;
  return rest;
}

/** The score of `p` given the close of its target session (null: that session has no bar). */
export function scoreOf(p: Pending, realisedClose: number | null): Score {
  const base = {
    id: p.id,
    symbol: p.symbol,
    ts: p.ts,
    targetTs: p.targetTs,
    horizon: p.horizon,
    model: p.model,
    modelVersion: p.modelVersion,
    regime: p.regime,
    lastClose: p.lastClose,
    predictedClose: p.predictedClose,
    lower: p.lower,
    upper: p.upper,
  };
  if (realisedClose === null) {
    return { ...base, status: 'missing', realisedClose: null, error: null, realisedReturn: null, inside: null };
  }
  return {
    ...base,
    status: 'scored',
    realisedClose,
    error: Math.log(realisedClose / p.predictedClose),
    realisedReturn: Math.log(realisedClose / p.lastClose),
    inside: realisedClose >= p.lower && realisedClose <= p.upper,
  };
}
