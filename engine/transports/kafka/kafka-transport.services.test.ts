// The Kafka transport against a REAL broker (npm run services:up; KAFKA_BROKERS, default
// 127.0.0.1:19092). Each test works in its own topic prefix, so runs do not see each other.
import { describe, expect, it } from 'vitest';
import { KAFKA_BROKERS } from '../../../test/support/service-addresses.js';
import { END_OF_TIME, HEADER } from '../../control.js';
import { type Consumer, type IncomingMessage, TransactionError } from '../../transport.js';
import { createKafkaTransport, type KafkaTransport } from './kafka-transport.js';

const BROKERS = KAFKA_BROKERS.split(',');
const run = `t${Date.now().toString(36)}`;
let n = 0;
const prefix = () => `${run}.${n++}.`;
const logs: string[] = [];

async function transport(consumer?: 'kafkajs' | 'rdkafka'): Promise<KafkaTransport> {
  return createKafkaTransport({ brokers: BROKERS, topicPrefix: prefix(), consumer, log: (l) => logs.push(l) });
}

/** Deletes the test's topics (a broker keeps a few files open per partition), then closes. */
async function cleanup(t: KafkaTransport): Promise<void> {
  await t.deleteTopics(['q', 'a', 'b']).catch(() => {});
  await t.close();
}

/** Polls until `count` messages arrived (or `ms` passed). */
async function drain(c: Consumer, count: number, ms = 30_000): Promise<IncomingMessage[]> {
  const out: IncomingMessage[] = [];
  const until = Date.now() + ms;
  while (out.length < count && Date.now() < until) out.push(...(await c.poll(10_000, 500)));
  return out;
}

/** Partition/offset of each message, sorted: which records, whatever the order they came in. */
const ids = (ms: IncomingMessage[]) => ms.map((m) => `${m.partition}/${m.offset}`).sort();

/** librdkafka's statistics come once a second: lag follows the log and commits within a few. */
async function lagBecomes(c: Consumer, want: Record<string, number>): Promise<void> {
  let lag = await c.lag();
  for (let i = 0; i < 100 && JSON.stringify(lag) !== JSON.stringify(want); i++) {
    await new Promise((r) => setTimeout(r, 100));
    lag = await c.lag();
  }
  expect(lag).toEqual(want);
}

const DAY0 = Date.UTC(2015, 0, 2);
const keyed = (topic: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    topic,
    key: `SYM${i % 25}`,
    value: Buffer.from(`v${i}`),
    timestamp: DAY0 + i * 60_000,
    headers: { [HEADER.from]: 'test', [HEADER.sourceTime]: String(1_700_000_000_000 + i) },
  }));

/**
 * Both consumers of at-least-once nodes: the KafkaJS-style one (the default; exactly-once nodes
 * always) and librdkafka's consume(n) (`consumer: 'rdkafka'`).
 */
const CONSUMERS = [
  ['KafkaJS-style', 'kafkajs'],
  ['consume(n)', 'rdkafka'],
] as const;

