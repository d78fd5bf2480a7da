// Operator chaining by example: which nodes chain, how a pinned topic keeps a hop on the
// transport, and that a chained run produces exactly what the unchained run does.
import { describe, expect, it, vi } from 'vitest';
import { type Bar, type Quote, schemas } from '../schemas/index.js';
import {
  defineOperator,
  definePipeline,
  RecordError,
  type RunningPipeline,
  runPipeline,
  type TopicDeclaration,
} from './index.js';
import { DLQ_SUFFIX } from './pipeline.js';

const DAY = 86_400_000;
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const SYMBOLS = ['AAPL', 'MSFT', 'XOM', 'KO', 'BAD', 'GE', 'F'];
const DAYS = ['2017-03-01', '2017-03-02', '2017-03-03', '2017-03-06', '2017-03-07'];

const source = defineOperator({
  kind: 'source',
  name: 'days',
  outputs: { quotes: schemas.Quote },
  async run(ctx) {
    for (const [i, iso] of DAYS.entries()) {
      for (const [j, symbol] of SYMBOLS.entries()) {
        for (const hour of [15, 18]) {
          const q: Quote = {
            symbol,
            ts: day(iso) + hour * 3_600_000,
            price: 100 + i + j + hour / 100,
            dayOpen: null,
            dayHigh: null,
            dayLow: null,
            dayVolume: 10,
            source: 'test',
          };
          await ctx.emit('quotes', q, { timestamp: q.ts });
        }
      }
      await ctx.watermark(day(iso) + DAY);
    }
  },
});

// Stateful, with event-time timers: one bar per symbol and day when the day's watermark passes.
const dailyBars = defineOperator<Quote, { bars: typeof schemas.Bar }, { start: number; open: number; close: number }>({
  kind: 'transform',
  name: 'daily-bars',
  input: schemas.Quote,
  outputs: { bars: schemas.Bar },
  state: { description: 'the open window per symbol' },
  process(r, ctx) {
    const start = Math.floor(r.value.ts / DAY) * DAY;
    const w = ctx.state.get();
    if (!w) ctx.setTimer(start + DAY);
    ctx.state.set({ start, open: w?.open ?? r.value.price, close: r.value.price });
  },
  onTimer(timer, ctx) {
    const w = ctx.state.get()!;
    const bar: Bar = {
      symbol: timer.key,
      ts: w.start,
      interval: '1d',
      open: w.open,
      high: Math.max(w.open, w.close),
      low: Math.min(w.open, w.close),
      close: w.close,
      volume: 20,
      quotes: 2,
      source: 'test',
    };
    ctx.emit('bars', bar, { timestamp: w.start });
    ctx.state.delete();
  },
});

// Per record; one symbol's bars are bad data, dead-lettered from inside the chain.
const mark = defineOperator<Bar, { bars: typeof schemas.Bar }>({
  kind: 'transform',
  name: 'mark',
  input: schemas.Bar,
  outputs: { bars: schemas.Bar },
  process(r, ctx) {
    if (r.value.symbol === 'BAD') throw new RecordError('BAD is not a symbol', 'validation');
    ctx.emit('bars', { ...r.value, source: 'marked' });
  },
});

// A whole batch at a time, two outputs: a chain may branch.
const split = defineOperator<Bar, { up: typeof schemas.Bar; down: typeof schemas.Bar }>({
  kind: 'transform',
  name: 'split',
  input: schemas.Bar,
  outputs: { up: schemas.Bar, down: schemas.Bar },
  async processBatch(records, ctx) {
    for (const r of records) ctx.emit(r.value.close >= r.value.open ? 'up' : 'down', r.value);
  },
});

type Out = ReturnType<typeof empty>;

/** A sink into `out[name]` that notes each batch's size; `chain: false` keeps it out of the chain that writes its input. */
function collector(out: Out, name: 'bars' | 'up' | 'down', chain?: false) {
  return defineOperator<Bar>({
    kind: 'sink',
    name: `store-${name}`,
    input: schemas.Bar,
    ...(chain === false ? { chain } : {}),
    async write(records) {
      // The first write may wait for the test (out.firstWrite): a store that is slow to answer.
      if (out.batches[name].length === 0) await out.firstWrite;
      out[name].push(...records.map((r) => r.value));
      out.batches[name].push(records.length);
    },
  });
}

/** `quotes`: the days above, or another source of them. */
function pipeline(out: Out, topics: Record<string, Partial<TopicDeclaration>> = {}, quotes: typeof source = source) {
  const topic = (name: string, schema: TopicDeclaration['schema']) => ({ schema, partitions: 3, ...topics[name] });
  return definePipeline({
    name: 'chain-example',
    topics: {
      quotes: topic('quotes', schemas.Quote),
      bars: topic('bars', schemas.Bar),
      marked: topic('marked', schemas.Bar),
      up: topic('up', schemas.Bar),
      down: topic('down', schemas.Bar),
    },
    nodes: [
      { id: 'source', operator: quotes, writes: { quotes: 'quotes' } },
      { id: 'bars', operator: dailyBars, reads: 'quotes', writes: { bars: 'bars' } },
      { id: 'mark', operator: mark, reads: 'bars', writes: { bars: 'marked' } },
      { id: 'split', operator: split, reads: 'marked', writes: { up: 'up', down: 'down' } },
      // Apart from the chain: so `bars`, which it reads, stays on the transport.
      { id: 'store-bars', operator: collector(out, 'bars', false), reads: 'bars' },
      { id: 'store-up', operator: collector(out, 'up'), reads: 'up' },
      { id: 'store-down', operator: collector(out, 'down'), reads: 'down' },
    ],
  });
}

