// Live skill: how the serving models have done on the predictions the pipeline has already seen
// realised (the `score` operator's join), the rolling figures against persistence and a constant
// drift, and the online interval calibration in force.

import type { Calibration } from '../../schemas/index.js';
import type { ScoreDay } from '../../storage/timeseries-store.js';
import type { LiveSkill } from '../live-skill.js';
import { builder } from './builder.js';
import { checkHorizon, checkRange } from './validate.js';

const ScoreDayRef = builder.objectRef<ScoreDay>('ScoreDay').implement({
  description: 'The forecasts of one model version, horizon and regime realised on one session.',
  fields: (t) => ({
    time: t.field({ type: 'DateTime', description: 'The target session.', resolve: (d) => d.ts }),
    horizon: t.exposeInt('horizon'),
    regime: t.exposeString('regime'),
    model: t.exposeString('model'),
    modelVersion: t.exposeString('modelVersion'),
    n: t.exposeInt('n', { description: 'Forecasts realised that session.' }),
    mae: t.exposeFloat('mae', { description: 'Mean |realised − predicted close|, % of the last close.' }),
    maePersistence: t.exposeFloat('maePersistence', { description: 'The same for persistence (the last close).' }),
    coverage: t.exposeFloat('coverage', { description: 'Share inside the 80% interval.' }),
  }),
});

const LiveSkillRef = builder.objectRef<LiveSkill>('LiveSkill').implement({
  description:
    'Rolling skill over the last scored forecasts of one model version, horizon and regime (the tickcast_score_* series of /metrics).',
  fields: (t) => ({
    model: t.exposeString('model'),
    modelVersion: t.exposeString('modelVersion'),
    horizon: t.exposeInt('horizon'),
    regime: t.exposeString('regime'),
    window: t.exposeInt('window', { description: 'Scored forecasts the figures cover.' }),
    mae: t.exposeFloat('mae', { description: 'MAE, % of the last close.' }),
    maeRatioPersistence: t.exposeFloat('maeRatioPersistence', { description: 'MAE ÷ persistence’s MAE.' }),
    maeRatioConstantDrift: t.exposeFloat('maeRatioConstantDrift', {
      description: 'MAE ÷ the MAE of a constant drift (the median realised return of the scores before).',
    }),
    coverage: t.exposeFloat('coverage', { description: 'Share inside the 80% interval (nominal 0.8).' }),
  }),
});

const CalibrationRef = builder.objectRef<Calibration>('IntervalCalibration').implement({
  description:
    'Online (adaptive conformal) calibration of the 80% interval for one horizon and regime: the scale the models’ intervals are issued with.',
  fields: (t) => ({
    group: t.exposeString('group'),
    horizon: t.exposeInt('horizon'),
    regime: t.exposeString('regime'),
    ownScale: t.float({
      description: 'The group’s own factor (the issued scale is this times the 1:normal group’s).',
      resolve: (c) => Math.exp(c.logScale),
    }),
    updatedFor: t.field({ type: 'DateTime', description: 'The session of the last step.', resolve: (c) => c.ts }),
    steps: t.int({ description: 'Sessions stepped so far.', resolve: (c) => Number(c.steps) }),
    lastCoverage: t.exposeFloat('coverage', { description: 'Coverage of the last session’s realisations.' }),
    recentCoverage: t.exposeFloat('recentCoverage', { description: 'Mean coverage of about the last 20 sessions.' }),
  }),
});

builder.queryFields((t) => ({
  liveScores: t.field({
    type: [ScoreDayRef],
    description: 'Live skill per target session at one horizon, from the stored scores, oldest first.',
    args: {
      horizon: t.arg.int({ required: true }),
      from: t.arg({ type: 'DateTime', required: false }),
      to: t.arg({ type: 'DateTime', required: false }),
    },
    resolve: (_root, args, { services }) => {
      const horizon = checkHorizon(services, args.horizon);
      checkRange(args.from, args.to);
      return services.store.scoreDays({ horizon, from: args.from ?? undefined, to: args.to ?? undefined });
    },
  }),
  liveSkill: t.field({
    type: [LiveSkillRef],
    description: 'Rolling skill of each serving model version, horizon and regime on its realised forecasts.',
    resolve: (_root, _args, { services }) => services.liveSkill(),
  }),
  calibration: t.field({
    type: [CalibrationRef],
    description: 'The interval calibration in force per horizon and regime (empty before the first step, or when off).',
    resolve: (_root, _args, { services }) =>
      [...services.calibration()].sort((a, b) => a.horizon - b.horizon || a.regime.localeCompare(b.regime)),
  }),
}));
