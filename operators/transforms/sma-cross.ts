// sma-cross: bars → SMA crossover signals. Per symbol (keyed state), the last `slow` closes and
// which average was on top; a signal when the fast simple moving average crosses the slow one.
// The worked example of a stateful operator (operators/README.md, "A stateful operator"):
// its state type is the third type parameter, `state` says why it keeps it (which gives it a
// changelog on Kafka), and `ctx.state` reads and writes the current symbol's.
import { defineOperator } from '../../engine/index.js';
import { type Bar, schemas } from '../../schemas/index.js';

export interface SmaCrossOptions {
  /** Bars in the fast and the slow average; default 20 and 50. */
  fast?: number;
  slow?: number;
}

/** What the operator remembers per symbol: plain data (it goes to a changelog as JSON). */
export interface SmaCrossState {
  /** The last `slow` closes, oldest first. */
  closes: number[];
  /** Start of the newest bar seen: an older or repeated bar is a re-delivery and changes nothing. */
  lastTs: number;
  /** Which average was above on the last bar with both: 1 fast, -1 slow, 0 equal or not yet known. */
  side: number;
}

export function smaCross(opts: SmaCrossOptions = {}) {
  const fast = opts.fast ?? 20;
  const slow = opts.slow ?? 50;
  if (!(Number.isInteger(fast) && Number.isInteger(slow) && fast >= 1 && slow > fast)) {
    throw new RangeError(`sma-cross: fast (${fast}) and slow (${slow}) must be whole numbers with 1 <= fast < slow`);
  }
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return defineOperator<Bar, { signals: typeof schemas.SmaSignal }, SmaCrossState>({
    kind: 'transform',
    name: 'sma-cross',
    input: schemas.Bar,
    outputs: { signals: schemas.SmaSignal },
    state: { description: `the last ${slow} closes of each symbol and which average was on top` },
    process({ value: bar }, ctx) {
      const state = ctx.state.get() ?? { closes: [], lastTs: Number.NEGATIVE_INFINITY, side: 0 };
      if (bar.ts <= state.lastTs) return;
      state.lastTs = bar.ts;
      state.closes.push(bar.close);
      if (state.closes.length > slow) state.closes.shift();
      if (state.closes.length === slow) {
        const f = mean(state.closes.slice(-fast));
        const s = mean(state.closes);
        const side = Math.sign(f - s);
        // A cross: the side flipped (touching, side 0, is not a cross; the next flip is).
        if (side !== 0 && state.side !== 0 && side !== state.side) {
          ctx.emit('signals', {
            symbol: bar.symbol,
            ts: bar.ts,
            direction: side > 0 ? 'up' : 'down',
            close: bar.close,
            fast: f,
            slow: s,
            fastBars: fast,
            slowBars: slow,
          });
        }
        if (side !== 0) state.side = side;
      }
      ctx.state.set(state);
    },
  });
}
