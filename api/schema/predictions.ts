// Latest predictions (cache first, store as fallback) and prediction history against what happened.
import type { Prediction, Score } from '../../schemas/index.js';
import { builder } from './builder.js';
import { paginate } from './connection.js';
import { checkHorizon, checkRange, knownSymbol, knownSymbols } from './validate.js';

const IntervalRef = builder.objectRef<{ lower: number; upper: number }>('PredictionInterval').implement({
  description: 'The 0.1 and 0.9 quantiles of the forecast close: an 80% interval.',
  fields: (t) => ({
    lower: t.exposeFloat('lower'),
    upper: t.exposeFloat('upper'),
    level: t.float({ description: 'Nominal coverage, 0.8.', resolve: () => 0.8 }),
  }),
});

export const PredictionRef = builder.objectRef<Prediction>('Prediction').implement({
  description: 'A forecast of the close `horizon` trading days after its input bar.',
  fields: (t) => ({
    id: t.exposeString('id', { description: 'symbol:inputTs:horizon; stable across replays.' }),
    symbol: t.exposeString('symbol'),
    horizon: t.exposeInt('horizon', { description: 'Trading days ahead.' }),
    inputTime: t.field({
      type: 'DateTime',
      description: 'Event time of the inputs (the bar the features came from).',
      resolve: (p) => p.ts,
    }),
    targetTime: t.field({ type: 'DateTime', description: 'Event time forecast.', resolve: (p) => p.targetTs }),
    lastClose: t.exposeFloat('lastClose', { description: 'Close of the input bar.' }),
    predictedClose: t.exposeFloat('predictedClose', { description: 'Point forecast (median).' }),
    predictedReturn: t.exposeFloat('predictedReturn', { description: 'Log return from lastClose.' }),
    interval: t.field({ type: IntervalRef, resolve: (p) => p }),
    model: t.exposeString('model'),
    modelVersion: t.exposeString('modelVersion'),
    regime: t.exposeString('regime', { description: 'normal or earnings: which branch produced it.' }),
    createdAt: t.field({ type: 'DateTime', description: 'Wall-clock time it was made.', resolve: (p) => p.createdAt }),
    rankScore: t.exposeFloat('rankScore', {
      nullable: true,
      description:
        "A ranking signal, not a forecast: the shipped net's own median log return for this horizon. Compare it across symbols at the same input time and horizon (higher ranks first); it is there also where predictedClose is a constant baseline's (where the net has no point skill but still ranks). Null when a baseline ships.",
    }),
  }),
});

interface Outcome {
  prediction: Prediction;
  realisedClose: number | null;
  status: 'scored' | 'missing' | 'pending';
}

const OutcomeRef = builder.objectRef<Outcome>('PredictionOutcome').implement({
  description: 'A past prediction beside what happened: the close of the bar at its target time.',
  fields: (t) => ({
    prediction: t.field({ type: PredictionRef, resolve: (o) => o.prediction }),
    status: t.string({
      description:
        'scored (the target session closed), missing (it passed without a bar for the symbol) or pending (not yet).',
      resolve: (o) => o.status,
    }),
    realisedClose: t.float({
      nullable: true,
      description: 'Close of the bar starting at targetTime; null while pending, or when that session had no bar.',
      resolve: (o) => o.realisedClose,
    }),
    error: t.float({
      nullable: true,
      description: 'realisedClose − predictedClose.',
      resolve: (o) => (o.realisedClose === null ? null : o.realisedClose - o.prediction.predictedClose),
    }),
    absPercentError: t.float({
      nullable: true,
      description: '|error| ÷ realisedClose × 100.',
      resolve: (o) =>
        o.realisedClose === null
          ? null
          : (Math.abs(o.realisedClose - o.prediction.predictedClose) / o.realisedClose) * 100,
    }),
    withinInterval: t.boolean({
      nullable: true,
      description: 'Whether realisedClose fell inside the 80% interval.',
      resolve: (o) =>
        o.realisedClose === null
          ? null
          : o.realisedClose >= o.prediction.lower && o.realisedClose <= o.prediction.upper,
    }),
  }),
});

