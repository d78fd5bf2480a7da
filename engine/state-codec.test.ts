// Changelog values with and without a state codec: the JSON records of earlier versions still
// restore, framed (codec) records restore exactly (NaN included) with their timers, and a node
// restores both from one changelog. NodeTasks over stand-in consumers, so no broker.
import { describe, expect, it } from 'vitest';
import { type Quote, schemas } from '../schemas/index.js';
import { nodeTaskDeps } from '../test/support/node-task-deps.js';
import { HEADER } from './control.js';
import { defineOperator, definePipeline } from './index.js';
import { NodeTask } from './node-task.js';
import {
  avroStateCodec,
  CHANGELOG_FRAME,
  decodeChangelogEntry,
  encodeChangelogEntry,
  type StateCodec,
} from './state-codec.js';
import type { Consumer, IncomingMessage, OutgoingMessage, Producer } from './transport.js';

interface Last {
  count: number;
  /** The last price seen: NaN before any (JSON would write null). */
  price: number;
}

/** Two float64s: exact, where JSON would turn NaN into null. */
const lastCodec: StateCodec<Last> = {
  encode: (s) => new Uint8Array(new Float64Array([s.count, s.price]).buffer),
  decode: (bytes) => {
    const x = new Float64Array(new Uint8Array(bytes).buffer); // a copy: a Buffer's slice() is a view
    return { count: x[0]!, price: x[1]! };
  },
};

/** Counts quotes per symbol and keeps the last price; a timer 100 ms after each quote re-emits it. */
function lastOperator(codec?: StateCodec<Last>) {
  return defineOperator<Quote, { out: typeof schemas.Quote }, Last>({
    kind: 'transform',
    name: 'last',
    input: schemas.Quote,
    outputs: { out: schemas.Quote },
    state: { description: 'quotes seen and the last price per symbol', codec },
    process(r, ctx) {
      const s = ctx.state.get() ?? { count: 0, price: Number.NaN };
      ctx.state.set({ count: s.count + 1, price: r.value.price });
      ctx.setTimer(r.timestamp + 100);
    },
    onTimer(timer, ctx) {
      const s = ctx.state.get()!;
      ctx.emit('out', { ...quote(timer.key, timer.time), price: s.price, dayVolume: s.count }, { key: timer.key });
    },
  });
}

const quote = (symbol: string, ts: number, price = 100): Quote => ({
  symbol,
  ts,
  price,
  dayOpen: null,
  dayHigh: null,
  dayLow: null,
  dayVolume: null,
  source: 'replay',
});

function pipelineOf(codec?: StateCodec<Last>) {
  return definePipeline({
    name: 'state-codec',
    topics: {
      quotes: { schema: schemas.Quote, partitions: 2, external: true },
      out: { schema: schemas.Quote, partitions: 2 },
    },
    nodes: [{ id: 'last', operator: lastOperator(codec), reads: 'quotes', writes: { out: 'out' } }],
  });
}

/** A consumer fed by `feed` (records or watermarks); with `owned`, a group member owning those partitions. */
function standIn(owned?: number[]) {
  const queue: IncomingMessage[] = [];
  let offset = 0;
  const consumer: Consumer = {
    poll: async () => queue.splice(0),
    commit: async () => {},
    lag: async () => ({}),
    close: async () => {},
    ...(owned && {
      assignment: { generation: 1, owned: () => owned.map((partition) => ({ topic: 'quotes', partition })) },
    }),
  };
  const partitionOf = (symbol: string) => (symbol === 'AAPL' ? 0 : 1);
  const feed = (symbol: string, ts: number, price: number) => {
    const record = quote(symbol, ts, price);
    queue.push({
      topic: 'quotes',
      partition: partitionOf(symbol),
      offset: offset++,
      key: symbol,
      value: null,
      record,
      timestamp: ts,
      headers: {},
    });
  };
  const watermark = (time: number) => {
    for (const partition of [0, 1]) {
      queue.push({
        topic: 'quotes',
        partition,
        offset: offset++,
        key: null,
        value: null,
        timestamp: time,
        headers: { [HEADER.control]: 'watermark', [HEADER.from]: 'external', [HEADER.time]: String(time) },
      });
    }
  };
  return { consumer, feed, watermark };
}

function recorder(): Producer & { sent: OutgoingMessage[] } {
  const sent: OutgoingMessage[] = [];
  return { sent, send: async (m) => void sent.push(...m), close: async () => {} };
}

