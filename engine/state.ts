// Keyed state and event-time timers of one node. Values must be plain data (JSON-safe, unless
// the operator declares a state codec for its changelog): snapshots are JSON, and the Kafka
// transport writes them to a changelog (engine/state-codec.ts).
import type { KeyedState } from './operator.js';

export class StateStore<S> {
  private readonly map = new Map<string, S>();
  private readonly dirty: Set<string> | null;

  /** `trackChanges`: remember changed keys for a changelog (the Kafka transport turns it on). */
  constructor(opts: { trackChanges?: boolean } = {}) {
    this.dirty = opts.trackChanges ? new Set() : null;
  }

  /** A view scoped to one key at a time: the runner sets `key` before each record or timer. */
  view(): KeyedState<S> & { key: string } {
    const store = this;
    return {
      key: '',
      get() {
        return store.map.get(this.key);
      },
      set(value) {
        store.map.set(this.key, value);
        store.dirty?.add(this.key);
      },
      delete() {
        store.map.delete(this.key);
        store.dirty?.add(this.key);
      },
    };
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): S | undefined {
    return this.map.get(key);
  }

  /** Sets or (undefined) deletes a key without marking it changed: a restore. */
  put(key: string, value: S | undefined): void {
    if (value === undefined) this.map.delete(key);
    else this.map.set(key, value);
  }

  /** Marks a key changed (its timers changed, say), so the changelog writes it again. */
  touch(key: string): void {
    this.dirty?.add(key);
  }

  /** Drops keys (partitions given away), without writing them to the changelog. */
  drop(keep: (key: string) => boolean): void {
    for (const k of [...this.map.keys()]) if (!keep(k)) this.map.delete(k);
    if (this.dirty) for (const k of [...this.dirty]) if (!keep(k)) this.dirty.delete(k);
  }

  entries(): Array<[string, S]> {
    return [...this.map.entries()];
  }

  /** Keys changed since the last call (what a changelog must write); empty unless tracking. */
  takeDirty(): string[] {
    if (!this.dirty) return [];
    const keys = [...this.dirty];
    this.dirty.clear();
    return keys;
  }

  snapshot(): string {
    return JSON.stringify(this.entries());
  }

  restore(snapshot: string): void {
    this.map.clear();
    for (const [k, v] of JSON.parse(snapshot) as Array<[string, S]>) this.map.set(k, v);
  }
}

/** Event-time timers: at most one per (key, time). */
export class TimerQueue {
  private readonly byTime = new Map<number, Set<string>>();
  private readonly byKey = new Map<string, Set<number>>();
  private times: number[] = [];

  /** Pending timer times of one key (what a changelog stores beside the key's state). */
  timesOf(key: string): number[] {
    const t = this.byKey.get(key);
    return t ? [...t] : [];
  }

  /** Removes every timer of the keys `drop` selects. */
  dropKeys(drop: (key: string) => boolean): void {
    for (const [key, times] of [...this.byKey]) {
      if (!drop(key)) continue;
      for (const time of times) this.byTime.get(time)?.delete(key);
      this.byKey.delete(key);
    }
  }

  add(key: string, time: number): void {
    let times = this.byKey.get(key);
    if (!times) {
      times = new Set();
      this.byKey.set(key, times);
    }
    times.add(time);
    let keys = this.byTime.get(time);
    if (!keys) {
      keys = new Set();
      this.byTime.set(time, keys);
      // Few distinct times are pending (one per open window), so insertion sort is fine.
      const i = this.times.findIndex((t) => t > time);
      if (i < 0) this.times.push(time);
      else this.times.splice(i, 0, time);
    }
    keys.add(key);
  }

  /** Removes and returns the timers due at `watermark`, oldest first. */
  due(watermark: number): Array<{ key: string; time: number }> {
    const out: Array<{ key: string; time: number }> = [];
    while (this.times.length > 0 && this.times[0]! <= watermark) {
      const time = this.times.shift()!;
      for (const key of this.byTime.get(time) ?? []) {
        out.push({ key, time });
        const times = this.byKey.get(key);
        times?.delete(time);
        if (times?.size === 0) this.byKey.delete(key);
      }
      this.byTime.delete(time);
    }
    return out;
  }

  get size(): number {
    let n = 0;
    for (const s of this.byTime.values()) n += s.size;
    return n;
  }
}
