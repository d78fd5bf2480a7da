// What every resolver gets: the API's services (stores, live feed, caches, pipeline view) and limits.

import type { MarketDataStatus } from '../engine/source-status.js';
import type { ExplanationService } from '../explain/explanation-service.js';
import type { EarningsCalendar } from '../models/earnings-calendar.js';
import type { Calibration } from '../schemas/index.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { LatestCache } from './latest.js';
import type { ApiLimits } from './limits.js';
import type { LiveSkill } from './live-skill.js';
import type { ModelInfo } from './model-info.js';
import type { PipelineSource, PipelineView } from './pipeline-view.js';
import type { LiveFeed } from './pubsub.js';

/**
 * What the API reads of the running pipeline. A server may start before its pipeline (to serve
 * the store while the models and the pipeline load, cli/run.ts): until the pipeline runs these
 * are not known, and what reads them waits for them (`ApiServices.started`).
 */
export interface PipelineServices {
  pipeline: PipelineView;
  running: PipelineSource;
  /** The models the pipeline actually runs (may be a baseline when nothing is shipped). */
  serving: { normal: { name: string; version: string }; earnings: { name: string; version: string } };
  /** The market-data source's state (GraphQL marketData); null when the process does not know it. */
  marketData(): MarketDataStatus | null;
  /** Explanations of the latest predictions; null when the API runs without a vector store. */
  explanations: ExplanationService | null;
}

export interface ApiServices {
  store: TimeSeriesStore;
  feed: LiveFeed;
  latest: LatestCache;
  /** Horizons the pipeline forecasts (trading days). */
  horizons: readonly number[];
  limits: ApiLimits;
  /** Earnings announcements the pipeline's router reads (the same loaded file). */
  calendar: EarningsCalendar;
  /** The shipped model's manifest and metrics (read once, lazily). */
  modelInfo(): Promise<ModelInfo | null>;
  /** The online interval calibration now in force, per group (horizon:regime); empty without it. */
  calibration(): readonly Calibration[];
  /** The rolling live skill from the scores (Prometheus series of this process). */
  liveSkill(): Promise<LiveSkill[]>;
  /** The running pipeline's parts: at once when the server started with it, else once it runs. */
  started(): Promise<PipelineServices>;
  /** The same now, or null while the pipeline is starting (`health` says `starting`). */
  startedNow(): PipelineServices | null;
}

export interface ApiContext {
  services: ApiServices;
}
