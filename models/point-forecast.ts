// The shipped point forecast per horizon. Where the chosen net showed no MAE skill against the best
// baseline on validation, a constant (the better of constantDrift's median and persistence's 0)
// is the better median, so that constant ships as the median while the net still gives the
// interval's width and, through its own evaluation, the ranking.

import type { Features } from '../schemas/index.js';
import type { Evaluation } from './evaluate.js';
import { type IcStats, icStats, type Scored } from './metrics.js';
import { type Attribution, type Model, type ModelOutput, outputsFromQuantiles, QUANTILE_STRIDE } from './model.js';

/**
 * How far below 0 the t of the daily MAE difference (net − best baseline) must be for the net's
 * median to ship, over at least SKILL_DATES independent dates. A lower MAE alone is not enough: on
 * the 126 validation days of 2016 the mlp's MAE was 0.5% below constantDrift's at h5 (t −0.3 over
 * 26 dates) and 2.0% below at h21 (t −4.4, but over 6 dates of one rally); on 2017's test days it
 * was 1.3% and 1.8% above.
 */
export const SKILL_T = 2;
export const SKILL_DATES = 20;

/** What the shipped median is at one horizon, and the validation figures that decided it. */
export interface PointChoice {
  horizon: number;
  /** `net`: the net's median; otherwise that constant baseline's (`value`). */
  point: 'net' | 'constantDrift' | 'persistence';
  /** The shipped constant log return (constantDrift's median, or 0); null when the net's median ships. */
  value: number | null;
  /** Validation normal days: the net's MAE ÷ the best baseline's (≥ 1: no skill) and which baseline. */
  skillVsBest: number;
  bestBaseline: string;
  /** t of the daily MAE difference net − best baseline over every h-th day (`maeDifference`), and those days. */
  skillT: number;
  skillDates: number;
  /** The net's rank IC and t on validation normal days: the ranking it is kept for. */
  rankIc: number;
  rankIcT: number;
}

/** The constant baselines a point can fall back to. */
type ConstantBaseline = 'constantDrift' | 'persistence';

/**
 * Per horizon: the net's median where it beat the best baseline on validation normal days, by a
 * t of at most −SKILL_T over at least SKILL_DATES dates (`skill`, from `maeDifference`), else the constant baseline with the
 * lower validation MAE there. `net` is the net's evaluation per horizon with `versus` set
 * (`versusBaselines`); `medians` are the constantDrift medians that would ship.
 */
export function choosePoints(
  net: ReadonlyArray<{ evaluation: Evaluation; skill: Pick<IcStats, 't' | 'dates'> }>,
  medians: ReadonlyMap<number, number>,
): PointChoice[] {
  return net.map(({ evaluation: e, skill }) => {
    const v = e.versus?.normal;
    if (!v) throw new Error(`choosePoints: the ${e.horizon}-day evaluation of ${e.model} has no baselines`);
    const figures = {
      horizon: e.horizon,
      skillVsBest: round(v.skillVsBest),
      bestBaseline: v.best,
      skillT: round(skill.t, 2),
      skillDates: skill.dates,
      rankIc: round(e.normal.rankIc),
      rankIcT: round(e.normal.rankIcT),
    };
    if (v.skillVsBest < 1 && skill.t <= -SKILL_T && skill.dates >= SKILL_DATES)
      return { ...figures, point: 'net', value: null };
    const constant: ConstantBaseline =
      (v.baselines.constantDrift?.mae ?? Number.POSITIVE_INFINITY) <=
      (v.baselines.persistence?.mae ?? Number.POSITIVE_INFINITY)
        ? 'constantDrift'
        : 'persistence';
    const value = constant === 'persistence' ? 0 : medians.get(e.horizon);
    if (value === undefined || !Number.isFinite(value)) {
      throw new Error(`choosePoints: no constantDrift median for horizon ${e.horizon}`);
    }
    return { ...figures, point: constant, value: round(value, 8) };
  });
}

/**
 * The daily difference of mean absolute errors (in % of price, as `score` measures them), `net`
 * minus `baseline`, scored on the same rows, with its mean and t over every `every`-th day:
 * h-day errors of consecutive days overlap, as rank ICs do (`icStats`).
 */
export function maeDifference(net: readonly Scored[], baseline: readonly Scored[], every: number): IcStats {
  const byDay = new Map<number, { sum: number; n: number }>();
  const add = (rows: readonly Scored[], sign: 1 | -1) => {
    for (const r of rows) {
      const d = byDay.get(r.ts) ?? { sum: 0, n: 0 };
      d.sum += sign * Math.abs(Math.expm1(r.predicted) - Math.expm1(r.actual)) * 100;
      if (sign === 1) d.n++;
      byDay.set(r.ts, d);
    }
  };
  add(net, 1);
  add(baseline, -1);
  const daily = [...byDay]
    .sort((a, b) => a[0] - b[0])
    .map(([ts, d]) => ({ ts, ic: d.n > 0 ? d.sum / d.n : Number.NaN }));
  return icStats(daily, every);
}

