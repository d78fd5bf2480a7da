// Control records travel in-band with the data, one per partition, so that ordering
// between data and event time holds on any transport: a watermark says "no record older
// than T follows from this producer", end-of-stream says "nothing at all follows".
import type { Headers, IncomingMessage, OutgoingMessage } from './transport.js';

export const HEADER = {
  control: 'tc-control',
  time: 'tc-time',
  /** Node id (or 'external') that produced the message. */
  from: 'tc-from',
  /** Wall-clock ms at which the originating source emitted the record: event-to-sink latency. */
  sourceTime: 'tc-src',
} as const;

/** Producer id for records written from outside the pipeline (tests, other systems). */
export const EXTERNAL_PRODUCER = 'external';
/** Watermark that closes everything (end of a bounded stream). */
export const END_OF_TIME = 8.64e15;

export type Control = { type: 'watermark'; time: number } | { type: 'eos' };

export function controlOf(m: IncomingMessage): Control | null {
  const type = m.headers[HEADER.control];
  if (type === undefined) return null;
  if (type === 'eos') return { type: 'eos' };
  return { type: 'watermark', time: Number(m.headers[HEADER.time]) };
}

/** Control records for every partition of `topic`, or only for partition `only`. */
/** Prefix of the keys of control records (watermarks, end of stream): no symbol starts with it. */
export const CONTROL_KEY = '\u0000control:';

export function controlMessages(
  topic: string,
  partitions: number,
  control: Control,
  from: string,
  sourceTime?: string,
  only?: number,
): OutgoingMessage[] {
  const headers: Headers = { [HEADER.control]: control.type, [HEADER.from]: from };
  if (control.type === 'watermark') headers[HEADER.time] = String(control.time);
  if (sourceTime !== undefined) headers[HEADER.sourceTime] = sourceTime;
  const timestamp = control.type === 'watermark' ? Math.min(control.time, END_OF_TIME) : END_OF_TIME;
  // A key of their own (the partition is explicit): a compacted topic refuses records without a
  // key, and compaction then keeps the newest control record of each producer and partition.
  const key = `${CONTROL_KEY}${from}`;
  if (only !== undefined) return [{ topic, partition: only, key, value: null, timestamp, headers }];
  return Array.from({ length: partitions }, (_, partition) => ({
    topic,
    partition,
    key,
    value: null,
    timestamp,
    headers,
  }));
}

interface Slot {
  topic: string;
  partition: number;
  producers: string[];
  marks: Map<string, number>;
  ended: Set<string>;
}

interface Lane {
  slots: Slot[];
  current: number;
}

/**
 * A node's event-time clock: the minimum, over its input partitions, of the minimum over
 * each partition's expected producers of the watermark they sent.
 *
 * With `lanes` (co-partitioned inputs and outputs: the same partition count everywhere, keys
 * hashed the same way), partition p of every input is one lane with its own watermark: the
 * keys of partition p only ever meet the records of partition p, so lanes advance on their
 * own, and a worker that owns some partitions is not held back by the ones it does not own.
 * Without lanes every partition is in lane 0 (one clock for the node).
 */
export class InputClock {
  private readonly byLane = new Map<number, Lane>();
  private readonly slots = new Map<string, Slot>();
  private active: Set<number> | null = null;

  constructor(
    inputs: ReadonlyArray<{ topic: string; partitions: number; producers: string[] }>,
    readonly lanes = false,
  ) {
    for (const i of inputs) {
      for (let p = 0; p < i.partitions; p++) {
        const slot: Slot = { topic: i.topic, partition: p, producers: i.producers, marks: new Map(), ended: new Set() };
        this.slots.set(`${i.topic}/${p}`, slot);
        const id = this.laneOf(p);
        let lane = this.byLane.get(id);
        if (!lane) {
          lane = { slots: [], current: Number.NEGATIVE_INFINITY };
          this.byLane.set(id, lane);
        }
        lane.slots.push(slot);
      }
    }
  }

