// The pipeline's live scores (GraphQL liveScores: per target session, the stored scores of every
// symbol) summed up for the Model view: by month and by regime, each weighted by forecasts. The
// query the view asks, and the row types it reads, derived from it (graphql.ts).
import { graphql, type ResultOf } from './graphql';

/** The live scores at one horizon, and the rolling skill and calibration of every horizon. */
export const LIVE_SCORES = graphql(`query L($h: Int!) {
  liveScores(horizon: $h) { time regime n mae maePersistence coverage }
  liveSkill { model modelVersion horizon regime window mae maeRatioPersistence maeRatioConstantDrift coverage }
  calibration { group horizon regime ownScale steps recentCoverage updatedFor }
}`);
type Live = ResultOf<typeof LIVE_SCORES>;
/** One target session of one regime: mae and maePersistence in percent of the last close, coverage 0–1. */
export type ScoreDay = Live['liveScores'][number];
export type LiveSkillRow = Live['liveSkill'][number];
export type CalibrationRow = Live['calibration'][number];

export interface Summary {
  n: number;
  mae: number;
  maePersistence: number;
  /** Percent. */
  coverage: number;
}

interface Acc {
  n: number;
  mae: number;
  pers: number;
  inside: number;
}

const empty = (): Acc => ({ n: 0, mae: 0, pers: 0, inside: 0 });

function add(a: Acc, d: ScoreDay): void {
  a.n += d.n;
  a.mae += d.mae * d.n;
  a.pers += d.maePersistence * d.n;
  a.inside += d.coverage * d.n;
}

const summary = (a: Acc): Summary => ({
  n: a.n,
  mae: a.n ? a.mae / a.n : Number.NaN,
  maePersistence: a.n ? a.pers / a.n : Number.NaN,
  coverage: a.n ? (a.inside / a.n) * 100 : Number.NaN,
});

/** By calendar month of the target session, oldest first. */
export function byMonth(days: readonly ScoreDay[]): Array<{ month: string } & Summary> {
  const months = new Map<string, Acc>();
  for (const d of days) {
    const m = d.time.slice(0, 7);
    const a = months.get(m) ?? empty();
    months.set(m, a);
    add(a, d);
  }
  return [...months.entries()]
    .sort((x, y) => (x[0] < y[0] ? -1 : 1))
    .map(([month, a]) => ({ month, ...summary(a) }))
    .filter((s) => s.n > 0);
}

/** All, normal and earnings days (the router branch that made each prediction). */
export function byRegime(days: readonly ScoreDay[]): Record<'all' | 'normal' | 'earnings', Summary> {
  const acc = { all: empty(), normal: empty(), earnings: empty() };
  for (const d of days) {
    add(acc.all, d);
    if (d.regime === 'normal' || d.regime === 'earnings') add(acc[d.regime], d);
  }
  return { all: summary(acc.all), normal: summary(acc.normal), earnings: summary(acc.earnings) };
}
