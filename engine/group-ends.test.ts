// End-of-stream in a consumer group shared by several processes (Kafka workers): each member
// sees end-of-stream only on the partitions it owns, and learns the rest from the marks the group
// committed with the offsets (NodeTask.groupEnds). Members here are NodeTasks over a stand-in
// group (one shared table of committed marks), so the test needs no broker.
import { describe, expect, it } from 'vitest';
import { type Quote, schemas } from '../schemas/index.js';
import { nodeTaskDeps } from '../test/support/node-task-deps.js';
import { controlMessages, HEADER } from './control.js';
import { defineOperator, definePipeline } from './index.js';
import { NodeTask } from './node-task.js';
import type { CommitMarks, Consumer, IncomingMessage, OutgoingMessage } from './transport.js';

const copy = defineOperator<Quote, { quotes: typeof schemas.Quote }>({
  kind: 'transform',
  name: 'copy',
  input: schemas.Quote,
  outputs: { quotes: schemas.Quote },
  process(r, ctx) {
    ctx.emit('quotes', r.value);
  },
});

const pipeline = definePipeline({
  name: 'group-ends',
  topics: {
    quotes: { schema: schemas.Quote, partitions: 2, external: true },
    copies: { schema: schemas.Quote, partitions: 2 },
    // One partition: `merge` spans every partition of its input (no lanes), like calibrate.
    merged: { schema: schemas.Quote, partitions: 1 },
    // Two producers, like predictions (predict-normal, predict-earnings).
    both: { schema: schemas.Quote, partitions: 2 },
  },
  nodes: [
    { id: 'copy', operator: copy, reads: 'quotes', writes: { quotes: 'copies' } },
    { id: 'merge', operator: copy, reads: 'quotes', writes: { quotes: 'merged' } },
    { id: 'left', operator: copy, reads: 'quotes', writes: { quotes: 'both' } },
    { id: 'right', operator: copy, reads: 'quotes', writes: { quotes: 'both' } },
    { id: 'after', operator: copy, reads: 'both', writes: { quotes: 'copies' } },
  ],
});

/** A group's committed marks, per "topic/partition". */
type Group = Map<string, string>;

/** One member of `group` that owns `owned` partitions of the node's input. */
function member(node: 'copy' | 'merge' | 'after', group: Group, owned: number[]) {
  const input = node === 'after' ? 'both' : 'quotes';
  const queue: IncomingMessage[] = [];
  let polled: IncomingMessage[] = [];
  const consumer: Consumer = {
    poll: async () => {
      polled = queue.splice(0);
      return polled;
    },
    commit: async (marks?: CommitMarks) => {
      for (const m of polled) {
        const mark = marks?.(m.topic, m.partition);
        if (mark !== undefined) group.set(`${m.topic}/${m.partition}`, mark);
      }
    },
    committedMarks: async (partitions) => partitions.map((tp) => group.get(`${tp.topic}/${tp.partition}`) ?? null),
    lag: async () => ({}),
    close: async () => {},
    assignment: { generation: 1, owned: () => owned.map((partition) => ({ topic: input, partition })) },
  };
  const sent: OutgoingMessage[] = [];
  const producer = { send: async (m: OutgoingMessage[]) => void sent.push(...m), close: async () => {} };
  const task = new NodeTask(nodeTaskDeps(pipeline, node, { producer, consumer }));
  let offset = 0;
  return {
    task,
    sent,
    /** End-of-stream from `producer` on one partition of the input. */
    endOf(partition: number, producer = 'external') {
      for (const m of controlMessages(input, 2, { type: 'eos' }, producer, undefined, partition)) {
        queue.push({ ...m, partition, offset: offset++, headers: m.headers ?? {} } as IncomingMessage);
      }
    },
    ends: () => sent.filter((m) => m.headers?.[HEADER.control] === 'eos'),
  };
}

describe('end-of-stream across the members of a group', () => {
  it('a node with lanes ends in every member once every partition has, and its next owner knows', async () => {
    const group: Group = new Map();
    const a = member('copy', group, [0]);
    const b = member('copy', group, [1]);
    a.endOf(0);
    await a.task.step(100, 0);
    // Its own lane has ended and passed end-of-stream on; the other partition has not ended.
    expect(a.ends().map((m) => m.partition)).toEqual([0]);
    expect(a.task.ended).toBe(false);
    b.endOf(1);
    await b.task.step(100, 0);
    expect(b.ends().map((m) => m.partition)).toEqual([1]);
    await b.task.step(100, 0); // idle: asks the group
    expect(b.task.ended).toBe(true);
    // A member that takes over partition 0 after its end was committed never reads it: it learns it.
    const c = member('copy', group, [0]);
    await c.task.step(100, 0);
    expect(c.task.ended).toBe(true);
    expect(c.ends()).toEqual([]); // the lane's first owner passed it on already
  });

  it('a node without lanes passes end-of-stream on only when every partition of its input has ended', async () => {
    const group: Group = new Map();
    const a = member('merge', group, [0]);
    const b = member('merge', group, [1]);
    a.endOf(0);
    await a.task.step(100, 0);
    await a.task.step(100, 0);
    expect(a.ends()).toEqual([]);
    expect(a.task.ended).toBe(false);
    b.endOf(1);
    await b.task.step(100, 0);
    expect(b.ends()).toEqual([]); // b has seen partition 1 end only
    await b.task.step(100, 0); // idle: the group says partition 0 ended too
    expect(b.task.ended).toBe(true);
    expect(b.ends().map((m) => [m.topic, m.partition])).toEqual([['merged', 0]]);
  });

  it("a partition's next owner keeps the ends its last owner committed (each commit's marks replace the last)", async () => {
    const group: Group = new Map();
    const a = member('after', group, [0]);
    a.endOf(0, 'left');
    await a.task.step(100, 0);
    expect(group.get('both/0')).toBe(JSON.stringify({ ended: ['left'] }));
    // Partition 0 moves to b, which then reads the other producer's end.
    const b = member('after', group, [0, 1]);
    b.endOf(0, 'right');
    b.endOf(1, 'left');
    b.endOf(1, 'right');
    await b.task.step(100, 0);
    expect(group.get('both/0')).toBe(JSON.stringify({ ended: ['left', 'right'] }));
    expect(b.task.ended).toBe(true);
  });
});
