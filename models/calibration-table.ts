// The calibration every predict node applies: each group's current log-scale, as the `calibrate`
// operator last published it (topic `calibration`, applied by the calibration-table sink in every
// process), and a Model wrapper that widens or narrows a model's interval by it. One table per
// process, read synchronously per batch, like the earnings calendar.
import type { Calibration, Features } from '../schemas/index.js';
import { type ConformalState, groupKey, issuedScale, LEAD_GROUP, widen } from './conformal.js';
import { scaledWidth } from './interval-scale.js';
import { type Model, outputsFromQuantiles, QUANTILE_STRIDE } from './model.js';

export interface CalibrationTable {
  /** The scale issued now for forecasts of `horizon` on the `regime` branch (1 before any step). */
  scale(horizon: number, regime: string): number;
  /** Takes a group's newest published state (an older one than held is ignored). */
  apply(record: Calibration): void;
  /** Each group's newest record. */
  groups(): Calibration[];
  /** One group's newest record. */
  get(group: string): Calibration | undefined;
}

export function createCalibrationTable(): CalibrationTable {
  const groups = new Map<string, Calibration>();
  const state = (key: string): Pick<ConformalState, 'logScale'> | undefined => groups.get(key);
  return {
    scale(horizon, regime) {
      const key = groupKey(horizon, regime);
      return issuedScale(
        key,
        state(key) as ConformalState | undefined,
        state(LEAD_GROUP) as ConformalState | undefined,
      );
    },
    apply(record) {
      const held = groups.get(record.group);
      if (held && (held.steps > record.steps || held.ts > record.ts)) return;
      groups.set(record.group, record);
    },
    groups: () => [...groups.values()],
    get: (group) => groups.get(group),
  };
}

/**
 * `model` with each forecast's 80% interval scaled around its median by the table's current scale
 * for its horizon and `regime`. Name, version and median are the model's: calibration moves only
 * the interval, and its state is published on its own topic.
 */
export function withCalibration(model: Model, table: CalibrationTable, regime: string): Model {
  // From the model's typed quantiles when it has them (inputs × horizons × (lower, median, upper, rank)), widened
  // in place: the predict operator then builds its records straight from them (predictRecords).
  const predictQuantiles =
    model.predictQuantiles &&
    ((inputs: readonly Features[]): Float64Array => {
      const given = model.predictQuantiles!(inputs);
      const q = given instanceof Float64Array ? given : Float64Array.from(given);
      const scales = Float64Array.from(model.horizons, (h) => table.scale(h, regime));
      for (let o = 0, h = 0; o < q.length; o += QUANTILE_STRIDE, h = h + 1 === scales.length ? 0 : h + 1) {
        const s = scales[h]!;
        if (s === 1) continue;
        const median = q[o + 1]!;
        // widen() written out: a pair array per forecast is what this path avoids.
        q[o] = median - s * (median - q[o]!);
        q[o + 2] = median + s * (q[o + 2]! - median);
      }
      return q;
    });
  return {
    name: model.name,
    version: model.version,
    spec: model.spec,
    horizons: model.horizons,
    ...(predictQuantiles && { predictQuantiles }),
    async predictBatch(inputs: readonly Features[]) {
      if (predictQuantiles) return outputsFromQuantiles(inputs, model.horizons, predictQuantiles(inputs));
      const outputs = await model.predictBatch(inputs);
      // On the predict hot path (15k outputs a batch): one scale per horizon per batch, and the
      // model's fresh outputs adjusted in place rather than copied.
      const scales = new Map(model.horizons.map((h) => [h, table.scale(h, regime)]));
      for (const o of outputs) {
        const s = scales.get(o.horizon) ?? 1;
        if (s !== 1) [o.lowerReturn, o.upperReturn] = widen(o.lowerReturn, o.predictedReturn, o.upperReturn, s);
      }
      return outputs;
    },
    // What moved the median: the model's own (calibration does not move it). What moved the
    // width: the model's, times the scale in force, as the interval it issues now is.
    ...(model.attribute && {
      async attribute(inputs: readonly Features[]) {
        return (await model.attribute!(inputs)).map((a) => {
          const s = table.scale(a.horizon, regime);
          return { ...a, intervalScale: s, ...(a.width && s !== 1 ? { width: scaledWidth(a.width, s) } : {}) };
        });
      },
    }),
    ...(model.attributeWidth && {
      async attributeWidth(inputs: readonly Features[]) {
        return (await model.attributeWidth!(inputs)).map((w) => scaledWidth(w, table.scale(w.horizon, regime)));
      },
    }),
  };
}
