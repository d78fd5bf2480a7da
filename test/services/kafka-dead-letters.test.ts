// Dead letters on a REAL Kafka broker (npm run services:up; KAFKA_BROKERS): a pipeline replays a
// broken file through Kafka, and its `.dlq` topics are read back through the transport, by the run
// summary's grouping and by the GraphQL `deadLetters` query, exactly as in memory.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../api/server.js';
import { deadLetterReasons } from '../../cli/app.js';
import { createLiveHub, runPipeline, topicSpecs } from '../../engine/index.js';
import { createKafkaTransport, type KafkaTransport } from '../../engine/transports/kafka/kafka-transport.js';
import { persistenceModel } from '../../models/baselines.js';
import { emptyEarningsCalendar } from '../../models/earnings-calendar.js';
import { replay } from '../../operators/sources/replay.js';
import { pricePrediction } from '../../pipelines/price-prediction.js';
import { openDuckDbStore } from '../../storage/duckdb-store.js';
import { KAFKA_BROKERS } from '../support/service-addresses.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const logs: string[] = [];

describe('dead letters read back from Kafka', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tickcast-kafka-dlq-'));
    mkdirSync(join(dir, 'csv'));
    copyFileSync(join(ROOT, 'data/sp500-daily/REGN_data.csv'), join(dir, 'csv/REGN_data.csv'));
    const ko = readFileSync(join(ROOT, 'data/sp500-daily/KO_data.csv'), 'utf8').split('\n');
    ko[49] = ko[49]!.replace(',', ',"');
    writeFileSync(join(dir, 'csv/KO_data.csv'), ko.join('\n'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('groups them for the summary and serves them over GraphQL, oldest first', async () => {
    const store = await openDuckDbStore({ path: join(dir, 'store.duckdb') });
    const model = persistenceModel({ horizons: [1] });
    const hub = createLiveHub();
    const pipeline = pricePrediction({
      source: replay({ dir: join(dir, 'csv') }),
      calendar: emptyEarningsCalendar(),
      models: { normal: model, earnings: model },
      store,
      hub,
      partitions: 2,
    });
    const transport: KafkaTransport = await createKafkaTransport({
      brokers: KAFKA_BROKERS.split(','),
      topicPrefix: `dlq${Date.now().toString(36)}.`,
      log: (l) => logs.push(l),
    });
    const running = await runPipeline(pipeline, { transport, pollTimeoutMs: 50, log: (l) => logs.push(l) });
    const api = await startServer({ running, store, hub, host: '127.0.0.1', port: 0, horizons: [1] });
    try {
      const summary = await running.done;
      expect(summary.deadLetters).toBe(2);
      expect(await deadLetterReasons(running)).toEqual([
        { topic: 'quotes', reason: 'source: has a quote that is never closed', count: 1, examples: ['KO_data.csv:50'] },
        {
          topic: 'quotes',
          reason: 'source: open is empty; high is empty; low is empty',
          count: 1,
          examples: ['REGN_data.csv:588'],
        },
      ]);
      const res = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query:
            '{ deadLetters(topic: "quotes", first: 1) { edges { node { reason payload } } pageInfo { hasNextPage } } }',
        }),
      });
      expect(await res.json()).toEqual({
        data: {
          deadLetters: {
            edges: [
              {
                node: {
                  reason: 'KO_data.csv:50: has a quote that is never closed',
                  payload: '2013-04-19,"42.28,42.77,42.2,42.66,13880945,KO',
                },
              },
            ],
            pageInfo: { hasNextPage: true },
          },
        },
      });
    } finally {
      await api.close();
      await transport.deleteTopics(topicSpecs(pipeline).map((s) => s.name)).catch(() => {});
      await transport.close();
      await store.close();
    }
  });
});
