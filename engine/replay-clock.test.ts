import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createReplayClock } from './index.js';

/** Names of the waits that have resolved so far, after pending callbacks ran. */
async function settled(waits: { [name: string]: Promise<void> }): Promise<string[]> {
  const done: string[] = [];
  for (const [name, p] of Object.entries(waits)) void p.then(() => done.push(name));
  await new Promise<void>((r) => setImmediate(r));
  return done.sort();
}

describe('replay clock', () => {
  it('releases each wait once the advancing source passes its time', async () => {
    const clock = createReplayClock();
    const signal = new AbortController().signal;
    expect(clock.now).toBe(Number.NEGATIVE_INFINITY);
    const waits = { monday: clock.until(100, signal), tuesday: clock.until(200, signal) };
    expect(await settled(waits)).toEqual([]);

    clock.advance(150);
    expect(clock.now).toBe(150);
    expect(await settled(waits)).toEqual(['monday']);

    clock.advance(120); // never backwards
    expect(clock.now).toBe(150);
    clock.advance(200); // reaching the time is enough
    expect(await settled(waits)).toEqual(['monday', 'tuesday']);
    // A time already passed resolves at once.
    expect(await settled({ past: clock.until(10, signal) })).toEqual(['past']);
  });

  it('releases every wait when the advancing source ends, and later waits too', async () => {
    const clock = createReplayClock();
    const signal = new AbortController().signal;
    const waits = { soon: clock.until(1, signal), never: clock.until(Number.MAX_SAFE_INTEGER, signal) };
    clock.end();
    expect(await settled(waits)).toEqual(['never', 'soon']);
    expect(clock.now).toBe(Number.POSITIVE_INFINITY);
    expect(await settled({ after: clock.until(5, signal) })).toEqual(['after']);
  });

  it('releases a wait whose signal aborts, and leaves no listener behind', async () => {
    const clock = createReplayClock();
    const stop = new AbortController();
    const other = new AbortController().signal;
    const waits = { stopped: clock.until(100, stop.signal), other: clock.until(100, other) };
    stop.abort();
    expect(await settled(waits)).toEqual(['stopped']);
    expect(await settled({ aborted: clock.until(100, stop.signal) })).toEqual(['aborted']);
    expect(getEventListeners(other, 'abort')).toHaveLength(1);
    clock.advance(100);
    expect(await settled(waits)).toEqual(['other', 'stopped']);
    expect(getEventListeners(other, 'abort')).toHaveLength(0);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });
});