function task(
  codec: StateCodec<Last> | undefined,
  consumer: Consumer,
  producer: Producer,
  changelog: IncomingMessage[],
) {
  const changelogs = { topic: 'last-changelog', read: async () => changelog };
  return new NodeTask(nodeTaskDeps(pipelineOf(codec), 'last', { producer, consumer, changelog: changelogs }));
}

/** Sent changelog records as the restore reads them back. */
const incoming = (sent: readonly OutgoingMessage[]): IncomingMessage[] =>
  sent
    .filter((m) => m.topic === 'last-changelog')
    .map((m, offset) => ({ ...m, partition: m.partition!, offset, headers: {} }));

describe('avroStateCodec', () => {
  interface Waiting {
    closes: number[][];
    pending: Array<{ id: string; lower: number; rank: number | null }>;
  }
  const codec = avroStateCodec<Waiting>({
    type: 'record',
    name: 'Waiting',
    fields: [
      { name: 'closes', type: { type: 'array', items: { type: 'array', items: 'double' } } },
      {
        name: 'pending',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'Entry',
            fields: [
              { name: 'id', type: 'string' },
              { name: 'lower', type: 'double' },
              { name: 'rank', type: ['null', 'double'] },
            ],
          },
        },
      },
    ],
  });

  it('writes a state of records exactly (NaN and nulls too), in fewer bytes than JSON', () => {
    const state: Waiting = {
      closes: [[1_514_764_800_000, 171.25]],
      pending: [
        { id: 'AAPL:1', lower: Number.NaN, rank: null },
        { id: 'AAPL:5', lower: -0.02, rank: 0.3 },
      ],
    };
    const bytes = codec.encode(state);
    expect(bytes.length).toBeLessThan(JSON.stringify(state).length / 1.5);
    const back = codec.decode(new Uint8Array(bytes));
    expect(back.closes).toEqual(state.closes);
    expect(back.pending.map((p) => ({ ...p }))).toEqual(state.pending);
  });

  it('grows its buffer for a large state, and reads bytes at any offset of a larger buffer', () => {
    const state: Waiting = {
      closes: Array.from({ length: 64 }, (_, i) => [i * 86_400_000, 100 + i]),
      pending: Array.from({ length: 2000 }, (_, i) => ({ id: `SYM:${i}`, lower: i / 7, rank: i % 2 ? null : i })),
    };
    const bytes = codec.encode(state);
    const framed = Buffer.concat([Buffer.from([9, 9, 9]), bytes]);
    const back = codec.decode(framed.subarray(3));
    expect(back.pending).toHaveLength(2000);
    expect({ ...back.pending[1999]! }).toEqual(state.pending[1999]);
    expect(back.closes[63]).toEqual([63 * 86_400_000, 163]);
  });

  it('refuses a state written with another schema, saying so', () => {
    const other = avroStateCodec<{ closes: number[][] }>({
      type: 'record',
      name: 'Waiting',
      fields: [{ name: 'closes', type: { type: 'array', items: { type: 'array', items: 'double' } } }],
    });
    const bytes = Buffer.from(other.encode({ closes: [[1, 2]] }));
    expect(() => codec.decode(bytes)).toThrow(/Waiting written with another schema \(fingerprint [0-9a-f]{8}…/);
  });
});

