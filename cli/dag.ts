// `tickcast dag`: a pipeline's DAG as JSON or Mermaid, built with stand-ins for what only running
// needs (an in-memory store, no calendar, an embedder that only names itself).
import { createLiveHub } from '../engine/index.js';
import { persistenceModel } from '../models/baselines.js';
import { emptyEarningsCalendar } from '../models/earnings-calendar.js';
import { news } from '../operators/sources/news.js';
import { replay } from '../operators/sources/replay.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { openDuckDbVectorStore } from '../storage/duckdb-vector-store.js';
import { choosePipeline, pipelineProblems } from './app.js';
import { loadConfig } from './config.js';
import type { CliIo } from './io.js';

export interface DagArgs {
  format: 'json' | 'mermaid';
  pipeline?: string;
}

/** The settings the DAG depends on: what it serves or stores (the API port, the store) does not stop it. */
const DAG_SETTINGS = [
  'TICKCAST_PIPELINE',
  'TICKCAST_HORIZONS',
  'TICKCAST_EMBEDDER',
  'TICKCAST_EXPLAIN',
  'TICKCAST_DATA_DIR',
  'TICKCAST_PARTITIONS',
  'TICKCAST_NEWS',
  'TICKCAST_CHAINING',
] as const;

export async function dagCommand(opts: DagArgs, io: CliIo): Promise<void> {
  const config = loadConfig(
    { ...io.env, ...(opts.pipeline ? { TICKCAST_PIPELINE: opts.pipeline } : {}) },
    // An unknown pipeline beside the bad values, in one message.
    { settings: DAG_SETTINGS, also: pipelineProblems },
  );
  const module = await choosePipeline(config);
  // Describing needs the wiring, not the data: an in-memory store, no calendar.
  const store = await openDuckDbStore({ path: ':memory:' });
  const model = persistenceModel({ horizons: config.TICKCAST_HORIZONS });
  // Nor the embedding model: a stand-in that only names itself.
  const embedder = {
    id: `describe-only:${config.TICKCAST_EMBEDDER}`,
    dimension: 1,
    embed: () => Promise.reject(new Error('describe only')),
  };
  const vectors =
    config.TICKCAST_EXPLAIN && module.explains !== false
      ? await openDuckDbVectorStore({ path: ':memory:', embedder })
      : null;
  const pipeline = module.build({
    source: replay({ dir: config.TICKCAST_DATA_DIR }),
    calendar: emptyEarningsCalendar(),
    models: { normal: model, earnings: model },
    store,
    hub: createLiveHub(),
    partitions: config.TICKCAST_PARTITIONS,
    ...(vectors
      ? {
          explain: {
            embedder,
            vectors,
            ...(config.TICKCAST_NEWS !== 'none' ? { news: news({ dir: config.TICKCAST_NEWS }) } : {}),
          },
        }
      : {}),
  });
  // The chains the run would use: none with TICKCAST_CHAINING=off.
  const shape = { chains: config.TICKCAST_CHAINING };
  io.out(opts.format === 'json' ? JSON.stringify(pipeline.describe(shape), null, 2) : pipeline.mermaid(shape));
  await vectors?.close();
  await store.close();
}
