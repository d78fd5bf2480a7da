// The `earnings` topic on a REAL Kafka broker (npm run test:services): the source's upcoming
// earnings days reach the earnings calendar of EVERY process that routes, not a share of them.
// Two pipeline runners stand for two `--role worker` processes (each its own transport and
// process id); a third runs the source. The `earnings-calendar` sink is declared `everyProcess`,
// so each worker reads the whole topic; a plain sink beside it shares the partitions (the control).
import { afterAll, describe, expect, it } from 'vitest';
import {
  defineOperator,
  definePipeline,
  type Pipeline,
  type RunningPipeline,
  runPipeline,
} from '../../engine/index.js';
import { createKafkaTransport } from '../../engine/transports/kafka/kafka-transport.js';
import { createLiveEarningsCalendar, type LiveEarningsCalendar } from '../../models/earnings-calendar.js';
import { earningsCalendar } from '../../operators/sinks/earnings-calendar.js';
import { type Earnings, schemas } from '../../schemas/index.js';
import { KAFKA_BROKERS } from '../support/service-addresses.js';

const run = `e${Date.now().toString(36)}`;
const SYMBOLS = Array.from({ length: 40 }, (_, i) => `S${String(i).padStart(2, '0')}`);
const LEARNED = Date.UTC(2025, 1, 18, 15);
const DAY = (i: number) => Date.UTC(2025, 3, 1 + (i % 28));

function pipelineFor(calendar: LiveEarningsCalendar, shared: string[]): Pipeline {
  return definePipeline({
    name: 'earnings-topic',
    topics: { earnings: { schema: schemas.Earnings, partitions: 4, compacted: true } },
    nodes: [
      {
        id: 'earnings',
        operator: defineOperator({
          kind: 'source',
          name: 'recorded-earnings',
          outputs: { earnings: schemas.Earnings },
          async run(ctx) {
            for (const [i, symbol] of SYMBOLS.entries()) {
              const e: Earnings = { symbol, ts: LEARNED, days: [DAY(i)], source: 'test' };
              await ctx.emit('earnings', e, { timestamp: e.ts });
            }
          },
        }),
        writes: { earnings: 'earnings' },
      },
      { id: 'earnings-calendar', operator: earningsCalendar({ calendar }), reads: 'earnings', everyProcess: true },
      {
        id: 'shared-sink',
        operator: defineOperator({
          kind: 'sink',
          name: 'collect',
          input: schemas.Earnings,
          async write(records) {
            for (const r of records) shared.push(r.value.symbol);
          },
        }),
        reads: 'earnings',
      },
    ],
  });
}

const running: RunningPipeline[] = [];

describe('earnings topic on Kafka: every worker’s calendar gets every symbol', () => {
  afterAll(async () => {
    for (const r of running) {
      await r.stop().catch(() => {});
      await r.transport.close();
    }
  });

  it('two workers each hold all 40 symbols’ dates; the shared control splits them without loss', async () => {
    const start = async (processId: string, nodes: string[], calendar: LiveEarningsCalendar, shared: string[]) => {
      const transport = await createKafkaTransport({ brokers: KAFKA_BROKERS.split(','), topicPrefix: `${run}.` });
      const r = await runPipeline(pipelineFor(calendar, shared), {
        transport,
        groupPrefix: `${run}.earnings-topic`,
        processId,
        nodes,
        log: () => {},
      });
      running.push(r);
      return r;
    };
    const workers = ['worker-a', 'worker-b'].map((id) => ({
      id,
      calendar: createLiveEarningsCalendar(),
      shared: [] as string[],
    }));
    for (const w of workers) await start(w.id, ['earnings-calendar', 'shared-sink'], w.calendar, w.shared);
    await start('source', ['earnings'], createLiveEarningsCalendar(), []);

    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && workers.some((w) => w.calendar.updated.size < SYMBOLS.length)) {
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const w of workers) {
      expect(w.calendar.symbols()).toEqual(SYMBOLS);
      expect(w.calendar.nextEarnings('S07', LEARNED)?.date).toBe(DAY(7));
    }
    // The plain sink shares the partitions: each symbol once across the two workers.
    while (Date.now() < deadline && workers[0]!.shared.length + workers[1]!.shared.length < SYMBOLS.length) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect([...workers[0]!.shared, ...workers[1]!.shared].sort()).toEqual(SYMBOLS);
  }, 120_000);

  it('a worker started later rebuilds the calendar from the compacted topic', async () => {
    const calendar = createLiveEarningsCalendar();
    const transport = await createKafkaTransport({ brokers: KAFKA_BROKERS.split(','), topicPrefix: `${run}.` });
    const r = await runPipeline(pipelineFor(calendar, []), {
      transport,
      groupPrefix: `${run}.earnings-topic`,
      processId: 'worker-late',
      nodes: ['earnings-calendar'],
      log: () => {},
    });
    running.push(r);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && calendar.updated.size < SYMBOLS.length)
      await new Promise((r) => setTimeout(r, 200));
    expect(calendar.symbols()).toEqual(SYMBOLS);
  }, 90_000);
});
