// The engine by example: define operators, wire them into a pipeline, drive it with the
// TestDriver, and run it for real on the memory transport.
import { describe, expect, it, vi } from 'vitest';
import { type Bar, type Quote, schemas } from '../schemas/index.js';
import {
  defineOperator,
  definePipeline,
  type KeyedState,
  MemoryTransport,
  PipelineError,
  RecordError,
  runPipeline,
  TestDriver,
} from './index.js';
import { exactlyOnceNodes } from './runner.js';
import type { Transport } from './transport.js';

const DAY = 86_400_000;
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const quote = (symbol: string, iso: string, price: number): Quote => ({
  symbol,
  ts: day(iso) + 20 * 3_600_000,
  price,
  dayOpen: null,
  dayHigh: null,
  dayLow: null,
  dayVolume: 100,
  source: 'test',
});

/** A one-quote bar at the quote's price; `over` changes fields. */
const flatBar = (q: Quote, over: Partial<Bar> = {}): Bar => ({
  symbol: q.symbol,
  ts: q.ts,
  interval: '1d',
  open: q.price,
  high: q.price,
  low: q.price,
  close: q.price,
  volume: 0,
  quotes: 1,
  source: 't',
  ...over,
});

// A tiny daily-bar operator: keyed state per symbol, a timer per window.
interface Window {
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quotes: number;
}
const dailyBars = defineOperator<Quote, { bars: typeof schemas.Bar }, Window>({
  kind: 'transform',
  name: 'daily-bars',
  input: schemas.Quote,
  outputs: { bars: schemas.Bar },
  state: { description: 'the open window per symbol' },
  process(r, ctx) {
    const start = Math.floor(r.value.ts / DAY) * DAY;
    if (start + DAY <= ctx.watermark) throw new RecordError(`late: window ${start} already closed`, 'late');
    const w = ctx.state.get();
    const p = r.value.price;
    if (!w) {
      ctx.state.set({ start, open: p, high: p, low: p, close: p, volume: r.value.dayVolume ?? 0, quotes: 1 });
      ctx.setTimer(start + DAY);
      return;
    }
    ctx.state.set({
      ...w,
      high: Math.max(w.high, p),
      low: Math.min(w.low, p),
      close: p,
      volume: w.volume + (r.value.dayVolume ?? 0),
      quotes: w.quotes + 1,
    });
  },
  onTimer(timer, ctx) {
    const w = ctx.state.get();
    if (!w) return;
    ctx.emit('bars', { symbol: timer.key, ts: w.start, interval: '1d', ...w, source: 'test' }, { timestamp: w.start });
    ctx.state.delete();
  },
});

const collected: Bar[] = [];
const collect = defineOperator<Bar>({
  kind: 'sink',
  name: 'collect',
  input: schemas.Bar,
  async write(records) {
    collected.push(...records.map((r) => r.value));
  },
});

function barsPipeline() {
  return definePipeline({
    name: 'bars-example',
    topics: {
      quotes: { schema: schemas.Quote, partitions: 2, external: true },
      bars: { schema: schemas.Bar, partitions: 2 },
    },
    nodes: [
      { id: 'bars', operator: dailyBars, reads: 'quotes', writes: { bars: 'bars' } },
      { id: 'collect', operator: collect, reads: 'bars' },
    ],
  });
}

