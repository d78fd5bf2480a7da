// calibrate: scores → calibration. Adaptive conformal calibration of the 80% interval, one state
// per group (horizon:regime, the scores' key), stepped once per target session on the share of
// that session's forecasts that missed (models/conformal.ts). Each step is published on the
// `calibration` topic (compacted: the newest per group), which the calibration-table sink applies
// to the table every predict node reads. Missing scores (no bar) carry no outcome and are skipped.
import { defineOperator } from '../../engine/index.js';
import {
  type ConformalState,
  closeDay,
  createConformalState,
  etaFor,
  groupKey,
  observe,
} from '../../models/conformal.js';
import { type Calibration, type Score, schemas } from '../../schemas/index.js';

/** Weight of the newest session in `recentCoverage`: about the last 20 sessions. */
const RECENT_WEIGHT = 0.05;

export interface CalibrateState {
  conformal: ConformalState;
  recentCoverage: number | null;
}

export interface CalibrateOptions {
  /** Step size at horizon 1 (models/conformal.ts DEFAULT_ETA). */
  eta?: number;
}

export function calibrate(opts: CalibrateOptions = {}) {
  return defineOperator<Score, { calibration: typeof schemas.Calibration }, CalibrateState>({
    kind: 'transform',
    name: 'calibrate',
    input: schemas.Score,
    outputs: { calibration: schemas.Calibration },
    state: { description: 'per calibration group: its log-scale and the session being counted' },
    process({ value: s }, ctx) {
      if (s.status !== 'scored' || s.inside === null) return;
      const state = ctx.state.get() ?? { conformal: createConformalState(), recentCoverage: null };
      const c = state.conformal;
      const eta = etaFor(s.horizon, opts.eta);
      // The session being counted closes when a later one arrives: publish that step.
      if (s.targetTs > c.day && c.n > 0) {
        const day = c.day;
        const n = c.n;
        const coverage = 1 - c.misses / n;
        closeDay(c, eta);
        state.recentCoverage =
          state.recentCoverage === null
            ? coverage
            : state.recentCoverage + RECENT_WEIGHT * (coverage - state.recentCoverage);
        const record: Calibration = {
          group: groupKey(s.horizon, s.regime),
          horizon: s.horizon,
          regime: s.regime,
          ts: day,
          logScale: c.logScale,
          steps: c.steps,
          n,
          coverage,
          recentCoverage: state.recentCoverage,
        };
        ctx.emit('calibration', record, { key: record.group, timestamp: day });
      }
      observe(c, s.targetTs, s.inside, eta);
      ctx.state.set(state);
    },
  });
}