describe('changelog values', () => {
  it('without a codec: the JSON of earlier versions, byte for byte', () => {
    const value = encodeChangelogEntry({ count: 2 }, [5, 7], undefined)!;
    expect(value.toString()).toBe('{"s":{"count":2},"t":[5,7]}');
    expect(encodeChangelogEntry(undefined, [5], undefined)!.toString()).toBe('{"t":[5]}');
    expect(encodeChangelogEntry(undefined, [], undefined)).toBeNull(); // tombstone
    expect(decodeChangelogEntry(value, undefined)).toEqual({ s: { count: 2 }, t: [5, 7] });
  });

  it('with a codec: a frame holding the timers and the codec’s bytes, exact', () => {
    const codec = lastCodec as StateCodec<unknown>;
    const value = encodeChangelogEntry({ count: 3, price: Number.NaN }, [1_000, -0, 8.64e15], codec)!;
    expect(value[0]).toBe(CHANGELOG_FRAME);
    expect(value.length).toBe(8 + 3 * 8 + 16);
    const entry = decodeChangelogEntry(value, codec);
    expect(entry.t).toEqual([1_000, -0, 8.64e15]);
    expect(Object.is(entry.t![1], -0)).toBe(true);
    expect(entry.s).toEqual({ count: 3, price: Number.NaN });
    expect(Object.is((entry.s as Last).price, Number.NaN)).toBe(true);
    // Timers without state, state without timers, and neither (a tombstone, as before).
    expect(decodeChangelogEntry(encodeChangelogEntry(undefined, [9], codec)!, codec)).toEqual({ t: [9] });
    expect(decodeChangelogEntry(encodeChangelogEntry({ count: 1, price: 2 }, [], codec)!, codec)).toEqual({
      s: { count: 1, price: 2 },
    });
    expect(encodeChangelogEntry(undefined, [], codec)).toBeNull();
  });

  it('with a codec, a JSON record written before the codec still reads; a frame without one is refused', () => {
    const codec = lastCodec as StateCodec<unknown>;
    const old = Buffer.from('{"s":{"count":4,"price":101},"t":[200]}');
    expect(decodeChangelogEntry(old, codec)).toEqual({ s: { count: 4, price: 101 }, t: [200] });
    const framed = encodeChangelogEntry({ count: 1, price: 2 }, [], codec)!;
    expect(() => decodeChangelogEntry(framed, undefined)).toThrow(/declares no state codec/);
    expect(() => decodeChangelogEntry(framed.subarray(0, 4), codec)).toThrow(/truncated/);
  });

  it('a node writes framed records and another restores them, and old JSON ones, with their timers', async () => {
    // The writer: AAPL (partition 0) twice, MSFT (partition 1) once; a timer pending for each.
    const w = standIn();
    const written = recorder();
    const writer = task(lastCodec, w.consumer, written, []);
    w.feed('AAPL', 1_000, 101.5);
    w.feed('AAPL', 1_010, 102.25);
    w.feed('MSFT', 1_005, 300);
    await writer.step(100, 0);
    const records = incoming(written.sent);
    expect(records.map((m) => m.key)).toEqual(['AAPL', 'MSFT']);
    expect(records.every((m) => m.value![0] === CHANGELOG_FRAME)).toBe(true);
    // A key written by the previous version, as JSON, in the same changelog.
    records.push({
      topic: 'last-changelog',
      partition: 1,
      offset: records.length,
      key: 'IBM',
      value: Buffer.from(JSON.stringify({ s: { count: 7, price: 50 }, t: [1_050] })),
      timestamp: 0,
      headers: {},
    });
    // The reader owns both partitions: a new assignment, so it restores before it processes.
    const r = standIn([0, 1]);
    const out = recorder();
    const reader = task(lastCodec, r.consumer, out, records);
    await reader.step(100, 0);
    expect(reader.state.get('AAPL')).toEqual({ count: 2, price: 102.25 });
    expect(reader.state.get('MSFT')).toEqual({ count: 1, price: 300 });
    expect(reader.state.get('IBM')).toEqual({ count: 7, price: 50 });
    // The restored timers fire: AAPL's two, MSFT's and IBM's.
    r.watermark(2_000);
    await reader.step(100, 0);
    const fired = out.sent
      .filter((m) => m.topic === 'out' && m.record !== undefined)
      .map((m) => `${m.key}@${m.timestamp}=${(m.record as Quote).price}×${(m.record as Quote).dayVolume}`)
      .sort();
    expect(fired).toEqual(['AAPL@1100=102.25×2', 'AAPL@1110=102.25×2', 'IBM@1050=50×7', 'MSFT@1105=300×1']);
  });

  it('a NaN in the state survives the codec (JSON would restore null)', async () => {
    const nan = encodeChangelogEntry({ count: 1, price: Number.NaN }, [1_100], lastCodec as StateCodec<unknown>)!;
    const r = standIn([0, 1]);
    const reader = task(lastCodec, r.consumer, recorder(), [
      { topic: 'last-changelog', partition: 0, offset: 0, key: 'AAPL', value: nan, timestamp: 0, headers: {} },
    ]);
    await reader.step(100, 0);
    expect(Object.is((reader.state.get('AAPL') as Last).price, Number.NaN)).toBe(true);
    const json = encodeChangelogEntry({ count: 1, price: Number.NaN }, [], undefined)!;
    expect(decodeChangelogEntry(json, undefined).s).toEqual({ count: 1, price: null });
  });

  it('without a codec, a node writes and restores JSON as before', async () => {
    const w = standIn();
    const written = recorder();
    const writer = task(undefined, w.consumer, written, []);
    w.feed('MSFT', 1_000, 42);
    await writer.step(100, 0);
    const records = incoming(written.sent);
    expect(records.map((m) => m.value!.toString())).toEqual(['{"s":{"count":1,"price":42},"t":[1100]}']);
    const r = standIn([0, 1]);
    const reader = task(undefined, r.consumer, recorder(), records);
    await reader.step(100, 0);
    expect(reader.state.get('MSFT')).toEqual({ count: 1, price: 42 });
  });
});
