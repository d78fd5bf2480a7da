// The run the services tests put on real servers: the price-prediction pipeline over SYNTHETIC
// quotes (the simulator) with the persistence model, as one definition for the test's own
// in-process reference and for the `tickcast run` processes it starts (the same settings, as env).
import { createLiveHub, MemoryTransport, type Pipeline, runPipeline } from '../../engine/index.js';
import { persistenceModel } from '../../models/baselines.js';
import { emptyEarningsCalendar } from '../../models/earnings-calendar.js';
import { simulator } from '../../operators/sources/simulator.js';
import { pricePrediction } from '../../pipelines/price-prediction.js';
import { openDuckDbStore } from '../../storage/duckdb-store.js';
import { openQuestDbStore } from '../../storage/questdb-store.js';
import type { TimeSeriesStore } from '../../storage/timeseries-store.js';
import { KAFKA_BROKERS, QUESTDB_PG, QUESTDB_URL, SCHEMA_REGISTRY_URL } from '../support/service-addresses.js';
import { digestOf, type PredictionDigest } from './prediction-digest.js';

export interface SimulatedRun {
  symbols: number;
  ticks: number;
  partitions: number;
  horizons: readonly number[];
}

export function simulatedPipeline(store: TimeSeriesStore, run: SimulatedRun, paceMs = 0): Pipeline {
  const model = persistenceModel({ horizons: [...run.horizons] });
  return pricePrediction({
    source: simulator({ symbols: run.symbols, ticks: run.ticks, paceMs }),
    calendar: emptyEarningsCalendar(),
    models: { normal: model, earnings: model },
    store,
    hub: createLiveHub(),
    partitions: run.partitions,
  });
}

/** What the run must store: the same pipeline in this process on the memory transport. */
export async function expectedRun(run: SimulatedRun): Promise<{ pipeline: Pipeline; expected: PredictionDigest }> {
  const store = await openDuckDbStore({ path: ':memory:' });
  const pipeline = simulatedPipeline(store, run);
  await (await runPipeline(pipeline, { transport: new MemoryTransport(), log: () => {} })).done;
  const expected = await digestOf(store, run.symbols);
  await store.close();
  return { pipeline, expected };
}

/**
 * The environment of a `tickcast run` process for the same run on the test servers, its topics
 * and tables named after `name` (a fresh one per test keeps tests apart on shared servers).
 */
export function simulatedRunEnv(run: SimulatedRun, name: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TICKCAST_TRANSPORT: 'kafka',
    TICKCAST_STORE: 'questdb',
    // These runs check the price path; the explanation path has its own services test.
    TICKCAST_EXPLAIN: 'off',
    // The calibration is a feedback loop whose timing depends on the deployment: these runs
    // compare intervals value for value with the in-process reference, so they run without it.
    TICKCAST_CALIBRATION: 'off',
    TICKCAST_SOURCE: 'simulator',
    TICKCAST_SIM_SYMBOLS: String(run.symbols),
    TICKCAST_SIM_TICKS: String(run.ticks),
    TICKCAST_PARTITIONS: String(run.partitions),
    TICKCAST_MODEL: 'persistence',
    TICKCAST_HORIZONS: run.horizons.join(','),
    TICKCAST_EARNINGS_FILE: 'none',
    KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: `${name}.`,
    SCHEMA_REGISTRY_URL,
    QUESTDB_URL,
    QUESTDB_PG,
    QUESTDB_TABLE_PREFIX: `${name}_`,
    NODE_OPTIONS: '--max-old-space-size=384',
  };
}

/** The QuestDB tables the `tickcast run` processes of run `name` store into (simulatedRunEnv's prefix). */
export function openRunStore(name: string): Promise<TimeSeriesStore> {
  return openQuestDbStore({ url: QUESTDB_URL, pg: QUESTDB_PG, tablePrefix: `${name}_` });
}
