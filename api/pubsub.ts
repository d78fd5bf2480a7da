// Where the API's live data comes from: a LiveFeed of predictions and bars, per symbol.
//
// Embedded (today): the pipeline's `live` sinks publish every record to the in-process LiveHub
// on `<topic>` and `<topic>:<SYMBOL>`; hubFeed() reads those channels. No database is polled.
//
// Kafka (scale-out), same interface: each API replica runs one consumer of the `predictions`
// and `bars` topics in a consumer group of its own (e.g. `tickcast-api.<hostname>`, starting
// at the latest offset, no commits needed), decodes the Avro records with the Schema
// Registry serde and publishes each to a local LiveHub exactly as the `live` sink does — then
// hubFeed() over that hub. Every replica sees every record and fans out to its own clients;
// adding replicas adds fan-out capacity without touching the pipeline.
import type { LiveHub, Unsubscribe } from '../engine/index.js';
import type { Bar, Prediction } from '../schemas/index.js';

export interface LiveTopics {
  predictions: Prediction;
  bars: Bar;
}
export type LiveTopic = keyof LiveTopics;

export interface LiveFeed {
  /** Records of `topic` for one symbol, as they are produced. */
  subscribe<K extends LiveTopic>(topic: K, symbol: string, listener: (value: LiveTopics[K]) => void): Unsubscribe;
  /** Every record of `topic` (feeds the latest-value cache). */
  subscribeAll<K extends LiveTopic>(topic: K, listener: (value: LiveTopics[K]) => void): Unsubscribe;
  /** Listeners on one symbol's channel (metrics, tests). */
  listeners(topic: LiveTopic, symbol: string): number;
  /**
   * Records on any channel of the live sinks (`<channel>` and `<channel>:<SYMBOL>`): a public topic's,
   * whose `live` sink publishes on the topic's name. Their type is the topic's schema's.
   */
  channel(name: string, listener: (value: unknown) => void): Unsubscribe;
}

/** The in-process feed: the LiveHub that the pipeline's `live` sinks publish to. */
export function hubFeed(hub: LiveHub): LiveFeed {
  return {
    // The hub carries unknown values; the live sinks of these channels publish only records
    // validated against the topic's schema, which is what makes these casts hold.
    subscribe: (topic, symbol, listener) => hub.subscribe(`${topic}:${symbol}`, listener as (value: unknown) => void),
    subscribeAll: (topic, listener) => hub.subscribe(topic, listener as (value: unknown) => void),
    listeners: (topic, symbol) => hub.listeners(`${topic}:${symbol}`),
    channel: (name, listener) => hub.subscribe(name, listener),
  };
}

/** Most undelivered batches kept per subscriber; a slow client loses the oldest, not the server memory. */
const SUBSCRIBER_BUFFER = 64;

/**
 * Records of `topic` for `symbols` as an async iterator of batches: whatever arrives in one
 * turn of the event loop goes out as one message, so a 5,000-symbol update costs one message
 * per subscriber rather than one per record. It listens from the call on; return() stops it.
 */
export function watchSymbols<K extends LiveTopic>(
  feed: LiveFeed,
  topic: K,
  symbols: readonly string[],
  accept: (value: LiveTopics[K]) => boolean = () => true,
): AsyncIterableIterator<LiveTopics[K][]> {
  return watch<LiveTopics[K]>((listener) => symbols.map((s) => feed.subscribe(topic, s, listener)), accept);
}

/** Records published on these channels (see LiveFeed.channel), batched per turn like watchSymbols. */
export function watchChannels(
  feed: LiveFeed,
  channels: readonly string[],
  accept: (value: unknown) => boolean = () => true,
): AsyncIterableIterator<unknown[]> {
  return watch<unknown>((listener) => channels.map((c) => feed.channel(c, listener)), accept);
}

function watch<T>(
  subscribe: (listener: (value: T) => void) => Unsubscribe[],
  accept: (value: T) => boolean,
): AsyncIterableIterator<T[]> {
  return batchIterator<T>((emit) => {
    let pending: T[] = [];
    let scheduled = false;
    let stopped = false;
    const flush = () => {
      scheduled = false;
      const batch = pending;
      pending = [];
      if (!stopped) emit(batch);
    };
    const listener = (value: T) => {
      if (!accept(value)) return;
      pending.push(value);
      if (!scheduled) {
        scheduled = true;
        flushSoon(flush);
      }
    };
    const unsubscribes = subscribe(listener);
    return () => {
      stopped = true;
      for (const u of unsubscribes) u();
    };
  });
}

/** Watchers with records waiting, flushed together: one setImmediate per turn, not one per subscriber. */
let due: Array<() => void> = [];

function flushSoon(flush: () => void): void {
  if (due.push(flush) === 1) setImmediate(flushDue);
}

function flushDue(): void {
  // Records published while flushing go to the next turn.
  const now = due;
  due = [];
  for (const flush of now) {
    try {
      flush();
    } catch {
      // One subscriber's failure must not stall the others' updates.
    }
  }
}

/**
 * An async iterator over batches that `start` emits, keeping the newest SUBSCRIBER_BUFFER
 * undelivered ones. Written here rather than with a Repeater (used before): with 10,000
 * subscribers every update pushes 10,000 batches, and the Repeater's push was about a tenth of
 * the fan-out's CPU in the bench:api profile.
 */
function batchIterator<T>(start: (emit: (batch: T[]) => void) => () => void): AsyncIterableIterator<T[]> {
  const buffer: T[][] = [];
  const waiting: Array<(result: IteratorResult<T[], undefined>) => void> = [];
  let done = false;
  const stop = start((batch) => {
    if (done) return;
    const reader = waiting.shift();
    if (reader) reader({ value: batch, done: false });
    else if (buffer.push(batch) > SUBSCRIBER_BUFFER) buffer.shift();
  });
  const finish = () => {
    if (done) return;
    done = true;
    buffer.length = 0;
    stop();
    for (const reader of waiting.splice(0)) reader({ value: undefined, done: true });
  };
  return {
    next: () => {
      const batch = buffer.shift();
      if (batch) return Promise.resolve({ value: batch, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
    },
    return: () => {
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw: (err: unknown) => {
      finish();
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Symbols someone watches right now: those with a subscriber on `predictions:<SYMBOL>` or
 * `bars:<SYMBOL>` of the in-process hub (dashboard watchlists and symbol pages, API
 * subscriptions). The live source polls them more often than the rest of its universe.
 */
export function watchedSymbols(hub: LiveHub): ReadonlySet<string> {
  const out = new Set<string>();
  for (const channel of hub.channels()) {
    const colon = channel.indexOf(':');
    if (colon < 0) continue;
    const topic = channel.slice(0, colon);
    if (topic === 'predictions' || topic === 'bars') out.add(channel.slice(colon + 1));
  }
  return out;
}
