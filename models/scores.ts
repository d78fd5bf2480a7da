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
