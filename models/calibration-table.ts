// The calibration every predict node applies: each group's current log-scale, as the `calibrate`
// operator last published it (topic `calibration`, applied by the calibration-table sink in every
// process), and a Model wrapper that widens or narrows a model's interval by it. One table per
// process, read synchronously per batch, like the earnings calendar.
import type { Calibration, Features } from '../schemas/index.js';
import { type ConformalState, groupKey, issuedScale, LEAD_GROUP, widen } from './conformal.js';
import type { Model, ModelOutput } from './model.js';

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
  const calibrate = (o: ModelOutput): ModelOutput => {
    const s = table.scale(o.horizon, regime);
    if (s === 1) return o;
    const [lowerReturn, upperReturn] = widen(o.lowerReturn, o.predictedReturn, o.upperReturn, s);
    return { ...o, lowerReturn, upperReturn };
  };
  return {
    name: model.name,
    version: model.version,
    spec: model.spec,
    horizons: model.horizons,
    async predictBatch(inputs: readonly Features[]) {
      return (await model.predictBatch(inputs)).map(calibrate);
    },
    // What moved the median: the model's own (calibration does not move it).
    ...(model.attribute && { attribute: (inputs: readonly Features[]) => model.attribute!(inputs) }),
  };
}
