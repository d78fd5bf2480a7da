// Live updates over graphql-ws: fan-out from the live feed's per-symbol channels.
import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';
import type { Bar, Prediction } from '../../schemas/index.js';
import type { MetricsSample } from '../pipeline-view.js';
import { watchSymbols } from '../pubsub.js';
import { builder } from './builder.js';
import { BarRef } from './market.js';
import { MetricsSampleRef } from './pipeline.js';
import { PredictionRef } from './predictions.js';
import { checkHorizon, knownSymbols } from './validate.js';

builder.subscriptionFields((t) => {
  // `bars`, and `quotes` (its old name, kept for clients that use it).
  const barsField = (doc: { description: string } | { deprecationReason: string }) =>
    t.field({
      ...doc,
      type: [BarRef],
      args: { symbols: t.arg.stringList({ required: true }) },
      subscribe: async (_root, args, { services }) => {
        const symbols = await knownSymbols(services, args.symbols, services.limits.maxSymbolsPerSubscription);
        return watchSymbols(services.feed, 'bars', symbols);
      },
      resolve: (batch: Bar[]) => batch,
      extensions: { sharedItems: true },
    });
  return {
    predictions: t.field({
      type: [PredictionRef],
      description:
        'New predictions for these symbols as they are made; predictions made together arrive as one list. ' +
        'All horizons unless `horizon` is given.',
      args: {
        symbols: t.arg.stringList({ required: true }),
        horizon: t.arg.int({ required: false }),
      },
      subscribe: async (_root, args, { services }) => {
        const symbols = await knownSymbols(services, args.symbols, services.limits.maxSymbolsPerSubscription);
        const horizon = args.horizon == null ? null : checkHorizon(services, args.horizon);
        return watchSymbols(services.feed, 'predictions', symbols, (p) => horizon === null || p.horizon === horizon);
      },
      resolve: (batch: Prediction[]) => batch,
      // The event is the list itself and a Prediction's fields read only the record: see shared-items.ts.
      extensions: { sharedItems: true },
    }),
    bars: barsField({
      description: 'New bars for these symbols as they close; bars closed together arrive as one list.',
    }),
    quotes: barsField({ deprecationReason: 'Use bars (the same events).' }),
    pipelineMetrics: t.field({
      type: MetricsSampleRef,
      description: 'Per-node metrics, once a second (the current sample first).',
      subscribe: (_root, _args, { services }) =>
        new Repeater<MetricsSample>(async (push, stop) => {
          const { pipeline } = await services.started();
          await push(pipeline.current());
          const off = pipeline.onSample((s) => void push(s));
          await stop;
          off();
        }, new SlidingBuffer(4)),
      resolve: (sample: MetricsSample) => sample,
    }),
  };
});
