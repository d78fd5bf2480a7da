// features: bars → feature vectors, computed incrementally per symbol with the very code
// offline training uses (models/features.ts), so streaming and training agree.
import { defineOperator } from '../../engine/index.js';
import {
  createFeatureState,
  FEATURE_SPEC,
  type FeatureCalendar,
  type FeatureState,
  featureStateCodec,
  updateFeatures,
} from '../../models/features.js';
import { type Bar, schemas } from '../../schemas/index.js';

/** `calendar` feeds the earnings-context features (days to/since, last surprise); without one they are NaN. */
export function features(opts: { calendar?: FeatureCalendar } = {}) {
  return defineOperator<Bar, { features: typeof schemas.Features }, FeatureState>({
    kind: 'transform',
    name: 'features',
    input: schemas.Bar,
    outputs: { features: schemas.Features },
    // The codec: on Kafka each changed symbol's ~5.4 KB of JSON cost more CPU than its update (issue 15).
    state: { description: 'rolling windows and running averages per symbol', codec: featureStateCodec },
    process({ value: bar }, ctx) {
      const state = ctx.state.get() ?? createFeatureState();
      const values = updateFeatures(state, bar, opts.calendar);
      ctx.state.set(state);
      // null: a bar at or before the last one seen (a re-delivery) — nothing new to say.
      if (values === null) return;
      ctx.emit('features', {
        symbol: bar.symbol,
        ts: bar.ts,
        close: bar.close,
        spec: FEATURE_SPEC.id,
        values,
        history: state.count,
      });
    },
  });
}