  laneOf(partition: number): number {
    return this.lanes ? partition : 0;
  }

  /** Every lane id. */
  laneIds(): number[] {
    return [...this.byLane.keys()];
  }

  /** The node's watermark: the minimum over the lanes it owns. */
  get watermark(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const [id, lane] of this.byLane) {
      if (this.active === null || this.active.has(id)) min = Math.min(min, lane.current);
    }
    return min === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : min;
  }

  laneWatermark(lane: number): number {
    return this.byLane.get(lane)?.current ?? Number.NEGATIVE_INFINITY;
  }

  /** Lanes this instance owns (null: all); `watermark` is computed over them only. */
  setActive(lanes: Iterable<number> | null): void {
    this.active = lanes === null ? null : new Set(lanes);
  }

  /** Forgets what a lane has seen: its next owner rebuilds it from the records it reads. */
  resetLane(id: number): void {
    const lane = this.byLane.get(id);
    if (!lane) return;
    lane.current = Number.NEGATIVE_INFINITY;
    for (const slot of lane.slots) {
      slot.marks.clear();
      slot.ended.clear();
    }
  }

  /** Records a watermark; true when the watermark of the partition's lane advanced. */
  observe(topic: string, partition: number, producer: string, time: number): boolean {
    const slot = this.slots.get(`${topic}/${partition}`);
    if (!slot) return false;
    if ((slot.marks.get(producer) ?? Number.NEGATIVE_INFINITY) < time) slot.marks.set(producer, time);
    return this.recompute(this.laneOf(partition));
  }

  /** Records end-of-stream; true when every producer of every partition of the lane has ended. */
  end(topic: string, partition: number, producer: string): boolean {
    this.slots.get(`${topic}/${partition}`)?.ended.add(producer);
    this.observe(topic, partition, producer, END_OF_TIME);
    return this.laneEnded(this.laneOf(partition));
  }

  /** Every input partition, owned or not. */
  partitions(): Array<{ topic: string; partition: number }> {
    return [...this.slots.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /** The producers that have ended this partition (in the order they did). */
  endedBy(topic: string, partition: number): string[] {
    return [...(this.slots.get(`${topic}/${partition}`)?.ended ?? [])];
  }

  laneEnded(id: number): boolean {
    const lane = this.byLane.get(id);
    return lane?.slots.every((s) => s.producers.every((p) => s.ended.has(p))) ?? false;
  }

  /** Every lane has ended (a worker that owns only some partitions never ends by itself). */
  get ended(): boolean {
    for (const id of this.byLane.keys()) if (!this.laneEnded(id)) return false;
    return true;
  }

  private recompute(id: number): boolean {
    const lane = this.byLane.get(id)!;
    let min = Number.POSITIVE_INFINITY;
    for (const slot of lane.slots) {
      for (const producer of slot.producers) min = Math.min(min, slot.marks.get(producer) ?? Number.NEGATIVE_INFINITY);
    }
    if (min > lane.current) {
      lane.current = min;
      return true;
    }
    return false;
  }
}

/**
 * End-of-stream as a commit mark (Consumer.commit's per-partition metadata): the producers that
 * had ended a partition at the committed offset. A record read once is never read again by the
 * group, so this is how the next owner of the partition, and every other member of the group,
 * learns that it ended (a worker owns only some partitions of its nodes' inputs).
 */
export function endMark(producers: readonly string[]): string | undefined {
  return producers.length > 0 ? JSON.stringify({ ended: producers }) : undefined;
}

/** The producers an `endMark` names; none for no mark, or a mark this version did not write. */
export function endedIn(mark: string | null): string[] {
  if (!mark) return [];
  try {
    const parsed: unknown = JSON.parse(mark);
    const ended = (parsed as { ended?: unknown } | null)?.ended;
    return Array.isArray(ended) ? ended.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}
