// Faults on a REAL Kafka broker with the REAL schema registry (npm run test:services): a poison
// message and an unreachable registry. (Broker down at start is in
// engine/transports/kafka/kafka-transport.services.test.ts, a broker restarted mid-stream in kafka-restart.test.ts,
// QuestDB down in questdb-outage.test.ts.) The data is SYNTHETIC (the simulator, 50 symbols);
// the expected predictions come from the same pipeline on the memory transport.
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryTransport, runPipeline, topicSpecs } from '../../engine/index.js';
import { createKafkaTransport } from '../../engine/transports/kafka/kafka-transport.js';
import { RegistrySerde } from '../../engine/transports/kafka/registry-serde.js';
import { simulatedSymbol } from '../../operators/sources/simulator.js';
import { type DeadLetter, schemas } from '../../schemas/index.js';
import { openDuckDbStore } from '../../storage/duckdb-store.js';
import type { TimeSeriesStore } from '../../storage/timeseries-store.js';
import { KAFKA_BROKERS, SCHEMA_REGISTRY_URL } from '../support/service-addresses.js';
import { digestOf, type PredictionDigest } from './prediction-digest.js';
import { type SimulatedRun, simulatedPipeline } from './simulated-run.js';

const BROKERS = KAFKA_BROKERS.split(',');
const SYMBOLS = 50;
const TICKS = 40;

const RUN: SimulatedRun = { symbols: SYMBOLS, ticks: TICKS, partitions: 4, horizons: [1, 5, 21] };
const pipeline = (store: TimeSeriesStore) => simulatedPipeline(store, RUN);
const digest = (store: TimeSeriesStore) => digestOf(store, SYMBOLS);

const prefix = () => `f${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}.`;
const logs: string[] = [];
const log = (line: string) => logs.push(line);

describe('Kafka faults (real broker and registry)', () => {
  let expected: PredictionDigest;
  beforeAll(async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    await (await runPipeline(pipeline(store), { transport: new MemoryTransport(), log })).done;
    expected = await digest(store);
    await store.close();
  });

  it('a poison message goes to the DLQ with the reason, and its partition keeps moving', async () => {
    const transport = await createKafkaTransport({ brokers: BROKERS, topicPrefix: prefix(), log });
    const store = await openDuckDbStore({ path: ':memory:' });
    const p = pipeline(store);
    await transport.ensureTopics(topicSpecs(p));
    // Bytes that are not in the Confluent wire format, keyed like a real symbol: its partition's
    // quotes follow it.
    const poison = Buffer.from('{"symbol":"SIM00003","price":"lots"}');
    const producer = await transport.producer();
    await producer.send([{ topic: 'quotes', key: simulatedSymbol(3), value: poison, timestamp: Date.UTC(2018, 0, 1) }]);
    await producer.close();

    const running = await runPipeline(p, {
      transport,
      serde: new RegistrySerde({ url: SCHEMA_REGISTRY_URL }),
      pollTimeoutMs: 50,
      log,
    });
    const summary = await running.done;
    expect(summary.deadLetters).toBe(1);
    expect(await digest(store)).toEqual(expected);

    const dlq = await transport.consumer({ group: `${prefix()}dlq-reader`, topics: ['quotes.dlq'] });
    const letters: DeadLetter[] = [];
    for (let i = 0; i < 100 && letters.length === 0; i++) {
      for (const m of await dlq.poll(10, 200)) letters.push(schemas.DeadLetter.type.fromBuffer(m.value!) as DeadLetter);
    }
    await dlq.close();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ topic: 'quotes', node: 'bars', kind: 'decode', key: simulatedSymbol(3) });
    expect(letters[0]!.reason).toMatch(/not in the Confluent wire format/);
    expect(Buffer.from(letters[0]!.payload)).toEqual(poison);
    await transport.deleteTopics(topicSpecs(p).map((t) => t.name));
    await transport.close();
    await store.close();
  });

  it('an unreachable schema registry stops start-up with an error naming it', async () => {
    const transport = await createKafkaTransport({ brokers: BROKERS, topicPrefix: prefix(), log });
    const store = await openDuckDbStore({ path: ':memory:' });
    const dead = 'http://127.0.0.1:9/apis/ccompat/v7';
    await expect(
      runPipeline(pipeline(store), { transport, serde: new RegistrySerde({ url: dead }), log }),
    ).rejects.toThrow(
      /schema registry http:\/\/127\.0\.0\.1:9\/apis\/ccompat\/v7: cannot (register|read) quotes-value/,
    );
    await transport.close();
    await store.close();
  });
});