describe('KafkaTransport (real broker)', () => {
  it.each(CONSUMERS)(
    'round-trips keyed records: one partition per key, explicit partitions, headers and event times (%s consumer)',
    async (_, consumer) => {
      const t = await transport(consumer);
      try {
        await t.ensureTopics([{ name: 'q', partitions: 3 }]);
        expect(t.partitions('q')).toBe(3);
        const c = await t.consumer({ group: 'g', topics: ['q'] });
        const p = await t.producer();
        await p.send(keyed('q', 300));
        // Control records: one per partition, null key and value, far-future event time.
        await p.send(
          [0, 1, 2].map((partition) => ({
            topic: 'q',
            partition,
            key: null,
            value: null,
            timestamp: END_OF_TIME,
            headers: { [HEADER.control]: 'eos' },
          })),
        );
        const got = await drain(c, 303);
        expect(got).toHaveLength(303);
        const data = got.filter((m) => m.value !== null);
        const partitionsOf = new Map<string, Set<number>>();
        for (const m of data) partitionsOf.set(m.key!, (partitionsOf.get(m.key!) ?? new Set()).add(m.partition));
        expect([...partitionsOf.values()].every((s) => s.size === 1)).toBe(true);
        expect(new Set(data.map((m) => m.partition)).size).toBeGreaterThan(1);
        // Per key, order is kept.
        const sym0 = data.filter((m) => m.key === 'SYM0').map((m) => Number(m.value!.toString().slice(1)));
        expect(sym0).toEqual([...sym0].sort((a, b) => a - b));
        expect(data.find((m) => m.value!.toString() === 'v7')).toMatchObject({
          key: 'SYM7',
          timestamp: DAY0 + 7 * 60_000,
          // Every header, not just the first (the client takes one header per object).
          headers: { [HEADER.from]: 'test', [HEADER.sourceTime]: String(1_700_000_000_007) },
        });
        const controls = got.filter((m) => m.headers[HEADER.control] === 'eos');
        expect(controls.map((m) => m.partition).sort()).toEqual([0, 1, 2]);
        expect(controls.every((m) => m.key === null && m.timestamp === END_OF_TIME)).toBe(true);
        await p.close();
        await c.close();
      } finally {
        await cleanup(t);
      }
    },
  );

  it.each(CONSUMERS)(
    'a restarted consumer resumes from the committed offset: nothing committed is re-read, nothing uncommitted lost (%s consumer)',
    async (_, consumer) => {
      const t = await transport(consumer);
      try {
        await t.ensureTopics([{ name: 'q', partitions: 2 }]);
        const p = await t.producer();
        await p.send(keyed('q', 400));
        const a = await t.consumer({ group: 'g', topics: ['q'] });
        const first = await drain(a, 1);
        await a.commit(); // the first poll's messages are done
        const second = await drain(a, 400 - first.length);
        expect(first.length + second.length).toBe(400);
        await a.close(); // crashed before committing the second part

        const b = await t.consumer({ group: 'g', topics: ['q'] });
        const again = await drain(b, second.length);
        expect(ids(again)).toEqual(ids(second));
        await b.commit();
        await b.close();
        await p.close();
      } finally {
        await cleanup(t);
      }
    },
  );

  // consume(n): statistics arrive only inside consume; before the first poll its keep-alive consumes.
  it.each(CONSUMERS)(
    'reports lag per topic: produced minus committed, from the consumer statistics (%s consumer)',
    async (_, consumer) => {
      const t = await transport(consumer);
      try {
        await t.ensureTopics([
          { name: 'a', partitions: 2 },
          { name: 'b', partitions: 1 },
        ]);
        const p = await t.producer();
        await p.send([...keyed('a', 50), ...keyed('b', 20)]);
        const c = await t.consumer({ group: 'g', topics: ['a', 'b'] });
        await lagBecomes(c, { a: 50, b: 20 });
        await drain(c, 70);
        await c.commit();
        await lagBecomes(c, { a: 0, b: 0 });
        await p.send(keyed('b', 5));
        await lagBecomes(c, { a: 0, b: 5 });
        await c.close();
        await p.close();
      } finally {
        await cleanup(t);
      }
    },
  );

  it('fails a send with the reason when the broker refuses a message: nothing is dropped silently', async () => {
    const t = await transport();
    try {
      const p = await t.producer();
      // Not created by ensureTopics: the broker auto-creates it with its defaults, which refuse
      // timestamps far in the future, so the broker itself rejects the message.
      const refused = [{ topic: 'plain', key: 'k', value: Buffer.from('x'), timestamp: END_OF_TIME }];
      await expect(p.send(refused)).rejects.toThrow(/1 messages not delivered: .*[Tt]imestamp/);
      // The producer keeps working for messages the broker takes.
      await p.send([{ topic: 'plain', key: 'k', value: Buffer.from('y'), timestamp: Date.now() }]);
      await p.close();
      await t.deleteTopics(['plain']);
    } finally {
      await cleanup(t);
    }
  });

  it('transactions: outputs and input offsets commit together, an aborted one is never read and rewinds, a newer producer fences the older', async () => {
    const t = await transport();
    try {
      await t.ensureTopics([
        { name: 'q', partitions: 2 },
        { name: 'a', partitions: 2 },
      ]);
      const p = await t.producer();
      await p.send(keyed('q', 100));
      // Transactional: its offsets go with a transaction (the KafkaJS-style consumer).
      const c = await t.consumer({ group: 'g', topics: ['q'], transactional: true });
      const x = await t.transactionalProducer('g');
      const polled = await drain(c, 100);
      const out = (label: string, count: number) =>
        keyed('a', count).map((m) => ({ ...m, value: Buffer.from(`${label}${m.value.toString()}`) }));

      const aborted = await x.transaction!();
      await aborted.send(out('aborted-', 30));
      await aborted.abort();
      c.rewind!(); // the input of the aborted transaction comes again
      const again = await drain(c, 100);
      expect(ids(again)).toEqual(ids(polled));
      expect(c.assignment!.generation).toBe(2); // the node treats it as a new assignment: state from the changelog

      const committed = await x.transaction!();
      await committed.send(out('committed-', 40));
      await committed.commit(c);
      // The offsets went with the transaction: lag drops to 0 although the consumer never committed.
      await lagBecomes(c, { q: 0 });
      await c.close();

      // read_committed: the aborted records come first in the log, and are skipped.
      const reader = await t.consumer({ group: 'reader', topics: ['a'] });
      const read = await drain(reader, 40);
      expect(read.map((m) => m.value!.toString().split('-')[0])).toEqual(Array(40).fill('committed'));
      await reader.close();
      // A restarted group member starts after the transaction's offsets: on each partition the
      // first record it reads is one sent after them.
      await p.send(
        [0, 1].map((partition) => ({ topic: 'q', partition, key: null, value: Buffer.from('after'), timestamp: DAY0 })),
      );
      const resumed = await t.consumer({ group: 'g', topics: ['q'], transactional: true });
      const next = await drain(resumed, 2);
      expect(next.map((m) => m.value!.toString())).toEqual(['after', 'after']);

      // Same transactional id (same node, same instance): the newer producer fences the older.
      const y = await t.transactionalProducer('g');
      // As the node does: a failed step is aborted; the abort of a fenced producer is fatal.
      const tx = await x.transaction!();
      const fenced = await (async () => {
        try {
          await tx.send(out('zombie-', 5));
          await tx.commit(resumed);
        } catch {
          await tx.abort();
        }
      })().then(
        () => null,
        (err: unknown) => err,
      );
      expect(fenced).toBeInstanceOf(TransactionError);
      expect((fenced as TransactionError).fatal).toBe(true);
      expect((fenced as TransactionError).message).toMatch(/fenced/i);
      await resumed.close();
      await y.close();
      await x.close().catch(() => {});
      await p.close();
    } finally {
      await cleanup(t);
    }
  });

  it('refuses an existing topic with other partition counts', async () => {
    const t = await transport();
    try {
      await t.ensureTopics([{ name: 'q', partitions: 2 }]);
      await expect(t.ensureTopics([{ name: 'q', partitions: 4 }])).rejects.toThrow(/exists with 2 partitions/);
    } finally {
      await cleanup(t);
    }
  });

  it('broker down at start: a clear error after bounded retries with backoff, no crash loop', async () => {
    const lines: string[] = [];
    const started = Date.now();
    const err = await createKafkaTransport({
      brokers: ['127.0.0.1:1'],
      connectAttempts: 3,
      retryMinMs: 100,
      retryMaxMs: 400,
      requestTimeoutMs: 1000,
      log: (l) => lines.push(l),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/no broker answered at 127\.0\.0\.1:1 after 3 attempts/);
    expect((err as Error).message).toMatch(/KAFKA_BROKERS/);
    // Every attempt really tried again (a failed client cannot reconnect: each gets a new one).
    expect(lines.join('\n')).not.toMatch(/already been called/);
    expect(lines.filter((l) => /not reachable \(attempt \d\/3\)/.test(l))).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
