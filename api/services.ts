// What the resolvers read (ApiServices): the store, the live feed and its latest-value cache, the
// pipeline's metrics, the model's metadata, explanations. Built once per server; close() stops
// what it started. The pipeline's parts may come later than the rest (pipelineStarted): a server
// that starts before its pipeline serves the store at once, and what reads the pipeline waits.
import type { Registry } from 'prom-client';
import { ExplanationService } from '../explain/explanation-service.js';
import { emptyEarningsCalendar } from '../models/earnings-calendar.js';
import type { ApiServices, PipelineServices } from './context.js';
import { LatestCache } from './latest.js';
import type { ApiLimits } from './limits.js';
import { readLiveSkill } from './live-skill.js';
import { readModelInfo } from './model-info.js';
import { PipelineView } from './pipeline-view.js';
import type { LiveFeed } from './pubsub.js';
import type { PipelineBinding, ServerOptions } from './server.js';

export function createServices(
  opts: ServerOptions,
  deps: { feed: LiveFeed; limits: ApiLimits; registry: Registry },
): { services: ApiServices; pipelineStarted(binding: PipelineBinding): void; close(): void } {
  const { feed, limits } = deps;
  const latest = new LatestCache(feed, opts.store);
  const horizons = opts.horizons ?? [1, 5, 21];
  let modelInfo: ReturnType<typeof readModelInfo> | null = null;
  let started: PipelineServices | null = null;
  let unwatchExplained = () => {};
  let resolveStarted: (s: PipelineServices) => void = () => {};
  const whenStarted = new Promise<PipelineServices>((resolve) => {
    resolveStarted = resolve;
  });

  const pipelineStarted = (binding: PipelineBinding) => {
    if (started) throw new Error('pipelineStarted: the server already has its pipeline');
    const explanations = binding.explain
      ? new ExplanationService({
          ...binding.explain,
          horizons,
          registry: deps.registry,
          predictions: { latest: (s, h) => latest.prediction(s, h), has: (s) => latest.has(s) },
          announced: true,
        })
      : null;
    // A new prediction makes the cached explanations of the older one stale.
    if (explanations) unwatchExplained = feed.subscribeAll('predictions', (p) => explanations.onPrediction(p));
    started = {
      pipeline: new PipelineView(binding.running, opts.metricsIntervalMs),
      running: binding.running,
      serving: binding.serving ?? {
        normal: { name: 'unknown', version: 'unknown' },
        earnings: { name: 'unknown', version: 'unknown' },
      },
      marketData: () => binding.marketData?.() ?? null,
      explanations,
    };
    resolveStarted(started);
  };
  if (opts.running) pipelineStarted({ ...opts, running: opts.running });

  const services: ApiServices = {
    store: opts.store,
    feed,
    latest,
    horizons,
    limits,
    calendar: opts.calendar ?? emptyEarningsCalendar(),
    modelInfo: () => {
      modelInfo ??= readModelInfo(opts.modelDir);
      return modelInfo;
    },
    calibration: () => opts.calibration?.() ?? [],
    liveSkill: () => readLiveSkill(opts.registries ?? []),
    started: () => whenStarted,
    startedNow: () => started,
  };
  return {
    services,
    pipelineStarted,
    close() {
      started?.pipeline.close();
      latest.close();
      unwatchExplained();
    },
  };
}
