// What the resolvers read (ApiServices): the store, the live feed and its latest-value cache, the
// pipeline's metrics, the model's metadata, explanations. Built once per server; close() stops
// what it started.
import type { Registry } from 'prom-client';
import { ExplanationService } from '../explain/explanation-service.js';
import { emptyEarningsCalendar } from '../models/earnings-calendar.js';
import type { ApiServices } from './context.js';
import { LatestCache } from './latest.js';
import type { ApiLimits } from './limits.js';
import { readLiveSkill } from './live-skill.js';
import { readModelInfo } from './model-info.js';
import { PipelineView } from './pipeline-view.js';
import type { LiveFeed } from './pubsub.js';
import type { ServerOptions } from './server.js';

export function createServices(
  opts: ServerOptions,
  deps: { feed: LiveFeed; limits: ApiLimits; registry: Registry },
): { services: ApiServices; close(): void } {
  const { feed, limits } = deps;
  const latest = new LatestCache(feed, opts.store);
  const pipeline = new PipelineView(opts.running, opts.metricsIntervalMs);
  const horizons = opts.horizons ?? [1, 5, 21];
  const explanations = opts.explain
    ? new ExplanationService({
        ...opts.explain,
        horizons,
        registry: deps.registry,
        predictions: { latest: (s, h) => latest.prediction(s, h), has: (s) => latest.has(s) },
        announced: true,
      })
    : null;
  // A new prediction makes the cached explanations of the older one stale.
  const unwatchExplained = explanations
    ? feed.subscribeAll('predictions', (p) => explanations.onPrediction(p))
    : () => undefined;
  let modelInfo: ReturnType<typeof readModelInfo> | null = null;
  const services: ApiServices = {
    store: opts.store,
    feed,
    latest,
    pipeline,
    running: opts.running,
    horizons,
    limits,
    calendar: opts.calendar ?? emptyEarningsCalendar(),
    modelInfo: () => {
      modelInfo ??= readModelInfo(opts.modelDir);
      return modelInfo;
    },
    serving: opts.serving ?? {
      normal: { name: 'unknown', version: 'unknown' },
      earnings: { name: 'unknown', version: 'unknown' },
    },
    explanations,
    marketData: () => opts.marketData?.() ?? null,
    calibration: () => opts.calibration?.() ?? [],
    liveSkill: () => readLiveSkill(opts.registries ?? []),
  };
  return {
    services,
    close() {
      pipeline.close();
      latest.close();
      unwatchExplained();
    },
  };
}
