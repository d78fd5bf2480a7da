// The shipped model: version, what chose it, and its validation metrics.
import type { Evaluation, ModelInfo, NetInfo, PointForecast } from '../model-info.js';
import { builder } from './builder.js';

const WindowRef = builder.objectRef<{ from: string; to: string }>('DateWindow').implement({
  description: 'Calendar dates, YYYY-MM-DD, inclusive.',
  fields: (t) => ({ from: t.exposeString('from'), to: t.exposeString('to') }),
});

const EvaluationRef = builder.objectRef<Evaluation>('Evaluation').implement({
  description: 'Walk-forward validation scores of a model (see `tickcast evaluate`).',
  fields: (t) => ({
    segment: t.exposeString('segment', { description: 'all, normal or earnings days.' }),
    horizon: t.exposeInt('horizon'),
    n: t.exposeInt('n', { description: 'Predictions scored.' }),
    mae: t.exposeFloat('mae'),
    maePersistence: t.exposeFloat('maePersistence', { description: 'MAE of tomorrow = today.' }),
    maeRatio: t.exposeFloat('maeRatio', { description: 'mae ÷ maePersistence; below 1 beats persistence.' }),
    hitRate: t.exposeFloat('hitRate', { description: 'Share of correct directions.' }),
    rankIc: t.exposeFloat('rankIc', { description: 'Rank correlation of predicted and realised returns.' }),
    rankIcT: t.exposeFloat('rankIcT', {
      nullable: true,
      description: 'rankIc ÷ its standard error over days; above 2, unlikely to be chance.',
    }),
    coverage80: t.exposeFloat('coverage80', { description: 'Share of closes inside the 80% interval.' }),
    pinball: t.exposeFloat('pinball', { description: 'Mean quantile loss.' }),
    bestBaseline: t.exposeString('bestBaseline', {
      nullable: true,
      description: 'The baseline with the lowest MAE on the same days: persistence, drift or constantDrift.',
    }),
    skillVsBest: t.exposeFloat('skillVsBest', {
      nullable: true,
      description: 'mae ÷ the best baseline’s MAE; below 1 beats every baseline. Null for artifacts trained before it.',
    }),
    maeConstantDrift: t.exposeFloat('maeConstantDrift', {
      nullable: true,
      description: 'MAE of constantDrift: the training window’s median return, the same for every symbol and day.',
    }),
    hitRateConstantDrift: t.exposeFloat('hitRateConstantDrift', { nullable: true }),
    hitRateAlwaysUp: t.exposeFloat('hitRateAlwaysUp', {
      nullable: true,
      description: 'Hit rate of always forecasting "up" on the same days.',
    }),
  }),
});

const NetRef = builder.objectRef<NetInfo>('TrainedNet').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    version: t.exposeString('version'),
    kind: t.exposeString('kind'),
    trainedAt: t.exposeString('trainedAt', { nullable: true }),
    trainingWindow: t.field({ type: WindowRef, nullable: true, resolve: (n) => n.trainingWindow }),
    validation: t.field({ type: [EvaluationRef], resolve: (n) => n.validation }),
  }),
});

const SelectionRef = builder
  .objectRef<{ model: string; maeRatio: number; skillVsBest: number | null }>('ModelSelection')
  .implement({
    fields: (t) => ({
      model: t.exposeString('model'),
      maeRatio: t.exposeFloat('maeRatio', { description: 'Validation MAE ÷ persistence’s, normal days.' }),
      skillVsBest: t.exposeFloat('skillVsBest', {
        nullable: true,
        description: 'Validation MAE ÷ the best baseline’s, normal days; null for a manifest written before it.',
      }),
    }),
  });

const PointForecastRef = builder.objectRef<PointForecast>('PointForecast').implement({
  description:
    'Which median ships at one horizon: the net’s, or a constant baseline’s where the net showed no MAE skill against the best baseline on validation normal days (the net still gives the interval’s width and the ranking).',
  fields: (t) => ({
    horizon: t.exposeInt('horizon'),
    point: t.exposeString('point', { description: 'net, constantDrift or persistence.' }),
    value: t.exposeFloat('value', {
      nullable: true,
      description:
        'The shipped constant h-day log return (constantDrift’s median, or 0); null when the net’s median ships.',
    }),
    skillVsBest: t.exposeFloat('skillVsBest', {
      nullable: true,
      description: 'The net’s validation MAE ÷ the best baseline’s; 1 or above: no skill, so a constant ships.',
    }),
    bestBaseline: t.exposeString('bestBaseline'),
    skillT: t.exposeFloat('skillT', {
      nullable: true,
      description:
        't of the daily MAE difference net − best baseline over every h-th validation day; the net’s median ships only at −2 or below, over 20 dates or more.',
    }),
    skillDates: t.exposeInt('skillDates', { description: 'The validation dates that t is over (every h-th day).' }),
    rankIc: t.exposeFloat('rankIc', { nullable: true, description: 'The net’s validation rank IC at this horizon.' }),
    rankIcT: t.exposeFloat('rankIcT', { nullable: true }),
  }),
});

const ServingRef = builder.objectRef<{ name: string; version: string }>('ServingModel').implement({
  fields: (t) => ({ name: t.exposeString('name'), version: t.exposeString('version') }),
});

const ModelRef = builder.objectRef<{ shipped: ModelInfo | null }>('Model').implement({
  description: 'The model behind the predictions.',
  fields: (t) => ({
    normal: t.field({
      type: ServingRef,
      description: 'What the pipeline runs on normal days.',
      resolve: async (_m, _a, { services }) => (await services.started()).serving.normal,
    }),
    earnings: t.field({
      type: ServingRef,
      description: 'What the pipeline runs around earnings.',
      resolve: async (_m, _a, { services }) => (await services.started()).serving.earnings,
    }),
    shipped: t.field({
      type: ShippedRef,
      nullable: true,
      description: 'models/artifacts/shipped.json and its metrics; null when nothing is shipped.',
      resolve: (m) => m.shipped,
    }),
  }),
});

const ShippedRef = builder.objectRef<ModelInfo>('ShippedModel').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    version: t.exposeString('version'),
    featureSpec: t.exposeString('featureSpec'),
    horizons: t.exposeIntList('horizons'),
    earningsIntervalScale: t.exposeFloat('earningsIntervalScale'),
    earningsMedianShrink: t.exposeFloat('earningsMedianShrink'),
    validationWindow: t.field({ type: WindowRef, nullable: true, resolve: (m) => m.validationWindow }),
    selection: t.field({
      type: [SelectionRef],
      description: 'Validation MAE ratio of each candidate: what chose this one.',
      resolve: (m) => m.selection,
    }),
    bestBaseline: t.exposeString('bestBaseline', {
      nullable: true,
      description: 'The baseline with the lowest validation MAE on normal days; null for a manifest written before it.',
    }),
    nets: t.field({ type: [NetRef], resolve: (m) => m.nets }),
    points: t.field({
      type: [PointForecastRef],
      description: 'Per horizon, which median ships and why; empty for a manifest written before it.',
      resolve: (m) => m.points,
    }),
  }),
});

builder.queryFields((t) => ({
  model: t.field({
    type: ModelRef,
    resolve: async (_root, _args, { services }) => ({ shipped: await services.modelInfo() }),
  }),
}));
