// Exactly-once on a REAL broker (npm run services:up; KAFKA_BROKERS): one stateful Kafka→Kafka
// node (test/services/exactly-once-node.ts, a child process) is killed right after a batch of
// outputs was acknowledged and before its input offsets were committed, then restarted. A
// read_committed reader must then see every output exactly once (count + SHA-256), with the
// state carried across the kill; the same fault in at-least-once mode duplicates, side by side.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { controlMessages, EXTERNAL_PRODUCER, HEADER } from '../../engine/control.js';
import { avroSerde } from '../../engine/serde.js';
import type { OutgoingMessage } from '../../engine/transport.js';
import { createKafkaTransport, type KafkaTransport } from '../../engine/transports/kafka/kafka-transport.js';
import { type Quote, schemas } from '../../schemas/index.js';
import { KAFKA_BROKERS } from '../support/service-addresses.js';

const run = `eos${Date.now().toString(36)}`;
const SYMBOLS = 20;
const TICKS = 30; // 600 quotes over 3 partitions; the node takes 50 per batch
const DAY0 = Date.UTC(2017, 0, 2);

function quotes(): Quote[] {
  const out: Quote[] = [];
  for (let t = 0; t < TICKS; t++) {
    for (let s = 0; s < SYMBOLS; s++) {
      out.push({
        symbol: `S${s}`,
        ts: DAY0 + t * 86_400_000,
        price: 100 + s + t / 100,
        dayOpen: null,
        dayHigh: null,
        dayLow: null,
        dayVolume: null,
        source: 'simulator',
      });
    }
  }
  return out;
}

