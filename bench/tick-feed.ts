// The source both pipeline benches feed: the bench pushes one tick (a quote per symbol and the
// day's watermark) at a time, so it can time each update from the moment it goes in.
import { defineOperator } from '../engine/index.js';
import { type Quote, schemas } from '../schemas/index.js';

const DAY = 86_400_000;

export type Tick = { quotes: Quote[]; day: number };

export function tickFeed() {
  const queue: Tick[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  const push = (tick: Tick) => {
    queue.push(tick);
    wake?.();
    wake = null;
  };
  const source = defineOperator({
    kind: 'source',
    name: 'bench-feed',
    outputs: { quotes: schemas.Quote },
    async run(ctx) {
      for (;;) {
        const next = queue.shift();
        if (!next) {
          if (finished) return;
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        for (const q of next.quotes) await ctx.emit('quotes', q, { timestamp: q.ts });
        await ctx.watermark(next.day + DAY);
      }
    },
  });
  return {
    source,
    push,
    /** Ends the source after a last, empty tick whose watermark is `day` + 1 day. */
    end: (day: number) => {
      finished = true;
      push({ quotes: [], day });
    },
  };
}
