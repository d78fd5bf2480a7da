// Online calibration of the 80% interval: adaptive conformal inference (Gibbs & Candès, "Adaptive
// Conformal Inference Under Distribution Shift", 2021) in the quantile-tracking form of conformal
// PID control (Angelopoulos, Candès & Tibshirani, 2023), on a multiplicative scale.
//
// Each group (horizon × normal/earnings, shared across symbols: `groupKey`) holds a log-scale; the
// interval issued for a group is the model's, widened (> 1) or narrowed around its median by
//
//     scale = exp(own + lead)      lead: the log-scale of group 1:normal (0 for that group itself)
//
// When the realisations of one target day have arrived, the group takes one step on its own misses:
//
//     own ← own + η_h · (missRate − 0.2)        η_h = η / √h
//
// The lead term: group 1:normal hears about a change of regime the next session, thousands of
// forecasts a day; the others hear h sessions late (h5, h21) or from a few forecasts a day
// (earnings). They follow 1:normal's moves at once and learn only their own ratio to it, slowly.
//
// Why this form: summing the steps over D days gives  mean missRate − 0.2 = Δlog s / (η_h·D), so as
// long as s stays bounded (it is clamped to [1/8, 8]) the long-run miss rate is 20% in ANY regime:
// the ACI guarantee, with no assumption on how the data shift. One step per target day (not per
// symbol) because a day's misses across symbols are strongly correlated (one market move); η_h
// shrinks with the horizon because feedback arrives h sessions late, and a large step on late
// feedback oscillates.
import { addTradingDays } from './trading-calendar.js';

/** The group every other group's scale follows (see above). */
export const LEAD_GROUP = '1:normal';

/** A calibration group: horizon and regime (normal or earnings). */
export function groupKey(horizon: number, regime: string): string {
  return `${horizon}:${regime}`;
}

/** The scale issued for a group, from its own state and the lead group's (either may be missing: 0). */
export function issuedScale(key: string, own: ConformalState | undefined, lead: ConformalState | undefined): number {
  return Math.exp((own?.logScale ?? 0) + (key === LEAD_GROUP ? 0 : (lead?.logScale ?? 0)));
}

/** The interval's nominal coverage: the 0.1 and 0.9 quantiles. */
export const COVERAGE_TARGET = 0.8;
/** Step size at horizon 1 (chosen on the bundled and shared data: docs in models/README.md). */
export const DEFAULT_ETA = 0.5;
const MAX_LOG_SCALE = Math.log(8);
/** Sessions the mean forecasts per session averages over. */
const MEAN_N_SESSIONS = 250;

/** A group's calibration state: plain data (it lives in operator state and a changelog). */
export interface ConformalState {
  /** log of the scale applied to the model's interval. */
  logScale: number;
  /** Target day (epoch ms) whose realisations are being counted; the step comes when a later day arrives. */
  day: number;
  n: number;
  misses: number;
  /** Days stepped so far. */
  steps: number;
  /** Mean forecasts per stepped session (over about the last MEAN_N_SESSIONS). */
  meanN: number;
}

export function createConformalState(): ConformalState {
  return { logScale: 0, day: Number.NEGATIVE_INFINITY, n: 0, misses: 0, steps: 0, meanN: 0 };
}

/** The step size at horizon h. */
export function etaFor(horizon: number, eta = DEFAULT_ETA): number {
  return eta / Math.sqrt(horizon);
}

/**
 * Counts one realised forecast: was the realised value inside the interval that was issued? A
 * forecast of a later target day first closes the day being counted (one step). Returns whether a
 * step was taken. A forecast of an earlier day than the one counted (late) counts in the current day.
 */
export function observe(state: ConformalState, targetDay: number, inside: boolean, eta: number): boolean {
  let stepped = false;
  if (targetDay > state.day) {
    stepped = closeDay(state, eta);
    state.day = targetDay;
  }
  state.n++;
  if (!inside) state.misses++;
  return stepped;
}

/** Applies the step for the day being counted (if it has any forecasts). */
export function closeDay(state: ConformalState, eta: number): boolean {
  if (state.n === 0) return false;
  step(state, state.n, state.misses, eta);
  state.n = 0;
  state.misses = 0;
  return true;
}

/**
 * One step on a session's `n` realised forecasts of which `misses` fell outside their interval:
 * η·(misses − 0.2n)/n̄, n̄ the group's mean forecasts per session. Weighting by n (not the session's
 * miss rate alone) makes the guarantee hold per forecast, not per session: a group with few
 * forecasts on most days and many on some (earnings) would otherwise cover its busy days worse.
 */
export function step(
  state: Pick<ConformalState, 'logScale' | 'steps' | 'meanN'>,
  n: number,
  misses: number,
  eta: number,
): void {
  state.meanN = state.steps === 0 ? n : state.meanN + (n - state.meanN) / Math.min(state.steps + 1, MEAN_N_SESSIONS);
  const delta = (eta * (misses - (1 - COVERAGE_TARGET) * n)) / state.meanN;
  state.logScale = Math.max(-MAX_LOG_SCALE, Math.min(MAX_LOG_SCALE, state.logScale + delta));
  state.steps++;
}

/** The interval [lower, upper] around `median` scaled by `scale` (log-return space). */
export function widen(lower: number, median: number, upper: number, scale: number): [number, number] {
  return [median - scale * (median - lower), median + scale * (upper - median)];
}

export interface CalibrationRow {
  /** Input day and the forecast's horizon. */
  ts: number;
  horizon: number;
  /** normal or earnings. */
  regime: string;
  actual: number;
  predicted: number;
  lower: number;
  upper: number;
}

/**
 * What the online calibration would have issued over a replay of `rows` (any order): day by day,
 * the realisations of the day are counted first (the day's bar realises them), then the day's
 * forecasts are issued with each group's scale. Returns each row's issued interval and whether it
 * held the realised value, in input order. The same steps as the `calibrate` operator.
 */
export function replayCalibration(
  rows: readonly CalibrationRow[],
  opts: { eta?: number } = {},
): Array<{ lower: number; upper: number; inside: boolean }> {
  const order = rows.map((_, i) => i).sort((a, b) => rows[a]!.ts - rows[b]!.ts);
  const due = new Map<number, number[]>(); // target day → rows issued for it
  const states = new Map<string, ConformalState>();
  const out: Array<{ lower: number; upper: number; inside: boolean }> = new Array(rows.length);
  const stateOf = (key: string) => {
    const s = states.get(key) ?? createConformalState();
    states.set(key, s);
    return s;
  };
  const realise = (day: number) => {
    for (const i of due.get(day) ?? []) {
      const r = rows[i]!;
      observe(stateOf(groupKey(r.horizon, r.regime)), day, out[i]!.inside, etaFor(r.horizon, opts.eta));
    }
    due.delete(day);
  };
  let k = 0;
  while (k < order.length) {
    const day = rows[order[k]!]!.ts;
    for (const d of [...due.keys()].filter((d) => d <= day).sort((a, b) => a - b)) realise(d);
    for (; k < order.length && rows[order[k]!]!.ts === day; k++) {
      const i = order[k]!;
      const r = rows[i]!;
      const key = groupKey(r.horizon, r.regime);
      const scale = issuedScale(key, states.get(key), states.get(LEAD_GROUP));
      const [lower, upper] = widen(r.lower, r.predicted, r.upper, scale);
      out[i] = { lower, upper, inside: r.actual >= lower && r.actual <= upper };
      const target = addTradingDays(r.ts, r.horizon);
      const list = due.get(target) ?? [];
      list.push(i);
      due.set(target, list);
    }
  }
  return out;
}
