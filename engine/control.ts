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

export function controlMessages(
  topic: string,
  partitions: number,
  control: Control,
  from: string,
  sourceTime?: string,
): OutgoingMessage[] {
  const headers: Headers = { [HEADER.control]: control.type, [HEADER.from]: from };
  if (control.type === 'watermark') headers[HEADER.time] = String(control.time);
  if (sourceTime !== undefined) headers[HEADER.sourceTime] = sourceTime;
  const timestamp = control.type === 'watermark' ? Math.min(control.time, END_OF_TIME) : END_OF_TIME;
  return Array.from({ length: partitions }, (_, partition) => ({
    topic,
    partition,
    key: null,
    value: null,
    timestamp,
    headers,
  }));
}

/**
 * A node's event-time clock: the minimum, over its input partitions, of the minimum over
 * each partition's expected producers of the watermark they sent.
 */
export class InputClock {
  private readonly marks = new Map<string, Map<string, number>>();
  private readonly ends = new Map<string, Set<string>>();
  private current = Number.NEGATIVE_INFINITY;

  constructor(private readonly inputs: ReadonlyArray<{ topic: string; partitions: number; producers: string[] }>) {
    for (const i of inputs) {
      for (let p = 0; p < i.partitions; p++) {
        this.marks.set(`${i.topic}/${p}`, new Map());
        this.ends.set(`${i.topic}/${p}`, new Set());
      }
    }
  }

  get watermark(): number {
    return this.current;
  }

  /** Records a watermark; true when the node's watermark advanced. */
  observe(topic: string, partition: number, producer: string, time: number): boolean {
    const m = this.marks.get(`${topic}/${partition}`);
    if (!m) return false;
    if ((m.get(producer) ?? Number.NEGATIVE_INFINITY) < time) m.set(producer, time);
    return this.recompute();
  }

  /** Records end-of-stream; true when every producer of every input partition has ended. */
  end(topic: string, partition: number, producer: string): boolean {
    this.ends.get(`${topic}/${partition}`)?.add(producer);
    this.observe(topic, partition, producer, END_OF_TIME);
    return this.ended;
  }

  get ended(): boolean {
    return this.inputs.every((i) => {
      for (let p = 0; p < i.partitions; p++) {
        const done = this.ends.get(`${i.topic}/${p}`)!;
        if (!i.producers.every((producer) => done.has(producer))) return false;
      }
      return true;
    });
  }

  private recompute(): boolean {
    let min = Number.POSITIVE_INFINITY;
    for (const i of this.inputs) {
      for (let p = 0; p < i.partitions; p++) {
        const m = this.marks.get(`${i.topic}/${p}`)!;
        for (const producer of i.producers) min = Math.min(min, m.get(producer) ?? Number.NEGATIVE_INFINITY);
      }
    }
    if (min > this.current) {
      this.current = min;
      return true;
    }
    return false;
  }
}
