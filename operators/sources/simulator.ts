// simulator: SYNTHETIC quotes for scale benchmarks only. Prices follow a seeded geometric
// random walk; symbols are SIMxxxxx and every quote says source 'simulator', so synthetic
// data can never pass for market data.
import { defineOperator } from '../../engine/index.js';
import { seededRandom } from '../../models/random.js';
import { type Quote, schemas } from '../../schemas/index.js';

export interface SimulatorOptions {
  /** How many synthetic symbols. */
  symbols: number;
  /** How many ticks (one quote per symbol each); default unbounded until stopped. */
  ticks?: number;
  /** Event time of the first tick, epoch ms (default 2018-01-01 UTC). */
  start?: number;
  /** Event time between ticks, default one day. */
  stepMs?: number;
  /** Wall-clock ms between ticks, default 0 (as fast as the pipeline takes them). */
  paceMs?: number;
  seed?: number;
}

export { seededRandom };

export const SYNTHETIC_PREFIX = 'SIM';
const DAY_MS = 86_400_000;

export function simulatedSymbol(i: number): string {
  return `${SYNTHETIC_PREFIX}${String(i).padStart(5, '0')}`;
}

/** The quotes of one tick for every symbol, advancing `prices` in place. */
export function simulateTick(prices: Float64Array, ts: number, random: () => number): Quote[] {
  const out: Quote[] = new Array(prices.length);
  for (let i = 0; i < prices.length; i++) {
    // Box-Muller normal draw; 1.5% daily volatility.
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const prev = prices[i]!;
    const price = prev * Math.exp(0.015 * z);
    prices[i] = price;
    const high = Math.max(prev, price) * (1 + 0.005 * random());
    const low = Math.min(prev, price) * (1 - 0.005 * random());
    out[i] = {
      symbol: simulatedSymbol(i),
      ts,
      price,
      dayOpen: prev,
      dayHigh: high,
      dayLow: low,
      dayVolume: Math.round(1e5 + 1e6 * random()),
      source: 'simulator',
    };
  }
  return out;
}

export function simulator(opts: SimulatorOptions) {
  return defineOperator({
    kind: 'source',
    name: 'simulator',
    outputs: { quotes: schemas.Quote },
    async run(ctx) {
      const random = seededRandom(opts.seed ?? 42);
      const prices = Float64Array.from({ length: opts.symbols }, () => 20 + 180 * random());
      const stepMs = opts.stepMs ?? DAY_MS;
      const start = opts.start ?? Date.UTC(2018, 0, 1);
      for (let tick = 0; opts.ticks === undefined || tick < opts.ticks; tick++) {
        if (ctx.signal.aborted) return;
        const started = Date.now();
        const windowStart = start + tick * stepMs;
        for (const q of simulateTick(prices, windowStart + stepMs / 2, random)) {
          await ctx.emit('quotes', q, { timestamp: q.ts });
        }
        await ctx.watermark(windowStart + stepMs);
        ctx.progress((tick + 1) * opts.symbols, opts.ticks === undefined ? undefined : opts.ticks * opts.symbols);
        const wait = (opts.paceMs ?? 0) - (Date.now() - started);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    },
  });
}