const empty = () => ({
  bars: [] as Bar[],
  up: [] as Bar[],
  down: [] as Bar[],
  /** The size of each batch each sink wrote. */
  batches: { bars: [] as number[], up: [] as number[], down: [] as number[] },
  /** What each sink's first write waits for. */
  firstWrite: Promise.resolve(),
});
const sorted = (bars: Bar[]) =>
  bars.map((b) => `${b.symbol} ${b.ts} ${b.close} ${b.source}`).sort((a, b) => a.localeCompare(b));

describe('findChains', () => {
  it('chains consecutive transforms of one partition count and the sinks after them; a topic read outside the chain stays on the transport', () => {
    const p = pipeline(empty());
    expect(p.chains).toEqual([
      {
        head: 'bars',
        nodes: ['bars', 'mark', 'split', 'store-up', 'store-down'],
        local: ['bars', 'marked', 'up', 'down'],
        fused: ['marked', 'up', 'down'],
      },
    ]);
    expect(p.describe().chains).toEqual(p.chains);
    expect(p.mermaid()).toContain('subgraph chain_0["chain: bars → mark → split → store-up → store-down"]');
    expect(p.mermaid()).toContain('t_marked -.-> n_split');
  });

  it('never fuses a pinned topic: the chain breaks there', () => {
    const p = pipeline(empty(), { marked: { pinned: true } });
    expect(p.chains).toEqual([
      { head: 'bars', nodes: ['bars', 'mark'], local: ['bars'], fused: [] },
      { head: 'split', nodes: ['split', 'store-up', 'store-down'], local: ['up', 'down'], fused: ['up', 'down'] },
    ]);
    expect(p.describe().topics.find((t) => t.name === 'marked')).toMatchObject({ pinned: true });
  });

  it('chains a node that reads what two nodes of one chain write (branches joining again)', () => {
    const bar = (name: string) => ({ schema: schemas.Bar, partitions: 3, description: name });
    const p = definePipeline({
      name: 'join-example',
      topics: {
        quotes: { schema: schemas.Quote, partitions: 3 },
        bars: bar('bars'),
        up: bar('up'),
        down: bar('down'),
        joined: bar('joined'),
        final: bar('final'),
      },
      nodes: [
        { id: 'source', operator: source, writes: { quotes: 'quotes' } },
        { id: 'bars', operator: dailyBars, reads: 'quotes', writes: { bars: 'bars' } },
        { id: 'split', operator: split, reads: 'bars', writes: { up: 'up', down: 'down' } },
        { id: 'mark-up', operator: mark, reads: 'up', writes: { bars: 'joined' } },
        { id: 'mark-down', operator: mark, reads: 'down', writes: { bars: 'joined' } },
        { id: 'mark-again', operator: mark, reads: 'joined', writes: { bars: 'final' } },
        { id: 'store', operator: collector(empty(), 'bars'), reads: 'final' },
      ],
    });
    expect(p.chains).toEqual([
      {
        head: 'bars',
        nodes: ['bars', 'split', 'mark-up', 'mark-down', 'mark-again', 'store'],
        local: ['bars', 'up', 'down', 'joined', 'final'],
        fused: ['bars', 'up', 'down', 'joined', 'final'],
      },
    ]);
  });

  it('does not chain across a change of partition count (the lanes would not line up)', () => {
    const p = pipeline(empty(), { marked: { partitions: 1 }, up: { partitions: 1 }, down: { partitions: 1 } });
    // mark reads 3 partitions and writes 1: it chains with neither side.
    expect(p.chains).toEqual([
      { head: 'split', nodes: ['split', 'store-up', 'store-down'], local: ['up', 'down'], fused: ['up', 'down'] },
    ]);
  });
});

