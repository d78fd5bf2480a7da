// live: publishes every record to the in-process LiveHub, on `<channel>` and, for a record with a
// symbol, on `<channel>:<symbol>`, for the API's subscriptions. Given a topic declaration instead
// (`live({ hub, topic })`), the channel is the topic's name: the one its generated GraphQL
// subscription listens on (api/schema/records.ts), so the two cannot disagree.
import { defineOperator, type LiveHub } from '../../engine/index.js';
import type { Schema } from '../../schemas/index.js';

export function live<T>(
  opts: { hub: LiveHub } & ({ schema: Schema<T>; channel: string } | { topic: { name: string; schema: Schema<T> } }),
) {
  const { hub } = opts;
  const [channel, schema] = 'topic' in opts ? [opts.topic.name, opts.topic.schema] : [opts.channel, opts.schema];
  const perSymbol = new Map<string, string>(); // channel names, built once per symbol
  return defineOperator<T>({
    kind: 'sink',
    name: 'live',
    input: schema,
    // It runs where the API serves subscribers (roles all and api), not in the workers' chains.
    feedsApi: true,
    chain: false,
    async write(records) {
      for (const r of records) {
        hub.publish(channel, r.value);
        const symbol = (r.value as { symbol?: unknown }).symbol;
        if (typeof symbol !== 'string') continue;
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
