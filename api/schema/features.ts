// The feature values behind a prediction. They are not stored: they are recomputed from the
// stored bars of the symbol with the same definitions the stream uses (models/features.ts, one
// fold for both; a test there proves stream and offline agree), so the API reads the store only.
import { computeFeatureSeries, FEATURE_SPEC } from '../../models/features.js';
import { builder } from './builder.js';
import { knownSymbol } from './validate.js';

interface FeatureVector {
  symbol: string;
  ts: number;
  values: ArrayLike<number>;
}

const FeatureValueRef = builder.objectRef<{ name: string; value: number }>('FeatureValue').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    value: t.float({
      nullable: true,
      description:
        'Null while the feature is still warming up. A float32 value (what the models read), written as the shortest decimal that is that float32.',
      resolve: (f) => (Number.isFinite(f.value) ? shortestFloat32(f.value) : null),
    }),
  }),
});

/**
 * The shortest decimal that rounds to the same float32: a row holds 0.2 as 0.20000000298023224 in doubles, and a
 * reader wants 0.2. Nine significant digits always suffice.
 */
export function shortestFloat32(v: number): number {
  for (let p = 1; p < 9; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === v) return d;
  }
  return Number(v.toPrecision(9));
}

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
