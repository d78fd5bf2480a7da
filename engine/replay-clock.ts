// A shared event-time clock for replays: one source advances it as it replays (the price
// replay, after each day), others wait on it (the news source), so records of several bounded
// sources come out interleaved in event time instead of one source after the other.
// No wall time is involved: the clock only moves when a source says so.

export interface ReplayClock {
  /** Moves the clock forward to `time` (epoch ms); a time at or before `now` changes nothing. */
  advance(time: number): void;
  /** The advancing source is done: every wait resolves, now and from now on. */
  end(): void;
  /** Resolves once the clock has reached `time`, or has ended, or `signal` aborts. */
  until(time: number, signal: AbortSignal): Promise<void>;
  /** The latest time advanced to (-Infinity before the first advance, +Infinity once ended). */
  readonly now: number;
}

interface Waiter {
  time: number;
  resolve: () => void;
}

export function createReplayClock(): ReplayClock {
  let now = Number.NEGATIVE_INFINITY;
  let waiters: Waiter[] = [];

  const release = (): void => {
    if (waiters.length === 0) return;
    const due = waiters.filter((w) => w.time <= now);
    if (due.length === 0) return;
    waiters = waiters.filter((w) => w.time > now);
    for (const w of due) w.resolve();
  };

  return {
    get now() {
      return now;
    },
    advance(time) {
      if (!(time > now)) return;
      now = time;
      release();
    },
    end() {
      now = Number.POSITIVE_INFINITY;
      release();
    },
    until(time, signal) {
      if (time <= now || signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const waiter: Waiter = {
          time,
          resolve: () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          waiters = waiters.filter((w) => w !== waiter);
          waiter.resolve();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
      });
    },
  };
}
