// Scores of past predictions against what happened, computed in the browser from
// predictionHistory: the model's error beside persistence (tomorrow = today), interval coverage,
// by month and by regime (normal vs earnings days).
import type { Outcome } from './types';

export interface Score {
  n: number;
  /** Mean |realised − predicted| ÷ realised, percent. */
  mape: number;
  /** The same for persistence (predicted = last close). */
  persistenceMape: number;
  /** Share of realised closes inside the 80% interval, percent. */
  coverage: number;
}

interface Acc {
  n: number;
  err: number;
  pers: number;
  inside: number;
}

const empty = (): Acc => ({ n: 0, err: 0, pers: 0, inside: 0 });

function add(a: Acc, o: Outcome): void {
  if (o.realisedClose === null || o.absPercentError === null) return;
  a.n++;
  a.err += o.absPercentError;
  a.pers += (Math.abs(o.realisedClose - o.prediction.lastClose) / o.realisedClose) * 100;
  if (o.withinInterval) a.inside++;
}

const score = (a: Acc): Score => ({
  n: a.n,
  mape: a.n ? a.err / a.n : Number.NaN,
  persistenceMape: a.n ? a.pers / a.n : Number.NaN,
  coverage: a.n ? (a.inside / a.n) * 100 : Number.NaN,
});

/** By calendar month of the target time, oldest first. */
export function byMonth(outcomes: readonly Outcome[]): Array<{ month: string } & Score> {
  const months = new Map<string, Acc>();
  for (const o of outcomes) {
    const m = o.prediction.targetTime.slice(0, 7);
    const a = months.get(m) ?? empty();
    months.set(m, a);
    add(a, o);
  }
  return [...months.entries()]
    .sort((x, y) => (x[0] < y[0] ? -1 : 1))
    .map(([month, a]) => ({ month, ...score(a) }))
    .filter((s) => s.n > 0);
}

/** All, normal and earnings days (the regime that produced each prediction). */
export function byRegime(outcomes: readonly Outcome[]): Record<'all' | 'normal' | 'earnings', Score> {
  const all = empty();
  const normal = empty();
  const earnings = empty();
  for (const o of outcomes) {
    add(all, o);
    add(o.prediction.regime === 'earnings' ? earnings : normal, o);
  }
  return { all: score(all), normal: score(normal), earnings: score(earnings) };
}
