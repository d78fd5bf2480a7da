// A prediction beside what happened: the Score record made from the prediction's fields and the
// close of its target session. One definition for the score operator and the stores that read
// scores back (they keep the realised close and derive the rest).
import type { Prediction, Score } from '../schemas/index.js';

/** What a score keeps of its prediction. */
export type ScoredPrediction = Pick<
  Prediction,
  | 'id'
  | 'symbol'
  | 'ts'
  | 'targetTs'
  | 'horizon'
  | 'model'
  | 'modelVersion'
  | 'regime'
  | 'lastClose'
  | 'predictedClose'
  | 'lower'
  | 'upper'
>;

/** The score of `p` given the close of its target session (null: that session had no bar). */
export function scoreOf(p: ScoredPrediction, realisedClose: number | null): Score {
  // One object literal with every field: spreading a base object and adding the rest made each
  // call ~10 µs (V8 gave every score a slow shape), a third of the scoring's CPU.
  const scored = realisedClose !== null;
  return {
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
    status: scored ? 'scored' : 'missing',
    realisedClose,
    error: scored ? Math.log(realisedClose / p.predictedClose) : null,
    realisedReturn: scored ? Math.log(realisedClose / p.lastClose) : null,
    inside: scored ? realisedClose >= p.lower && realisedClose <= p.upper : null,
  };
}
