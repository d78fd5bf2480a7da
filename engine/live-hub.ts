// LiveHub: in-process publish/subscribe by channel. The `live` sink publishes to it and the
// API subscribes, so subscribers get records as they are produced, with no polling. With
// Kafka, each API replica feeds its own hub from its own consumer group.

export type Unsubscribe = () => void;

export interface LiveHub {
  publish(channel: string, value: unknown): void;
  subscribe(channel: string, listener: (value: unknown) => void): Unsubscribe;
  /** Subscribers per channel (for metrics and tests). */
  listeners(channel: string): number;
  /** Channels with at least one subscriber (e.g. `predictions:AAPL`: someone watches AAPL). */
  channels(): string[];
}

export function createLiveHub(): LiveHub {
  const channels = new Map<string, Set<(value: unknown) => void>>();
  return {
    publish(channel, value) {
      const set = channels.get(channel);
      if (!set) return;
      for (const listener of set) {
        try {
          listener(value);
        } catch {
          // One broken subscriber must not stop the fan-out to the others.
        }
      }
    },
    subscribe(channel, listener) {
      let set = channels.get(channel);
      if (!set) {
        set = new Set();
        channels.set(channel, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) channels.delete(channel);
      };
    },
    listeners: (channel) => channels.get(channel)?.size ?? 0,
    channels: () => [...channels.keys()],
  };
}
