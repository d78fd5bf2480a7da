// live: publishes every record to the in-process LiveHub, on `<prefix>` and
// `<prefix>:<symbol>`, for the API's subscriptions.
import { defineOperator, type LiveHub } from '../../engine/index.js';
import type { Schema } from '../../schemas/index.js';

export function live<T extends { symbol: string }>(opts: { hub: LiveHub; schema: Schema<T>; channel: string }) {
  const { hub, channel } = opts;
  const perSymbol = new Map<string, string>(); // channel names, built once per symbol
  return defineOperator<T>({
    kind: 'sink',
    name: 'live',
    input: opts.schema,
    async write(records) {
      for (const r of records) {
        hub.publish(channel, r.value);
        const symbol = r.value.symbol;
        let name = perSymbol.get(symbol);
        if (name === undefined) {
          name = `${channel}:${symbol}`;
          perSymbol.set(symbol, name);
        }
        hub.publish(name, r.value);
      }
    },
  });
}