describe('definePipeline', () => {
  it('describes the DAG as JSON and Mermaid', () => {
    const p = barsPipeline();
    const d = p.describe();
    expect(d.nodes.map((n) => n.id)).toEqual(['bars', 'collect']);
    expect(d.edges).toEqual([{ from: 'bars', to: 'collect', topic: 'bars' }]);
    expect(d.topics.find((t) => t.name === 'quotes')).toMatchObject({ external: true, deadLetterTopic: 'quotes.dlq' });
    expect(p.mermaid({ chains: false })).toContain('n_bars -->|bars| t_bars');
    // Chained, the sink writes in the transform's step: `bars` is handed on in-process.
    expect(p.chains).toEqual([{ head: 'bars', nodes: ['bars', 'collect'], local: ['bars'], fused: ['bars'] }]);
    expect(p.mermaid()).toContain('subgraph chain_0["chain: bars → collect"]');
  });

  const invalid =
    (nodes: Parameters<typeof definePipeline>[0]['nodes'], topics = {}) =>
    () =>
      definePipeline({
        name: 'bad',
        topics: { quotes: { schema: schemas.Quote }, bars: { schema: schemas.Bar }, ...topics },
        nodes,
      });

  it('rejects a topic that nobody produces and is not external', () => {
    expect(invalid([{ id: 'bars', operator: dailyBars, reads: 'quotes', writes: { bars: 'bars' } }])).toThrow(
      /topic quotes: no node writes it and it is not declared external/,
    );
  });

  it('rejects duplicate node ids', () => {
    expect(
      invalid([
        { id: 'x', operator: dailyBars, reads: 'quotes', writes: { bars: 'bars' } },
        { id: 'x', operator: collect, reads: 'bars' },
      ]),
    ).toThrow(/node x: duplicate node id/);
  });

  it('rejects an operator whose schema does not match the topic, naming node and topic', () => {
    expect(
      invalid([{ id: 'store', operator: collect, reads: 'quotes' }], {
        quotes: { schema: schemas.Quote, external: true },
      }),
    ).toThrow(/node store \(operator collect\): expects tickcast.Bar but topic quotes carries tickcast.Quote/);
  });

  it('rejects a cycle', () => {
    const echo = defineOperator<Bar, { out: typeof schemas.Bar }>({
      kind: 'transform',
      name: 'echo',
      input: schemas.Bar,
      outputs: { out: schemas.Bar },
      process: (r, ctx) => ctx.emit('out', r.value),
    });
    const err = (() => {
      try {
        invalid(
          [
            { id: 'a', operator: echo, reads: 'bars', writes: { out: 'b2' } },
            { id: 'b', operator: echo, reads: 'b2', writes: { out: 'bars' } },
          ],
          { b2: { schema: schemas.Bar } },
        )();
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PipelineError);
    expect((err as PipelineError).problems.join('\n')).toMatch(/cycle through nodes a, b/);
  });

  it('fails a node whose operator keeps state it does not declare, saying what to add', async () => {
    // Without `state: { … }` there would be no changelog on Kafka: a worker taking over the
    // partitions would start from empty state. The type refuses it (S without `state`)…
    // @ts-expect-error a state type (number) needs a `state` declaration
    defineOperator<Bar, { bars: typeof schemas.Bar }, number>({
      kind: 'transform',
      name: 'undeclared',
      input: schemas.Bar,
      outputs: { bars: schemas.Bar },
      process: (_r, ctx) => ctx.state.set(1),
    });
    // …and at run time, so does the engine (e.g. an operator written in JavaScript).
    const sneaky = defineOperator<Bar, { bars: typeof schemas.Bar }>({
      kind: 'transform',
      name: 'sneaky-counter',
      input: schemas.Bar,
      outputs: { bars: schemas.Bar },
      process: (r, ctx) => {
        (ctx.state as unknown as KeyedState<number>).set(1);
        ctx.emit('bars', r.value);
      },
    });
    const d = await TestDriver.forOperator(sneaky);
    await d.pipe('input', flatBar(quote('AAPL', '2017-03-01', 1)));
    await expect(d.run()).rejects.toThrow(
      /node sneaky-counter \(operator sneaky-counter\) keeps keyed state \(ctx\.state\) but declares none: add `state: \{ description/,
    );
    expect(d.deadLetters('input')).toEqual([]);
  });

  it('refuses state keyed across partitions (stateKey) on co-partitioned topics, which would split it', () => {
    const perInterval = defineOperator<Bar, { bars: typeof schemas.Bar }, number>({
      kind: 'transform',
      name: 'per-interval',
      input: schemas.Bar,
      outputs: { bars: schemas.Bar },
      state: { description: 'bars seen per interval' },
      stateKey: (b) => b.interval,
      process: (_r, ctx) => ctx.state.set((ctx.state.get() ?? 0) + 1),
    });
    const decl = (out: number) =>
      definePipeline({
        name: 'keyed',
        topics: {
          a: { schema: schemas.Bar, partitions: 4, external: true },
          b: { schema: schemas.Bar, partitions: out },
        },
        nodes: [{ id: 'count', operator: perInterval, reads: 'a', writes: { bars: 'b' } }],
      });
    expect(() => decl(4)).toThrow(/state is keyed across partitions \(stateKey\)/);
    expect(() => decl(1)).not.toThrow();
  });

  it('lets only a sink read in every process', () => {
    expect(
      invalid([{ id: 'bars', operator: dailyBars, reads: 'quotes', writes: { bars: 'bars' }, everyProcess: true }]),
    ).toThrow(/node bars \(operator daily-bars\): only a sink can read in every process/);
  });

  it('rejects unwired ports and unknown topics', () => {
    expect(invalid([{ id: 'bars', operator: dailyBars, reads: 'nope', writes: {} }])).toThrow(
      /reads topic nope, which is not declared[\s\S]*output port bars is not wired/,
    );
  });
});

describe('TestDriver', () => {
  it('closes windows when the watermark passes, one bar per symbol and day', async () => {
    const d = await TestDriver.create(barsPipeline());
    collected.length = 0;
    await d.pipe('quotes', [
      quote('AAPL', '2017-03-01', 139.8),
      quote('AAPL', '2017-03-01', 140.2),
      quote('MSFT', '2017-03-01', 64.9),
    ]);
    await d.run();
    expect(d.read('bars')).toEqual([]); // the day is not over yet
    expect(d.state('bars').get('AAPL')).toMatchObject({ quotes: 2, high: 140.2 });

    await d.advanceWatermark('quotes', day('2017-03-02'));
    const bars = d.read<Bar>('bars').sort((a, b) => a.symbol.localeCompare(b.symbol));
    expect(bars.map((b) => [b.symbol, b.open, b.high, b.low, b.close, b.quotes])).toEqual([
      ['AAPL', 139.8, 140.2, 139.8, 140.2, 2],
      ['MSFT', 64.9, 64.9, 64.9, 64.9, 1],
    ]);
    expect(collected).toHaveLength(2);
    expect(d.state('bars').size).toBe(0);
  });

  it('sends late records, undecodable bytes and invalid values to the DLQ and keeps going', async () => {
    const d = await TestDriver.create(barsPipeline());
    await d.pipe('quotes', quote('AAPL', '2017-03-01', 139.8));
    await d.advanceWatermark('quotes', day('2017-03-02'));
    await d.pipe('quotes', quote('AAPL', '2017-03-01', 141)); // late: its window is closed
    await d.pipeRaw('quotes', Buffer.from('not avro'), { key: 'AAPL' });
    // Written by an outside producer with valid Avro but a negative price.
    await d.pipeRaw('quotes', schemas.Quote.type.toBuffer({ ...quote('MSFT', '2017-03-02', 1), price: -1 }));
    await d.pipe('quotes', quote('AAPL', '2017-03-02', 140.5));
    await d.advanceWatermark('quotes', day('2017-03-03'));

    // Dead letters of one batch are not ordered across partitions: sort them by kind.
    const dlq = d
      .deadLetters('quotes')
      .sort(
        (a, b) => ['late', 'decode', 'validation'].indexOf(a.kind) - ['late', 'decode', 'validation'].indexOf(b.kind),
      );
    expect(dlq.map((l) => l.kind)).toEqual(['late', 'decode', 'validation']);
    expect(dlq[0]!.reason).toMatch(/late: window/);
    expect(dlq[1]!.reason).toMatch(/cannot decode as tickcast.Quote/);
    expect(dlq[1]!.payload.toString()).toBe('not avro');
    expect(dlq[2]!.reason).toMatch(/price: -1 must be a finite price > 0/);
    expect(d.read<Bar>('bars').map((b) => b.close)).toEqual([139.8, 140.5]);
    expect(d.metrics.node('bars').deadLetters).toBe(3);
  });

  it('dead-letters a record whose processing throws, without its partial outputs', async () => {
    const picky = defineOperator<Quote, { bars: typeof schemas.Bar }>({
      kind: 'transform',
      name: 'picky',
      input: schemas.Quote,
      outputs: { bars: schemas.Bar },
      process(r, ctx) {
        ctx.emit('bars', flatBar(r.value));
        if (r.value.symbol === 'BAD') throw new Error('cannot handle BAD');
      },
    });
    const d = await TestDriver.forOperator(picky);
    await d.pipe('input', [
      quote('AAPL', '2017-03-01', 1),
      quote('BAD', '2017-03-01', 2),
      quote('MSFT', '2017-03-01', 3),
    ]);
    await d.run();
    expect(d.read<Bar>('bars').map((b) => b.symbol)).toEqual(['AAPL', 'MSFT']);
    expect(d.deadLetters('input')).toMatchObject([{ kind: 'processing', reason: 'cannot handle BAD', key: 'BAD' }]);
  });

  it('dead-letters an invalid output record on the output topic', async () => {
    const broken = defineOperator<Quote, { bars: typeof schemas.Bar }>({
      kind: 'transform',
      name: 'broken',
      input: schemas.Quote,
      outputs: { bars: schemas.Bar },
      process(r, ctx) {
        ctx.emit('bars', flatBar(r.value, { open: 1, high: 1, low: 2, close: 1 }));
      },
    });
    const d = await TestDriver.forOperator(broken);
    await d.pipe('input', quote('AAPL', '2017-03-01', 1));
    await d.run();
    expect(d.read('bars')).toEqual([]);
    expect(d.deadLetters('bars')[0]!.reason).toMatch(/broken produced an invalid tickcast.Bar: high 1 < low 2/);
  });

  it('dead-letters an invalid record piped in, as the engine would its producer', async () => {
    const toBar = defineOperator<Quote, { bars: typeof schemas.Bar }>({
      kind: 'transform',
      name: 'to-bar',
      input: schemas.Quote,
      outputs: { bars: schemas.Bar },
      process: (r, ctx) => ctx.emit('bars', flatBar(r.value)),
    });
    const d = await TestDriver.forOperator(toBar);
    await d.pipe('input', [quote('AAPL', '2017-03-01', 1), { ...quote('MSFT', '2017-03-01', 2), price: -2 }]);
    await d.run();
    expect(d.read<Bar>('bars').map((b) => b.symbol)).toEqual(['AAPL']);
    expect(d.deadLetters('input')).toMatchObject([{ kind: 'validation', key: 'MSFT' }]);
    expect(d.deadLetters('input')[0]!.reason).toMatch(/invalid tickcast.Quote/);
  });

  it('isolates a record a sink rejects and writes the rest', async () => {
    const written: string[] = [];
    const sink = defineOperator<Quote>({
      kind: 'sink',
      name: 'strict-sink',
      input: schemas.Quote,
      async write(records) {
        if (records.some((r) => r.value.symbol === 'NOPE')) throw new RecordError('store refuses NOPE');
        written.push(...records.map((r) => r.value.symbol));
      },
    });
    const d = await TestDriver.forOperator(sink);
    await d.pipe(
      'input',
      ['A', 'B', 'NOPE', 'C'].map((s) => quote(s, '2017-03-01', 1)),
    );
    await d.run();
    expect(written.sort()).toEqual(['A', 'B', 'C']);
    expect(d.deadLetters('input').map((l) => l.key)).toEqual(['NOPE']);
  });

  it('retries a sink that fails transiently, losing nothing', async () => {
    let failures = 2;
    const written: string[] = [];
    const flaky = defineOperator<Quote>({
      kind: 'sink',
      name: 'flaky',
      input: schemas.Quote,
      retry: { minDelayMs: 1, maxDelayMs: 2 },
      async write(records) {
        if (failures-- > 0) throw new Error('connection reset');
        written.push(...records.map((r) => r.value.symbol));
      },
    });
    const d = await TestDriver.forOperator(flaky);
    await d.pipe('input', [quote('A', '2017-03-01', 1), quote('B', '2017-03-01', 1)]);
    await d.run();
    expect(written).toEqual(['A', 'B']);
    expect(d.logs().filter((l) => l.includes('connection reset'))).toHaveLength(2);
  });
});

describe('MemoryTransport', () => {
  it('partitions by key, keeps per-group offsets, and applies backpressure', async () => {
    const t = new MemoryTransport({ capacity: 2 });
    await t.ensureTopics([{ name: 'q', partitions: 2 }]);
    const producer = await t.producer();
    const a = await t.consumer({ group: 'a', topics: ['q'] });
    const b = await t.consumer({ group: 'b', topics: ['q'] });
    const msg = (key: string) => ({ topic: 'q', key, value: Buffer.from(key), timestamp: 1 });

    await producer.send([msg('AAPL'), msg('AAPL')]);
    let sent = false;
    const blocked = producer.send([msg('AAPL')]).then(() => {
      sent = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false); // 3 uncommitted records in AAPL's partition > capacity 2

    const got = await a.poll(10, 0);
    expect(got.map((m) => m.offset)).toEqual([0, 1, 2]);
    expect(new Set(got.map((m) => m.partition)).size).toBe(1);
    await a.commit();
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false); // group b has not read them yet
    await b.poll(10, 0);
    await b.commit();
    await blocked;
    expect(sent).toBe(true);
    expect(await a.lag()).toEqual({ q: 0 });
  });
});

describe('runPipeline', () => {
  it('runs a bounded source to the end and reports per-node metrics', async () => {
    const days = ['2017-03-01', '2017-03-02', '2017-03-03'];
    const source = defineOperator({
      kind: 'source',
      name: 'three-days',
      outputs: { quotes: schemas.Quote },
      async run(ctx) {
        for (const [i, iso] of days.entries()) {
          for (const s of ['AAPL', 'MSFT', 'XOM'])
            await ctx.emit('quotes', quote(s, iso, 100 + i), { timestamp: day(iso) });
          await ctx.watermark(day(iso) + DAY);
          ctx.progress(i + 1, days.length);
        }
      },
    });
    collected.length = 0;
    const pipeline = definePipeline({
      name: 'run-example',
      topics: { quotes: { schema: schemas.Quote, partitions: 3 }, bars: { schema: schemas.Bar, partitions: 2 } },
      nodes: [
        { id: 'source', operator: source, writes: { quotes: 'quotes' } },
        { id: 'bars', operator: dailyBars, reads: 'quotes', writes: { bars: 'bars' } },
        { id: 'collect', operator: collect, reads: 'bars' },
      ],
    });
    const running = await runPipeline(pipeline, { pollTimeoutMs: 20 });
    const summary = await running.done;
    expect(collected).toHaveLength(9);
    expect(summary.nodes.find((n) => n.node === 'bars')).toMatchObject({
      recordsIn: 9,
      recordsOut: 9,
      status: 'ended',
    });
    expect(running.sources()).toEqual([{ node: 'source', done: 3, total: 3 }]);
    const text = await running.metrics.registry.metrics();
    expect(text).toContain('tickcast_records_in_total{node="collect"} 9');
    expect(text).toContain('tickcast_event_to_sink_seconds_count{node="collect"}');
  });

  it('a failing node stops the run, and every producer and consumer is closed', async () => {
    const opened = { producers: 0, consumers: 0 };
    const closed = { producers: 0, consumers: 0 };
    // The memory transport, counting what it opens and what is closed.
    const memory = new MemoryTransport();
    const transport: Transport = {
      kind: memory.kind,
      inProcess: memory.inProcess,
      ensureTopics: (t) => memory.ensureTopics(t),
      partitions: (t) => memory.partitions(t),
      producer: async () => {
        const p = await memory.producer();
        opened.producers++;
        return { send: (m) => p.send(m), close: async () => void closed.producers++ };
      },
      consumer: async (o) => {
        const c = await memory.consumer(o);
        opened.consumers++;
        return Object.assign(Object.create(c) as typeof c, {
          close: async () => {
            closed.consumers++;
            await c.close();
          },
        });
      },
      releaseProducers: () => memory.releaseProducers(),
      close: () => memory.close(),
    };
    const source = defineOperator({
      kind: 'source',
      name: 'quotes',
      outputs: { quotes: schemas.Quote },
      async run(ctx) {
        await ctx.emit('quotes', quote('AAPL', '2017-03-01', 1), { timestamp: day('2017-03-01') });
      },
    });
    const broken = defineOperator<Quote>({
      kind: 'sink',
      name: 'broken-store',
      input: schemas.Quote,
      // Not a RecordError and not transient: the node fails (after its retries).
      write: async () => {
        throw new TypeError('the store is gone');
      },
    });
    const pipeline = definePipeline({
      name: 'failing',
      topics: { quotes: { schema: schemas.Quote, partitions: 1 } },
      nodes: [
        { id: 'source', operator: source, writes: { quotes: 'quotes' } },
        { id: 'store', operator: broken, reads: 'quotes' },
      ],
    });
    const running = await runPipeline(pipeline, { transport, pollTimeoutMs: 20 });
    await expect(running.done).rejects.toThrow(/node store failed/);
    expect(opened.consumers).toBeGreaterThan(0);
    expect(closed).toEqual(opened);
  });

  it('caps a node at its maxBatch, and waits lingerMs between its batches', async () => {
    const sizes: number[] = [];
    const times: number[] = [];
    const source = defineOperator({
      kind: 'source',
      name: 'ten-quotes',
      outputs: { quotes: schemas.Quote },
      async run(ctx) {
        for (let i = 0; i < 10; i++)
          await ctx.emit('quotes', quote('AAPL', '2017-03-01', 100 + i), { timestamp: day('2017-03-01') });
      },
    });
    const counting = defineOperator<Quote, { quotes: typeof schemas.Quote }>({
      kind: 'transform',
      name: 'counting',
      input: schemas.Quote,
      outputs: { quotes: schemas.Quote },
      maxBatch: 3,
      lingerMs: 30,
      processBatch(records) {
        sizes.push(records.length);
        times.push(performance.now());
      },
    });
    const pipeline = definePipeline({
      name: 'batches',
      topics: { quotes: { schema: schemas.Quote, partitions: 1 }, out: { schema: schemas.Quote, partitions: 1 } },
      nodes: [
        { id: 'source', operator: source, writes: { quotes: 'quotes' } },
        { id: 'counting', operator: counting, reads: 'quotes', writes: { quotes: 'out' } },
      ],
    });
    await (await runPipeline(pipeline, { pollTimeoutMs: 20 })).done;
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    // Lower bound only: the gap between two batches is at least the linger.
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(29);
  });

  it('stops promptly even while the source is blocked by backpressure', async () => {
    // An endless source into a tiny partition, read by a sink that never finishes a write: the source
    // ends up waiting for room. stop() must still return (Ctrl-C on `npm start` at full speed).
    let emitted = 0;
    const endless = defineOperator({
      kind: 'source',
      name: 'endless',
      outputs: { quotes: schemas.Quote },
      async run(ctx) {
        for (let i = 0; !ctx.signal.aborted; i++) {
          await ctx.emit('quotes', quote(`S${i % 50}`, '2017-03-01', 1), { timestamp: day('2017-03-01') });
          emitted++;
        }
      },
    });
    let release: () => void = () => {};
    const stuck = defineOperator<Quote>({
      kind: 'sink',
      name: 'stuck',
      input: schemas.Quote,
      write: () => new Promise<void>((resolve) => (release = resolve)),
    });
    const running = await runPipeline(
      definePipeline({
        name: 'blocked',
        topics: { quotes: { schema: schemas.Quote, partitions: 1 } },
        nodes: [
          { id: 'source', operator: endless, writes: { quotes: 'quotes' } },
          { id: 'stuck', operator: stuck, reads: 'quotes' },
        ],
      }),
      { transport: new MemoryTransport({ capacity: 10 }), pollTimeoutMs: 20, batchSize: 5 },
    );
    // Wait until the source is parked on the full partition: more than its capacity (10) is
    // pending, so its send waits for room that the stuck sink will not make.
    await vi.waitFor(() => expect(running.transport.depth!().quotes).toBeGreaterThan(10), { timeout: 10_000 });
    const stopping = running.stop();
    release();
    const summary = await stopping;
    expect(summary.stopped).toBe(true);
    expect(emitted).toBeGreaterThan(0);
  });

  it('checks records against their schema in-process too, dead-lettering bad ones', async () => {
    // In-process topics pass records by reference, so the type check must still happen.
    const sloppy = defineOperator<Quote, { bars: typeof schemas.Bar }>({
      kind: 'transform',
      name: 'sloppy',
      input: schemas.Quote,
      outputs: { bars: schemas.Bar },
      process({ value: q }, ctx) {
        const bar = flatBar(q);
        ctx.emit('bars', q.symbol === 'BAD' ? ({ ...bar, close: String(q.price) } as unknown as Bar) : bar);
      },
    });
    const source = defineOperator({
      kind: 'source',
      name: 'two',
      outputs: { quotes: schemas.Quote },
      async run(ctx) {
        await ctx.emit('quotes', quote('OK', '2017-03-01', 1), { timestamp: day('2017-03-01') });
        await ctx.emit('quotes', quote('BAD', '2017-03-01', 2), { timestamp: day('2017-03-01') });
      },
    });
    collected.length = 0;
    const transport = new MemoryTransport();
    const running = await runPipeline(
      definePipeline({
        name: 'in-process-check',
        topics: { quotes: { schema: schemas.Quote, partitions: 1 }, bars: { schema: schemas.Bar, partitions: 1 } },
        nodes: [
          { id: 'source', operator: source, writes: { quotes: 'quotes' } },
          { id: 'sloppy', operator: sloppy, reads: 'quotes', writes: { bars: 'bars' } },
          { id: 'collect', operator: collect, reads: 'bars' },
        ],
      }),
      { transport, pollTimeoutMs: 20 },
    );
    await running.done;
    expect(collected.map((b) => b.symbol)).toEqual(['OK']);
    const letters = transport.read('bars.dlq').map((m) => schemas.DeadLetter.type.fromBuffer(m.value!));
    expect(letters).toHaveLength(1);
    expect(letters[0].reason).toBe('sloppy produced an invalid tickcast.Bar: close: expected double, got "2"');
  });
});

describe('exactly-once (choice of nodes; the transactions themselves run on Kafka: test/services/exactly-once.test.ts)', () => {
  // Only the presence of transactionalProducer matters to the choice; nothing runs here.
  const memory = new MemoryTransport();
  const kafkaLike: Transport = {
    kind: 'kafka',
    inProcess: false,
    ensureTopics: (specs) => memory.ensureTopics(specs),
    partitions: (topic) => memory.partitions(topic),
    producer: () => memory.producer(),
    consumer: (opts) => memory.consumer(opts),
    close: () => memory.close(),
    transactionalProducer: () => memory.producer(),
  };
  const changelog = new Map([['bars', { name: 'bars-example.bars-changelog', partitions: 2 }]]);
  const pipeline = barsPipeline();

  it('is off unless asked, and on = every transform', () => {
    expect(exactlyOnceNodes(pipeline, pipeline.nodes, undefined, new MemoryTransport(), new Map()).size).toBe(0);
    expect(exactlyOnceNodes(pipeline, pipeline.nodes, false, new MemoryTransport(), new Map()).size).toBe(0);
    expect([...exactlyOnceNodes(pipeline, pipeline.nodes, true, kafkaLike, changelog)]).toEqual(['bars']);
  });

  it('refuses a transport without transactions, a sink, an unknown node and state without a changelog', () => {
    expect(() => exactlyOnceNodes(pipeline, pipeline.nodes, true, new MemoryTransport(), new Map())).toThrow(
      'exactly-once needs a transport with transactions (kafka); memory has none',
    );
    expect(() => exactlyOnceNodes(pipeline, pipeline.nodes, ['collect'], kafkaLike, changelog)).toThrow(
      'collect: a sink does not read and write Kafka topics',
    );
    expect(() => exactlyOnceNodes(pipeline, pipeline.nodes, ['barz'], kafkaLike, changelog)).toThrow(
      'barz: no such node (nodes: bars, collect)',
    );
    expect(() => exactlyOnceNodes(pipeline, pipeline.nodes, ['bars'], kafkaLike, new Map())).toThrow(
      'bars: keeps state but has no changelog topic',
    );
  });
});
