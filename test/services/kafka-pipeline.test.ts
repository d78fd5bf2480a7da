// The price-prediction pipeline through a REAL Kafka broker (npm run services:up; KAFKA_BROKERS,
// default 127.0.0.1:19092) with the Confluent wire format, against the memory transport: the same
// predictions. The schema registry is the TEST DOUBLE in test/support/ (no registry server runs here).
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveHub, MemoryTransport, runPipeline, topicSpecs } from '../../engine/index.js';
import type { Transport } from '../../engine/transport.js';
import { createKafkaTransport, KafkaTransport } from '../../engine/transports/kafka/kafka-transport.js';
import { RegistrySerde } from '../../engine/transports/kafka/registry-serde.js';
import { persistenceModel } from '../../models/baselines.js';
import { loadEarningsCalendar } from '../../models/earnings-calendar.js';
import { replay } from '../../operators/sources/replay.js';
import { pricePrediction } from '../../pipelines/price-prediction.js';
import type { Prediction } from '../../schemas/index.js';
import { openDuckDbStore } from '../../storage/duckdb-store.js';
import {
  type SchemaRegistryTestDouble,
  startSchemaRegistryTestDouble,
} from '../support/schema-registry-test-double.js';
import { KAFKA_BROKERS } from '../support/service-addresses.js';

const BROKERS = KAFKA_BROKERS.split(',');
const logs: string[] = [];
const transport = () =>
  createKafkaTransport({ brokers: BROKERS, topicPrefix: `p${Date.now().toString(36)}.`, log: (l) => logs.push(l) });

describe('price-prediction on Kafka (real broker, registry test double)', () => {
  let registry: SchemaRegistryTestDouble;
  let dir: string;
  beforeAll(async () => {
    registry = await startSchemaRegistryTestDouble();
    dir = mkdtempSync(join(tmpdir(), 'tickcast-kafka-'));
    const data = join(dir, 'data');
    mkdirSync(data);
    for (const f of readdirSync('data/sp500-daily').sort().slice(0, 10))
      copyFileSync(join('data/sp500-daily', f), join(data, f));
  });
  afterAll(async () => {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function predictionsVia(name: string, make: () => Promise<Transport>, serde?: RegistrySerde) {
    const store = await openDuckDbStore({ path: join(dir, `${name}.duckdb`) });
    const model = persistenceModel({ horizons: [1, 5, 21] });
    const pipeline = pricePrediction({
      source: replay({ dir: join(dir, 'data') }),
      calendar: await loadEarningsCalendar('data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv'),
      models: { normal: model, earnings: model },
      store,
      hub: createLiveHub(),
      partitions: 4,
    });
    const t = await make();
    const started = performance.now();
    const running = await runPipeline(pipeline, { transport: t, serde, pollTimeoutMs: 50, log: (l) => logs.push(l) });
    const summary = await running.done;
    const ms = performance.now() - started;
    if (t instanceof KafkaTransport) await t.deleteTopics(topicSpecs(pipeline).map((s) => s.name));
    await t.close();
    const symbols = await store.symbols();
    const rows: Prediction[] = [];
    for (const s of symbols) rows.push(...(await store.predictions(s, { limit: 1_000_000 })));
    await store.close();
    const key = (p: Prediction) => `${p.symbol}|${p.ts}|${p.horizon}`;
    return {
      ms,
      summary,
      predictions: rows
        .map(({ createdAt: _, ...rest }) => rest)
        .sort((a, b) => key(a as Prediction).localeCompare(key(b as Prediction))),
    };
  }

  it('gives the same predictions as the memory transport for 10 real tickers', async () => {
    const memory = await predictionsVia('memory', async () => new MemoryTransport());
    const kafka = await predictionsVia('kafka', () => transport(), new RegistrySerde({ url: registry.url }));
    expect(kafka.summary.deadLetters).toBe(memory.summary.deadLetters);
    expect(memory.predictions.length).toBeGreaterThan(10_000);
    expect(kafka.predictions.length).toBe(memory.predictions.length);
    expect(kafka.predictions).toEqual(memory.predictions);
    expect(registry.requests).toContain('POST /subjects/quotes-value/versions');
    console.log(
      `10 tickers, ${memory.predictions.length} predictions: memory ${memory.ms.toFixed(0)} ms, kafka ${kafka.ms.toFixed(0)} ms`,
    );
  });
});
