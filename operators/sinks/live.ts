// live: publishes every record to the in-process LiveHub, on `<prefix>` and
// `<prefix>:<symbol>`, for the API's subscriptions.
import { defineOperator, type LiveHub } from '../../engine/index.js';
import type { Schema } from '../../schemas/index.js';

export function live<T extends { symbol: string }>(opts: { hub: LiveHub; schema: Schema<T>; channel: string }) {
  return defineOperator<T>({
    kind: 'sink',
    name: 'live',
    input: opts.schema,
    async write(records) {
      for (const r of records) {
        opts.hub.publish(opts.channel, r.value);
        opts.hub.publish(`${opts.channel}:${r.value.symbol}`, r.value);
      }
    },
  });
}
