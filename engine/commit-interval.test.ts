// The commit interval (RunOptions.commitIntervalMs, KAFKA_COMMIT_INTERVAL): at-least-once, outputs
// go every step while a node's changelog and input offsets are written at most once per interval,
// a key's latest state only. NodeTasks and a ChainTask over a stand-in consumer, so no broker.
import { describe, expect, it } from 'vitest';
import { type Quote, schemas } from '../schemas/index.js';
import { nodeTaskDeps } from '../test/support/node-task-deps.js';
import { ChainHeadConsumer, ChainInput, ChainProducer, ChainTask } from './chain-task.js';
import { defineOperator, definePipeline } from './index.js';
import { NodeTask, type TaskDeps } from './node-task.js';
import type { Consumer, IncomingMessage, OutgoingMessage, Producer } from './transport.js';

/** Counts the quotes of each symbol: keyed state, so a changelog record per changed symbol. */
const count = defineOperator<Quote, { out: typeof schemas.Quote }, number>({
  kind: 'transform',
  name: 'count',
  input: schemas.Quote,
  outputs: { out: schemas.Quote },
  state: { description: 'quotes seen per symbol' },
  process(r, ctx) {
    ctx.state.set((ctx.state.get() ?? 0) + 1);
    ctx.emit('out', r.value);
  },
});

const pipeline = definePipeline({
  name: 'commit-interval',
  topics: {
    quotes: { schema: schemas.Quote, partitions: 2, external: true },
    counted: { schema: schemas.Quote, partitions: 2 },
    recounted: { schema: schemas.Quote, partitions: 2 },
  },
  nodes: [
    { id: 'count', operator: count, reads: 'quotes', writes: { out: 'counted' } },
    { id: 'recount', operator: count, reads: 'counted', writes: { out: 'recounted' } },
  ],
});

const quote = (symbol: string, ts: number): Quote => ({
  symbol,
  ts,
  price: 100,
  dayOpen: null,
  dayHigh: null,
  dayLow: null,
  dayVolume: null,
  source: 'replay',
});

/** A consumer fed by `feed`, recording its commits (how many, and the offsets each covered). */
function standIn() {
  const queue: IncomingMessage[] = [];
  let offset = 0;
  let polled = 0;
  const commits: number[] = [];
  const consumer: Consumer = {
    poll: async () => {
      const batch = queue.splice(0);
      polled += batch.length;
      return batch;
    },
    commit: async () => void commits.push(polled),
    lag: async () => ({}),
    close: async () => {},
  };
  const feed = (...symbols: string[]) => {
    for (const symbol of symbols) {
      const partition = symbol === 'AAPL' ? 0 : 1;
      const record = quote(symbol, 1_000 + offset);
      queue.push({
        topic: 'quotes',
        partition,
        offset: offset++,
        key: symbol,
        value: null,
        record,
        timestamp: record.ts,
        headers: {},
      });
    }
  };
  return { consumer, feed, commits };
}

/** A producer that keeps what it was sent. */
function recorder(): Producer & { sent: OutgoingMessage[] } {
  const sent: OutgoingMessage[] = [];
  return { sent, send: async (m) => void sent.push(...m), close: async () => {} };
}

function deps(id: 'count' | 'recount', producer: Producer, consumer: Consumer, commitIntervalMs: number): TaskDeps {
  const changelog = { topic: `${id}-changelog`, read: async () => [] };
  return nodeTaskDeps(pipeline, id, { producer, consumer, changelog, commitIntervalMs });
}

/** The changelog records sent, as "key=state". */
const states = (sent: readonly OutgoingMessage[], topic: string) =>
  sent.filter((m) => m.topic === topic).map((m) => `${m.key}=${JSON.parse(m.value!.toString()).s}`);