builder.queryFields((t) => ({
  prediction: t.field({
    type: PredictionRef,
    nullable: true,
    description: 'Latest prediction of a symbol at a horizon (default 1 trading day); null before the first.',
    args: {
      symbol: t.arg.string({ required: true }),
      horizon: t.arg.int({ required: false, defaultValue: 1 }),
    },
    resolve: async (_root, args, { services }) => {
      const horizon = checkHorizon(services, args.horizon ?? 1);
      return services.latest.prediction(await knownSymbol(services, args.symbol), horizon);
    },
  }),
  predictions: t.field({
    type: [PredictionRef],
    description:
      'Latest prediction of each symbol at a horizon, in the order asked (symbols without one are left out).',
    args: {
      symbols: t.arg.stringList({ required: true }),
      horizon: t.arg.int({ required: false, defaultValue: 1 }),
    },
    resolve: async (_root, args, { services }) => {
      const horizon = checkHorizon(services, args.horizon ?? 1);
      const symbols = await knownSymbols(services, args.symbols, services.limits.maxSymbolsPerQuery);
      return services.latest.predictionsOf(symbols, horizon);
    },
  }),
  predictionHistory: t.connection(
    {
      type: OutcomeRef,
      description: 'Predictions of a symbol with input time in [from, to), oldest first, each with its outcome.',
      args: {
        symbol: t.arg.string({ required: true }),
        from: t.arg({ type: 'DateTime', required: false }),
        to: t.arg({ type: 'DateTime', required: false }),
        horizon: t.arg.int({ required: false, description: 'One horizon; all when omitted.' }),
      },
      resolve: async (_root, args, { services }) => {
        const symbol = await knownSymbol(services, args.symbol);
        checkRange(args.from, args.to);
        const horizon = args.horizon == null ? undefined : checkHorizon(services, args.horizon);
        const predictions = await services.store.predictions(symbol, {
          from: args.from ?? undefined,
          to: args.to ?? undefined,
          horizon,
        });
        const page = paginate(
          'predictionHistory',
          predictions,
          (p) => [p.ts, p.horizon],
          args,
          services.limits.maxPageSize,
        );
        // Outcomes for this page only: its predictions' scores (the score operator's join), and for
        // predictions without one (stored before scoring ran) the bars at their targets.
        const nodes = page.edges.map((e) => e.node);
        const scored = new Map<string, Score>();
        const closes = new Map<number, number>();
        if (nodes.length > 0) {
          const inputs = nodes.map((p) => p.ts);
          const range = { from: Math.min(...inputs), to: Math.max(...inputs) + 1, horizon };
          for (const x of await services.store.scores(symbol, range)) scored.set(x.id, x);
          const unscored = nodes.filter((p) => !scored.has(p.id)).map((p) => p.targetTs);
          if (unscored.length > 0) {
            const bars = await services.store.bars(symbol, {
              from: Math.min(...unscored),
              to: Math.max(...unscored) + 1,
            });
            for (const b of bars) closes.set(b.ts, b.close);
          }
        }
        const outcome = (p: Prediction): Outcome => {
          const x = scored.get(p.id);
          if (x)
            return {
              prediction: p,
              realisedClose: x.realisedClose,
              status: x.status === 'missing' ? 'missing' : 'scored',
            };
          const close = closes.get(p.targetTs);
          return { prediction: p, realisedClose: close ?? null, status: close === undefined ? 'pending' : 'scored' };
        };
        return {
          pageInfo: page.pageInfo,
          edges: page.edges.map((e) => ({ cursor: e.cursor, node: outcome(e.node) })),
        };
      },
    },
    { name: 'PredictionOutcomeConnection' },
    { name: 'PredictionOutcomeEdge' },
  ),
}));