/** What every output must be, exactly once: the n-th quote of each symbol carries n. */
function checksum(records: ReadonlyArray<Pick<Quote, 'symbol' | 'ts' | 'price' | 'dayVolume'>>): string {
  const lines = records.map((q) => `${q.symbol}|${q.ts}|${q.price}|${q.dayVolume}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
const expected = quotes().map((q) => ({ ...q, dayVolume: Math.round((q.ts - DAY0) / 86_400_000) + 1 }));
/** Through the chain count → recount: n × 1000 + m, and m = n when each quote counted once. */
const expectedChained = expected.map((q) => ({ ...q, dayVolume: q.dayVolume * 1001 }));
const TOPICS = ['in', 'out', 'in.dlq', 'out.dlq', 'mid.dlq', 'eos.count-changelog', 'eos.recount-changelog'];

async function transportFor(prefix: string): Promise<KafkaTransport> {
  return createKafkaTransport({ brokers: KAFKA_BROKERS.split(','), topicPrefix: prefix, log: () => {} });
}

/** Writes the input (keyed quotes, then end-of-stream on every partition) with a plain producer. */
async function writeInput(t: KafkaTransport): Promise<void> {
  await t.ensureTopics([
    { name: 'in', partitions: 3 },
    { name: 'out', partitions: 3 },
  ]);
  const p = await t.producer();
  const data: OutgoingMessage[] = quotes().map((q) => ({
    topic: 'in',
    key: q.symbol,
    value: avroSerde.encode('in', schemas.Quote, q),
    timestamp: q.ts,
  }));
  await p.send(data);
  await p.send(controlMessages('in', 3, { type: 'eos' }, EXTERNAL_PRODUCER));
  await p.close();
}

/** Runs the fixture node to its end (or its self-inflicted SIGKILL); its exit and stderr. */
function node(
  prefix: string,
  env: Record<string, string>,
): Promise<{ code: number | null; signal: string | null; log: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/services/exactly-once-node.ts'], {
      env: { ...process.env, KAFKA_BROKERS, EOS_PREFIX: prefix, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, log }));
  });
}

/** Everything a read_committed reader sees on `out` until end-of-stream on every partition. */
async function readOutput(t: KafkaTransport): Promise<Quote[]> {
  const c = await t.consumer({ group: `reader-${Date.now()}`, topics: ['out'] });
  const out: Quote[] = [];
  const ended = new Set<number>();
  try {
    while (ended.size < 3) {
      for (const m of await c.poll(10_000, 500)) {
        if (m.headers[HEADER.control] === 'eos') ended.add(m.partition);
        else if (m.headers[HEADER.control] === undefined && m.value)
          out.push(avroSerde.decode('out', schemas.Quote, m.value));
      }
    }
  } finally {
    await c.close();
  }
  return out;
}

async function killedThenRestarted(
  mode: 'exactly-once' | 'at-least-once',
  successor: Record<string, string> = {},
): Promise<{ out: Quote[]; logs: string }> {
  const prefix = `${run}.${mode}${successor.EOS_INSTANCE ?? ''}${successor.EOS_CHAIN ? 'chain' : ''}.`;
  const t = await transportFor(prefix);
  try {
    await writeInput(t);
    const first = await node(prefix, {
      EOS_MODE: mode,
      EOS_KILL_AFTER: '3',
      ...(successor.EOS_CHAIN ? { EOS_CHAIN: '1' } : {}),
    });
    expect(first.signal, first.log).toBe('SIGKILL');
    expect(first.log).toContain('fixture: outputs acknowledged (3)');
    const second = await node(prefix, { EOS_MODE: mode, ...successor });
    expect(second.code, second.log).toBe(0);
    const out = await readOutput(t);
    await t.deleteTopics(TOPICS);
    return { out, logs: first.log + second.log };
  } finally {
    await t.close();
  }
}

/** `tickcast run` as a user starts it; its exit code and stderr. */
function tickcast(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/tickcast.js', 'run'], {
      env: { ...process.env, TICKCAST_PORT: '0', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('exactly-once Kafka→Kafka (real broker)', () => {
  it('tickcast refuses exactly-once for a sink or an unknown node: exit 2, one reason per node', async () => {
    const db = `${tmpdir()}/${run}-cli.duckdb`;
    const r = await tickcast({
      TICKCAST_TRANSPORT: 'kafka',
      TICKCAST_ROLE: 'worker',
      KAFKA_BROKERS,
      KAFKA_TOPIC_PREFIX: `${run}.cli.`,
      KAFKA_EXACTLY_ONCE: 'bars,store-predictions,nope',
      TICKCAST_DB: db,
      TICKCAST_EXPLAIN: 'off',
    });
    for (const f of [db, `${db}.wal`]) rmSync(f, { force: true });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      'KAFKA_EXACTLY_ONCE="bars,store-predictions,nope": store-predictions: a sink does not read and write Kafka topics',
    );
    expect(r.stderr).toContain(
      'KAFKA_EXACTLY_ONCE="bars,store-predictions,nope": nope: no such node (nodes: market-data, bars,',
    );
  });

  it('a node killed mid-transaction and restarted: a read_committed reader sees every output exactly once', async () => {
    const { out, logs } = await killedThenRestarted('exactly-once');
    expect(out.length, logs).toBe(expected.length);
    expect(checksum(out)).toBe(checksum(expected));
    // The state (the per-symbol count) crossed the kill through the transactional changelog.
    expect(logs).toMatch(/count: restored [1-9]\d* keys/);
  });

  it('a node killed mid-transaction and replaced by another instance (another transactional id): its transaction times out, still exactly once', async () => {
    // Nobody aborts the dead producer's transaction: the broker does after transaction.timeout.ms
    // (10 s in the fixture), and until then the successor's read_committed changelog restore waits at the open
    // transaction instead of reading past it.
    const { out, logs } = await killedThenRestarted('exactly-once', { EOS_INSTANCE: 'successor' });
    expect(out.length, logs).toBe(expected.length);
    expect(checksum(out)).toBe(checksum(expected));
    expect(logs).toMatch(/count: restored [1-9]\d* keys/);
  });

  it('control: the same kill in at-least-once mode delivers the killed batch twice', async () => {
    const { out } = await killedThenRestarted('at-least-once');
    expect(out.length).toBeGreaterThan(expected.length);
    expect(checksum(out)).not.toBe(checksum(expected));
  });

  it('a transaction that fails before commit is aborted, its input re-read onto the restored state: still exactly once', async () => {
    const prefix = `${run}.abort.`;
    const t = await transportFor(prefix);
    try {
      await writeInput(t);
      const r = await node(prefix, { EOS_MODE: 'exactly-once', EOS_FAIL_COMMIT: '3' });
      expect(r.code, r.log).toBe(0);
      expect(r.log).toContain(
        'count: transaction aborted (fixture: injected failure before commit); reading its input again',
      );
      const out = await readOutput(t);
      expect(out.length, r.log).toBe(expected.length);
      expect(checksum(out)).toBe(checksum(expected));
      await t.deleteTopics(TOPICS);
    } finally {
      await t.close();
    }
  });

  it('a chain of two stateful nodes (mid in-process) killed mid-transaction and restarted: exactly once, both states restored', async () => {
    const { out, logs } = await killedThenRestarted('exactly-once', { EOS_CHAIN: '1' });
    expect(out.length, logs).toBe(expectedChained.length);
    expect(checksum(out)).toBe(checksum(expectedChained));
    expect(logs).toMatch(/count: restored [1-9]\d* keys/);
    expect(logs).toMatch(/recount: restored [1-9]\d* keys/);
  });

  it('control: the same kill of the chain in at-least-once mode delivers the killed batch twice', async () => {
    const { out } = await killedThenRestarted('at-least-once', { EOS_CHAIN: '1' });
    expect(out.length).toBeGreaterThan(expectedChained.length);
  });

  it("a chain's transaction that fails before commit is aborted, every node's state restored: still exactly once", async () => {
    const prefix = `${run}.abortchain.`;
    const t = await transportFor(prefix);
    try {
      await writeInput(t);
      const r = await node(prefix, { EOS_MODE: 'exactly-once', EOS_FAIL_COMMIT: '3', EOS_CHAIN: '1' });
      expect(r.code, r.log).toBe(0);
      expect(r.log).toContain(
        'chain count: transaction aborted (fixture: injected failure before commit); reading its input again',
      );
      expect(r.log).toMatch(/recount: restored \d+ keys/);
      const out = await readOutput(t);
      expect(out.length, r.log).toBe(expectedChained.length);
      expect(checksum(out)).toBe(checksum(expectedChained));
      await t.deleteTopics(TOPICS);
    } finally {
      await t.close();
    }
  });
});