describe('commit interval', () => {
  it('sends outputs every step but writes each key’s latest state and commits once per interval', async () => {
    const { consumer, feed, commits } = standIn();
    const out = recorder();
    const task = new NodeTask(deps('count', out, consumer, 60_000));
    feed('AAPL', 'MSFT');
    await task.step(100, 0); // the first step commits: nothing was committed yet
    feed('AAPL', 'AAPL');
    await task.step(100, 0);
    feed('AAPL', 'MSFT');
    await task.step(100, 0);
    // Every quote's output went at once; the state and offsets of steps 2 and 3 wait.
    expect(out.sent.filter((m) => m.topic === 'counted')).toHaveLength(6);
    expect(states(out.sent, 'count-changelog')).toEqual(['AAPL=1', 'MSFT=1']);
    expect(commits).toEqual([2]);
    // A stop commits what the interval held: AAPL changed three times, written once, its latest.
    await task.commitPending();
    expect(states(out.sent, 'count-changelog')).toEqual(['AAPL=1', 'MSFT=1', 'AAPL=4', 'MSFT=2']);
    expect(commits).toEqual([2, 6]);
    // After the changelog, never before it: a crash in between replays input onto older state.
    const lastState = out.sent.findLastIndex((m) => m.topic === 'count-changelog');
    expect(out.sent.slice(lastState + 1)).toEqual([]);
    await task.commitPending(); // nothing held: no empty commit
    expect(commits).toEqual([2, 6]);
  });

  it('commits every step at 0 (the memory transport’s default, and exactly-once’s)', async () => {
    const { consumer, feed, commits } = standIn();
    const out = recorder();
    const task = new NodeTask(deps('count', out, consumer, 0));
    feed('AAPL');
    await task.step(100, 0);
    feed('AAPL');
    await task.step(100, 0);
    expect(states(out.sent, 'count-changelog')).toEqual(['AAPL=1', 'AAPL=2']);
    expect(commits).toEqual([1, 2]);
  });

  it('an idle node commits what the interval held once it is due', async () => {
    const { consumer, feed, commits } = standIn();
    const out = recorder();
    const task = new NodeTask(deps('count', out, consumer, 20));
    feed('AAPL');
    await task.step(100, 0);
    feed('MSFT');
    await task.step(100, 0);
    expect(commits).toEqual([1]);
    await new Promise((r) => setTimeout(r, 30));
    await task.step(100, 0); // nothing new arrived
    expect(commits).toEqual([1, 2]);
    expect(states(out.sent, 'count-changelog')).toEqual(['AAPL=1', 'MSFT=1']);
  });

  it('a chain holds every member’s changelog for the interval, the latest per key, then the head’s commit', async () => {
    const { consumer, feed, commits } = standIn();
    const out = recorder();
    const head = new ChainHeadConsumer(consumer);
    const input = new ChainInput('counted', head);
    const producer = new ChainProducer(
      new Map([['counted', [input]]]),
      new Set(['counted']),
      new Set(['count-changelog', 'recount-changelog']),
    );
    const chain = new ChainTask({
      chain: { head: 'count', nodes: ['count', 'recount'], local: ['counted'], fused: ['counted'] },
      tasks: [new NodeTask(deps('count', producer, head, 0)), new NodeTask(deps('recount', producer, input, 0))],
      head,
      producer,
      out,
      commitIntervalMs: 60_000,
      log: () => {},
      onAbort: () => {},
    });
    feed('AAPL');
    await chain.step(100, 0);
    feed('AAPL', 'MSFT');
    await chain.step(100, 0);
    feed('AAPL');
    await chain.step(100, 0);
    // The fused topic never leaves; what leaves the chain goes every step.
    expect(out.sent.filter((m) => m.topic === 'recounted')).toHaveLength(4);
    expect(out.sent.some((m) => m.topic === 'counted')).toBe(false);
    expect(commits).toEqual([1]);
    await chain.commitPending();
    expect(states(out.sent, 'count-changelog')).toEqual(['AAPL=1', 'AAPL=3', 'MSFT=1']);
    expect(states(out.sent, 'recount-changelog')).toEqual(['AAPL=1', 'AAPL=3', 'MSFT=1']);
    expect(commits).toEqual([1, 4]);
  });
});