/**
 * `model` with its median replaced by a constant at the horizons of `points` that name one. The
 * interval keeps the model's width on each side and is recentred on the constant, so it still
 * holds the median; the other horizons pass through unchanged. Attributions at a replaced horizon
 * are all 0 (no input moves a constant, method `constant`, `point` names it) and carry, when the model can
 * say, what moved the interval's width instead (`width`).
 */
export function withConstantPoints(model: Model, points: readonly PointChoice[]): Model {
  const constants = new Map<number, number>();
  const kinds = new Map<number, ConstantBaseline>();
  for (const p of points) {
    if (p.point !== 'net' && p.value !== null) {
      constants.set(p.horizon, p.value);
      kinds.set(p.horizon, p.point);
    }
  }
  if (constants.size === 0) return model;
  // Rewritten in place: predictBatch hands back fresh outputs, and a second set of objects would
  // cost the batch path about as much as the matmul (issue 13 §6). The net's own median stays as its rankReturn.
  const replace = (o: ModelOutput): ModelOutput => {
    const c = constants.get(o.horizon);
    if (c === undefined) return o;
    o.lowerReturn = c - (o.predictedReturn - o.lowerReturn);
    o.upperReturn = c + (o.upperReturn - o.predictedReturn);
    o.predictedReturn = c;
    return o;
  };
  // From the model's typed quantiles when it has them (inputs × horizons × (lower, median, upper, rank)):
  // outputs are then built once, here or by a wrapper such as withIntervalScale. The rank, the net's own
  // median, is left as it is: it still ranks where the point is a constant.
  // NaN: the net's median stays (a typed array: its constants read as doubles, not boxed numbers).
  const perHorizon = Float64Array.from(model.horizons, (h) => constants.get(h) ?? Number.NaN);
  const predictQuantiles =
    model.predictQuantiles &&
    ((inputs: readonly Features[]): Float64Array => {
      // In place when the model hands back a fresh Float64Array (the nets do): no copy of the batch.
      const given = model.predictQuantiles!(inputs);
      const q = given instanceof Float64Array ? given : Float64Array.from(given);
      for (let o = 0, h = 0; o < q.length; o += QUANTILE_STRIDE, h = h + 1 === perHorizon.length ? 0 : h + 1) {
        const c = perHorizon[h]!;
        if (Number.isNaN(c)) continue;
        q[o] = c - (q[o + 1]! - q[o]!);
        q[o + 2] = c + (q[o + 2]! - q[o + 1]!);
        q[o + 1] = c;
      }
      return q;
    });
  const tag = [...constants.keys()].sort((a, b) => a - b).join('.');
  return {
    name: `${model.name}+constantPoint`,
    version: `${model.version}-c${tag}`,
    spec: model.spec,
    horizons: model.horizons,
    async predictBatch(inputs) {
      if (predictQuantiles) return outputsFromQuantiles(inputs, model.horizons, predictQuantiles(inputs));
      return (await model.predictBatch(inputs)).map(replace);
    },
    ...(predictQuantiles && { predictQuantiles }),
    ...(model.attribute && {
      async attribute(inputs): Promise<Attribution[]> {
        // What the model still moves at a constant point: its interval's width (kept around the constant). When
        // every point is constant, the median's attributions would all be replaced: only the widths are computed.
        const widths = model.attributeWidth ? await model.attributeWidth(inputs) : [];
        const attributions: readonly Attribution[] =
          constants.size === model.horizons.length && widths.length > 0
            ? widths.map((w) => ({
                symbol: w.symbol,
                ts: w.ts,
                horizon: w.horizon,
                predictedReturn: 0,
                baselineReturn: 0,
                contributions: w.contributions,
                method: 'constant',
              }))
            : await model.attribute!(inputs);
        return attributions.map((a, i) => {
          const c = constants.get(a.horizon);
          if (c === undefined) return a;
          const w = widths[i];
          return {
            ...a,
            predictedReturn: c,
            baselineReturn: c,
            contributions: new Float32Array(a.contributions.length),
            method: 'constant',
            point: kinds.get(a.horizon)!,
            ...(w && w.symbol === a.symbol && w.ts === a.ts && w.horizon === a.horizon && { width: w }),
          };
        });
      },
    }),
    ...(model.attributeWidth && { attributeWidth: (inputs) => model.attributeWidth!(inputs) }),
  };
}

const round = (x: number, digits = 5) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : Number.NaN);
