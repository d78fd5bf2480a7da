// The feature values behind a prediction. They are not stored: they are recomputed from the
// stored bars of the symbol with the same definitions the stream uses (models/features.ts, one
// fold for both; a test there proves stream and offline agree), so the API reads the store only.
import { computeFeatureSeries, FEATURE_SPEC } from '../../models/features.js';
import { builder } from './builder.js';
import { knownSymbol } from './validate.js';

interface FeatureVector {
  symbol: string;
  ts: number;
  values: readonly number[];
}

const FeatureValueRef = builder.objectRef<{ name: string; value: number }>('FeatureValue').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    value: t.float({
      nullable: true,
      description: 'Null while the feature is still warming up.',
      resolve: (f) => (Number.isFinite(f.value) ? f.value : null),
    }),
  }),
});

const FeatureVectorRef = builder.objectRef<FeatureVector>('FeatureVector').implement({
  description: 'Feature values of a symbol at the close of one bar, in spec order.',
  fields: (t) => ({
    symbol: t.exposeString('symbol'),
    time: t.field({ type: 'DateTime', description: 'Event time of the bar.', resolve: (v) => v.ts }),
    spec: t.string({ description: 'Feature spec id (name@hash).', resolve: () => FEATURE_SPEC.id }),
    values: t.field({
      type: [FeatureValueRef],
      resolve: (v) => FEATURE_SPEC.names.map((name, i) => ({ name, value: v.values[i] ?? Number.NaN })),
    }),
  }),
});

builder.queryFields((t) => ({
  features: t.field({
    type: FeatureVectorRef,
    nullable: true,
    description:
      'Feature values of a symbol at its bar at `time` (default: the input bar of its latest 1-day prediction), recomputed from the stored bars; null when there is no such bar.',
    args: {
      symbol: t.arg.string({ required: true }),
      time: t.arg({ type: 'DateTime', required: false }),
    },
    resolve: async (_root, args, { services }) => {
      const symbol = await knownSymbol(services, args.symbol);
      const at = args.time ?? (await services.latest.prediction(symbol, 1))?.ts ?? null;
      if (at == null) return null;
      // Some features fold over every bar since the first, so the whole history up to `at`.
      const bars = await services.store.bars(symbol, { to: at + 1 });
      if (bars.length === 0 || bars[bars.length - 1]!.ts !== at) return null;
      const rows = computeFeatureSeries(bars, services.calendar);
      const values = rows[rows.length - 1];
      return values ? { symbol, ts: at, values } : null;
    },
  }),
}));
