// The SMA-cross example pipeline, whole, on real bundled data: replay → bars → crossovers.
import { describe, expect, it } from 'vitest';
import { createLiveHub, TestDriver } from '../engine/index.js';
import { replay } from '../operators/sources/replay.js';
import type { SmaSignal } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { loadPipelineModule, PIPELINES } from './modules.js';
import { smaCrossPipeline } from './sma-cross.js';

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
    // The nodes, as `tickcast dag --pipeline sma-cross` draws them.
    expect(pipeline.nodes.map((n) => n.id)).toEqual(['market-data', 'bars', 'sma-cross', 'store-bars', 'live-signals']);
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
