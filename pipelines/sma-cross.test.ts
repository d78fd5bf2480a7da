// The SMA-cross example pipeline, whole, on real bundled data: replay → bars → crossovers.
import { describe, expect, it } from 'vitest';
import { createLiveHub, publicTopics, type TableTopic, TestDriver } from '../engine/index.js';
import { replay } from '../operators/sources/replay.js';
import type { SmaSignal } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { loadPipelineModule, PIPELINES } from './modules.js';
import { signalsTopic, smaCrossModule, smaCrossPipeline } from './sma-cross.js';

const DATA = new URL('../data/sp500-daily', import.meta.url).pathname;

describe('sma-cross pipeline', () => {
  it('turns replayed prices into stored bars and crossover signals, published live', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    const hub = createLiveHub();
    const heard: SmaSignal[] = [];
    hub.subscribe('signals:KO', (s) => heard.push(s as SmaSignal));
    const pipeline = smaCrossPipeline({ source: replay({ dir: DATA, symbols: ['KO', 'XOM'] }), store, hub });
    const d = await TestDriver.create(pipeline);
    await d.runSource();
    const signals = d.read<SmaSignal>('signals');
    expect(new Set(signals.map((s) => s.symbol))).toEqual(new Set(['KO', 'XOM']));
    expect(heard).toEqual(signals.filter((s) => s.symbol === 'KO'));
    expect((await store.counts()).bars).toBe(d.read('bars').length);
    // Stored in the table its topic declares (key symbol, time ts), read back by key and time.
    const ko = signals.filter((s) => s.symbol === 'KO');
    expect(await store.records(signalsTopic, { symbol: 'KO' })).toEqual(ko);
    expect(await store.records(signalsTopic, { symbol: 'KO' }, { from: ko[1]!.ts, limit: 1 })).toEqual([ko.at(-1)]);
    // The nodes, as `tickcast dag --pipeline sma-cross` draws them.
    expect(pipeline.nodes.map((n) => n.id)).toEqual([
      'market-data',
      'bars',
      'sma-cross',
      'store-bars',
      'store-signals',
      'live-signals',
    ]);
    await store.close();
  });

  it('lists as its public topics exactly those its pipeline declares public', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    const pipeline = smaCrossPipeline({ source: replay({ dir: DATA }), store, hub: createLiveHub() });
    const declared = (topics: readonly TableTopic[]) => topics.map((t) => [t.name, t.schema.fingerprint, t.table]);
    expect(declared(publicTopics(pipeline.topics.values()))).toEqual(declared(smaCrossModule.publicTopics ?? []));
    expect(pipeline.describe().topics.find((t) => t.name === 'signals')).toMatchObject({
      table: { key: ['symbol'], time: 'ts' },
      public: true,
    });
    await store.close();
  });

  it('is one of the pipelines the CLI can run, by name', async () => {
    expect(PIPELINES.map((p) => p.name)).toEqual(['price-prediction', 'sma-cross']);
    expect((await loadPipelineModule('sma-cross')).file).toBe('pipelines/sma-cross.ts');
    await expect(loadPipelineModule('no-such-pipeline')).rejects.toThrow(
      /no pipeline named "no-such-pipeline".*pipelines: price-prediction, sma-cross/,
    );
  });
});
