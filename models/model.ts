// The contract between the `predict` operator and any forecasting model.
import type { Features } from '../schemas/index.js';

/** One forecast, in log returns relative to the input's close. */
export interface ModelOutput {
  symbol: string;
  /** Event time of the input features. */
  ts: number;
  horizon: number;
  /** Median log return over `horizon` trading days. */
  predictedReturn: number;
  /** 0.1 quantile of the log return. */
  lowerReturn: number;
  /** 0.9 quantile of the log return. */
  upperReturn: number;
}

export interface Model {
  readonly name: string;
  readonly version: string;
  /** Feature spec id (name@hash) this model was built for; the predict operator checks it. */
  readonly spec: string;
  /** Horizons in trading days that every input gets a forecast for. */
  readonly horizons: readonly number[];
  /** Forecasts for a batch of inputs: one output per (input, horizon). */
  predictBatch(inputs: readonly Features[]): ModelOutput[] | Promise<ModelOutput[]>;
}
