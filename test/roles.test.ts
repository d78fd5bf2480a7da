// Which nodes each process role runs (TICKCAST_ROLE, engine/README.md "Workers").
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { nodesFor } from '../cli/app.js';
import { createLiveHub } from '../engine/index.js';
import { persistenceModel } from '../models/baselines.js';
import { createLiveEarningsCalendar, emptyEarningsCalendar } from '../models/earnings-calendar.js';
import { simulator } from '../operators/sources/simulator.js';
import { createYahooFeed } from '../operators/sources/yahoo.js';
import { createYahooClient } from '../operators/sources/yahoo-client.js';
import { pricePrediction } from '../pipelines/price-prediction.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';

describe('roles', async () => {
  const store = await openDuckDbStore({ path: ':memory:' });
  const model = persistenceModel({ horizons: [1] });
  const build = (extra: Partial<Parameters<typeof pricePrediction>[0]> = {}) =>
    pricePrediction({
      source: simulator({ symbols: 1, ticks: 1 }),
      calendar: emptyEarningsCalendar(),
      models: { normal: model, earnings: model },
      store,
      hub: createLiveHub(),
      ...extra,
    });
  const pipeline = build();

  it('split the DAG: the sources, workers for the transforms and stores, the API for live fan-out', () => {
    // Derived from the pipeline, so adding a node to it does not break this test.
    const ids = (keep: (n: (typeof pipeline.nodes)[number]) => boolean) => pipeline.nodes.filter(keep).map((n) => n.id);
    const isLive = (n: (typeof pipeline.nodes)[number]) => n.operator.kind === 'sink' && n.operator.name === 'live';
    expect(nodesFor(pipeline, 'source')).toEqual(ids((n) => n.operator.kind === 'source'));
    expect(nodesFor(pipeline, 'worker')).toEqual(ids((n) => n.operator.kind !== 'source' && !isLive(n)));
    expect(nodesFor(pipeline, 'worker')).toEqual(expect.arrayContaining(['bars', 'features', 'router', 'store-bars']));
    expect(nodesFor(pipeline, 'api')).toEqual(ids(isLive));
    expect(nodesFor(pipeline, 'api').sort()).toEqual(['live-bars', 'live-predictions']);
    expect(nodesFor(pipeline, 'all')).toEqual(pipeline.nodes.map((n) => n.id));
  });

  it('the earnings calendar of a live source is kept in every worker and API process', async () => {
    const calendar = createLiveEarningsCalendar();
    const feed = createYahooFeed({ client: createYahooClient(), symbols: ['AAPL'], pollMs: 60_000 });
    const live = pricePrediction({
      source: feed.quotes,
      calendar,
      models: { normal: model, earnings: model },
      store,
      hub: createLiveHub(),
      liveEarnings: { source: feed.earnings, calendar },
    });
    expect(nodesFor(live, 'source')).toEqual(['market-data', 'earnings']);
    expect(nodesFor(live, 'worker')).toContain('earnings-calendar');
    expect(nodesFor(live, 'api').sort()).toEqual(['earnings-calendar', 'live-bars', 'live-predictions']);
    expect(live.topics.get('earnings')).toMatchObject({ compacted: true, consumers: ['earnings-calendar'] });
  });

  it('the skill series of /metrics come from the API process alone, not once per worker', () => {
    const scored = build({ scoring: { registry: new Registry() } });
    expect(nodesFor(scored, 'worker')).toEqual(expect.arrayContaining(['score', 'store-scores']));
    expect(nodesFor(scored, 'worker')).not.toContain('score-metrics');
    expect(nodesFor(scored, 'api').sort()).toEqual(['live-bars', 'live-predictions', 'score-metrics']);
    expect(nodesFor(scored, 'all')).toContain('score-metrics');
  });

  it('together run every node exactly once', () => {
    const split = [...nodesFor(pipeline, 'source'), ...nodesFor(pipeline, 'worker'), ...nodesFor(pipeline, 'api')];
    expect(split.sort()).toEqual(pipeline.nodes.map((n) => n.id).sort());
  });
});
