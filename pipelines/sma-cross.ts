// The SMA-cross pipeline: a small, real example of a second pipeline with a stateful operator and
// a record type of its own (schemas/sma-signal.avsc). Market data → quotes → daily bars → a
// 20/50-bar moving-average crossover per symbol → `signals`, published live on channel `signals`
// (and `signals:<SYMBOL>`); the bars are stored as in the price pipeline. `signals` is declared
// with its table (key symbol, time ts) and public: the timeseries sink stores it in a table derived
// from its Avro schema, and the API serves it (query `signals`, subscription `signals`) with no
// code of its own.
//   npx tickcast run --pipeline sma-cross --until-end
import { definePipeline, type Pipeline, type TableTopic, type TopicDeclaration } from '../engine/index.js';
import { live } from '../operators/sinks/live.js';
import { timeseries } from '../operators/sinks/timeseries.js';
import { bars } from '../operators/transforms/bars.js';
import { smaCross } from '../operators/transforms/sma-cross.js';
import { type SmaSignal, schemas } from '../schemas/index.js';
import type { PipelineModule, PipelineParts } from './modules.js';

/** The signals topic, declared once: the pipeline's topic, the table its sink writes, what the API serves. */
export const signalsTopic = {
  name: 'signals',
  schema: schemas.SmaSignal,
  table: { key: ['symbol'], time: 'ts' },
  public: true,
  description: '20/50-bar moving-average crossovers',
} as const satisfies TableTopic<SmaSignal> & TopicDeclaration;

export function smaCrossPipeline(parts: Pick<PipelineParts, 'source' | 'store' | 'hub' | 'partitions'>): Pipeline {
  const partitions = parts.partitions ?? 4;
  return definePipeline({
    name: 'sma-cross',
    topics: {
      quotes: { schema: schemas.Quote, partitions, description: 'price observations from market data' },
      bars: { schema: schemas.Bar, partitions, description: 'OHLCV per symbol and day' },
      [signalsTopic.name]: { ...signalsTopic, partitions },
    },
    nodes: [
      { id: 'market-data', operator: parts.source, writes: { quotes: 'quotes' } },
      { id: 'bars', operator: bars({ interval: '1d' }), reads: 'quotes', writes: { bars: 'bars' } },
      { id: 'sma-cross', operator: smaCross({ fast: 20, slow: 50 }), reads: 'bars', writes: { signals: 'signals' } },
      { id: 'store-bars', operator: timeseries({ store: parts.store, table: 'bars' }), reads: 'bars' },
      { id: 'store-signals', operator: timeseries({ store: parts.store, topic: signalsTopic }), reads: 'signals' },
      {
        id: 'live-signals',
        operator: live({ hub: parts.hub, topic: signalsTopic }),
        reads: 'signals',
      },
    ],
  });
}

export const smaCrossModule: PipelineModule = {
  name: 'sma-cross',
  file: 'pipelines/sma-cross.ts',
  description: 'daily bars and 20/50-bar moving-average crossover signals per symbol (a worked example)',
  explains: false,
  build: (parts) => smaCrossPipeline(parts),
  publicTopics: [signalsTopic],
};