describe('a chained run', () => {
  async function run(chaining: boolean) {
    const out = empty();
    const running = await runPipeline(pipeline(out), { chaining, pollTimeoutMs: 10 });
    const summary = await running.done;
    const dlq = await running.transport.readTopic!(`bars${DLQ_SUFFIX}`);
    const onTransport = (topic: string) => {
      try {
        return running.transport.partitions(topic) > 0;
      } catch {
        return false;
      }
    };
    return { out, summary, dlq, markedOnTransport: onTransport('marked'), barsOnTransport: onTransport('bars') };
  }

  it('produces what the unchained run does: same records, dead letters and per-node counts', async () => {
    const [chained, unchained] = [await run(true), await run(false)];
    // Chained, `marked` is handed from mark to split in-process: the transport never has it.
    expect([chained.markedOnTransport, unchained.markedOnTransport]).toEqual([false, true]);
    expect(chained.barsOnTransport).toBe(true);
    expect(chained.out.bars).toHaveLength(SYMBOLS.length * DAYS.length);
    expect(chained.out.up.length + chained.out.down.length).toBe((SYMBOLS.length - 1) * DAYS.length);
    expect(sorted(chained.out.bars)).toEqual(sorted(unchained.out.bars));
    expect(sorted(chained.out.up)).toEqual(sorted(unchained.out.up));
    expect(sorted(chained.out.down)).toEqual(sorted(unchained.out.down));
    expect(chained.dlq.map((m) => m.key)).toEqual(unchained.dlq.map((m) => m.key));
    expect(chained.dlq).toHaveLength(DAYS.length);
    const counts = (s: typeof chained.summary) =>
      s.nodes
        .map((n) => ({ node: n.node, in: n.recordsIn, out: n.recordsOut, status: n.status, dlq: n.deadLetters }))
        .sort((a, b) => a.node.localeCompare(b.node));
    expect(counts(chained.summary)).toEqual(counts(unchained.summary));
    expect(chained.summary.nodes.find((n) => n.node === 'split')).toMatchObject({ recordsIn: 30, status: 'ended' });
  });

  /** `out` whose sinks' first writes wait until `release()`. */
  function slowStore() {
    const out = empty();
    let release = () => {};
    out.firstWrite = new Promise<void>((resolve) => {
      release = resolve;
    });
    return { out, release };
  }

  /** The days above, then nothing until the run stops: a source still open. */
  const open = defineOperator({
    kind: 'source',
    name: 'days-then-wait',
    outputs: { quotes: schemas.Quote },
    async run(ctx) {
      await source.run(ctx as Parameters<typeof source.run>[0]);
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    },
  });
  const BARS_UP = (SYMBOLS.length - 1) * DAYS.length;
  const handedOn = (running: RunningPipeline) => () =>
    expect(running.metrics.snapshot().find((n) => n.node === 'split')?.recordsOut).toBe(BARS_UP);

  it('gathers what a chained sink is handed while it writes into its next batch', async () => {
    // Each day's bars reach the sinks in a step of their own. A sink starts a write when it is
    // not writing; here its first write waits until every day has been handed on, so the rest
    // make one batch, not one a day: the store takes a few writes of many rows.
    const { out, release } = slowStore();
    const running = await runPipeline(pipeline(out), { pollTimeoutMs: 10 });
    await vi.waitFor(handedOn(running), { timeout: 10_000 });
    expect(out.batches.up).toEqual([]);
    release();
    await running.done;
    // Every close here is above its open: `down` gets nothing, so its sink never writes.
    expect(out.up).toHaveLength(BARS_UP);
    expect(out.batches.up).toHaveLength(2);
    expect(out.batches.down).toEqual([]);
  });

  it('a stop writes what a chained sink still holds', async () => {
    const { out, release } = slowStore();
    const running = await runPipeline(pipeline(out, {}, open), { pollTimeoutMs: 10 });
    await vi.waitFor(handedOn(running), { timeout: 10_000 });
    const stopped = running.stop();
    release();
    await stopped;
    // The first batch, then, at the stop, all the sink was handed while it was written.
    expect(out.up).toHaveLength(BARS_UP);
    expect(out.batches.up).toHaveLength(2);
  });

  it('fails the chain when a chained sink fails (its batch is written while the chain goes on)', async () => {
    const broken = defineOperator<Bar>({
      kind: 'sink',
      name: 'broken-store',
      input: schemas.Bar,
      retry: { retries: 1, minDelayMs: 1 },
      // Not a RecordError and not transient: the sink, and with it the chain, fails.
      write: async () => {
        throw new TypeError('the store is gone');
      },
    });
    const p = definePipeline({
      name: 'broken-chain',
      topics: { quotes: { schema: schemas.Quote, partitions: 3 }, bars: { schema: schemas.Bar, partitions: 3 } },
      nodes: [
        { id: 'source', operator: source, writes: { quotes: 'quotes' } },
        { id: 'bars', operator: dailyBars, reads: 'quotes', writes: { bars: 'bars' } },
        { id: 'store', operator: broken, reads: 'bars' },
      ],
    });
    expect(p.chains.map((c) => c.nodes)).toEqual([['bars', 'store']]);
    const running = await runPipeline(p, { pollTimeoutMs: 10 });
    await expect(running.done).rejects.toThrow(/node bars failed: the store is gone/);
  });

  it('refuses to run part of a chain in a process, saying how to fix it', async () => {
    await expect(runPipeline(pipeline(empty()), { nodes: ['bars', 'mark', 'store-bars'] })).rejects.toThrow(
      /nodes bars → mark → split → store-up → store-down run as one chain .* without split, store-up, store-down: run the whole chain, pin a topic between them/,
    );
    // Unchained, any subset runs.
    const running = await runPipeline(pipeline(empty()), { nodes: ['bars', 'mark'], chaining: false });
    await running.stop();
  });
});
