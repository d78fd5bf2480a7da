// bars: quotes → OHLCV bars over event-time windows, closed by the watermark.
// Daily bars read the day's cumulative fields (a daily replay row is one quote); minute
// bars aggregate last prices and take volume from the growth of the cumulative day volume.
import { defineOperator, RecordError } from '../../engine/index.js';
import { type Quote, schemas } from '../../schemas/index.js';

export type BarInterval = '1d' | '1m';

export interface BarsOptions {
  interval: BarInterval;
  /** How long after a window ends a late quote is still accepted, ms (default 0). */
  graceMs?: number;
  /**
   * Only quotes from these sources make bars; others are skipped (e.g. minute bars from live
   * `yahoo` quotes, not from the `yahoo-history` daily rows of a backfill). Default: every source.
   */
  sources?: readonly string[];
}

interface Window {
  start: number;
  open: number;
  openTs: number;
  high: number;
  low: number;
  close: number;
  closeTs: number;
  /** Cumulative day volume at the latest quote. */
  dayVolume: number;
  quotes: number;
  source: string;
}

interface BarsState {
  /** Open windows by start time (a late quote may still land in the previous one). */
  windows: { [start: string]: Window };
  /** Cumulative day volume when the last minute window closed (minute bars only). */
  closedDayVolume: number;
  closedDay: number;
}

export const INTERVAL_MS: Record<BarInterval, number> = { '1d': 86_400_000, '1m': 60_000 };

export function bars(opts: BarsOptions) {
  const size = INTERVAL_MS[opts.interval];
  const grace = opts.graceMs ?? 0;
  const daily = opts.interval === '1d';
  const sources = opts.sources ? new Set(opts.sources) : null;
  return defineOperator<Quote, { bars: typeof schemas.Bar }, BarsState>({
    kind: 'transform',
    name: 'bars',
    input: schemas.Quote,
    outputs: { bars: schemas.Bar },
    state: { description: 'open windows per symbol, and the day volume at the last closed minute' },
    process({ value: q }, ctx) {
      if (sources && !sources.has(q.source)) return;
      const start = Math.floor(q.ts / size) * size;
      if (start + size + grace <= ctx.watermark) {
        throw new RecordError(
          `late quote: ${new Date(q.ts).toISOString()} is in a window closed at ${new Date(start + size + grace).toISOString()} (watermark ${new Date(ctx.watermark).toISOString()}, grace ${grace} ms)`,
          'late',
        );
      }
      const state = ctx.state.get() ?? { windows: {}, closedDayVolume: 0, closedDay: 0 };
      const w = state.windows[start];
      const high = Math.max(q.price, daily ? (q.dayHigh ?? q.price) : q.price);
      const low = Math.min(q.price, daily ? (q.dayLow ?? q.price) : q.price);
      if (!w) {
        state.windows[start] = {
          start,
          open: daily ? (q.dayOpen ?? q.price) : q.price,
          openTs: q.ts,
          high,
          low,
          close: q.price,
          closeTs: q.ts,
          dayVolume: q.dayVolume ?? 0,
          quotes: 1,
          source: q.source,
        };
        ctx.setTimer(start + size + grace);
      } else {
        // Policy: an exact re-delivery of the latest quote changes nothing.
        if (q.ts === w.closeTs && q.price === w.close) return;
        w.high = Math.max(w.high, high);
        w.low = Math.min(w.low, low);
        if (q.ts >= w.closeTs) {
          w.close = q.price;
          w.closeTs = q.ts;
        }
        if (q.ts < w.openTs) {
          w.openTs = q.ts;
          if (!daily) w.open = q.price;
        }
        if (daily && q.dayOpen !== null) w.open = q.dayOpen;
        // Cumulative: the largest seen is the latest, whatever order quotes arrive in.
        w.dayVolume = Math.max(w.dayVolume, q.dayVolume ?? 0);
        w.quotes += 1;
      }
      ctx.state.set(state);
    },
    onTimer({ key, time }, ctx) {
      const state = ctx.state.get();
      const start = time - size - grace;
      const w = state?.windows[start];
      if (!state || !w) return;
      let volume = w.dayVolume;
      if (!daily) {
        const day = Math.floor(start / INTERVAL_MS['1d']);
        const before = state.closedDay === day ? state.closedDayVolume : 0;
        volume = Math.max(0, w.dayVolume - before);
        state.closedDay = day;
        state.closedDayVolume = Math.max(before, w.dayVolume);
      }
      ctx.emit(
        'bars',
        {
          symbol: key,
          ts: start,
          interval: opts.interval,
          open: w.open,
          high: w.high,
          low: w.low,
          close: w.close,
          volume,
          quotes: w.quotes,
          source: w.source,
        },
        { timestamp: start },
      );
      // Daily bars keep no state between windows: the last one closing drops it. (Not a `delete`
      // first: deleting a property of the object turned it slow, 3% of a Kafka worker's CPU.)
      if (daily && onlyWindow(state.windows, start)) return ctx.state.delete();
      delete state.windows[start];
      ctx.state.set(state);
    },
  });
}

/** Whether `start` is the one window open. */
function onlyWindow(windows: Record<string, unknown>, start: number): boolean {
  for (const k in windows) if (Number(k) !== start) return false;
  return true;
}
