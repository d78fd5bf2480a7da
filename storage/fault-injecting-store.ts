// FOR TESTS AND SOAKS ONLY (TICKCAST_FAULTS): a time-series store whose writes fail in given
// windows of time, so a soak can check that the pipeline's store sinks hold and retry (engine
// retry with backoff) instead of dropping rows, and what /healthz says meanwhile. Reads and
// ping() pass through: the store still answers, only its writes fail.
import type { TimeSeriesStore } from './timeseries-store.js';

/** One injected fault: `store-writes` from `atMs` after the process started, for `forMs`. */
export interface StoreFault {
  readonly kind: 'store-writes';
  readonly atMs: number;
  readonly forMs: number;
}

/** What a write in a fault window throws. */
export class InjectedFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InjectedFault';
  }
}

export interface FaultOptions {
  /** What `atMs` counts from, epoch ms; default the process's start (`performance.timeOrigin`). */
  origin?: number;
  /** The clock, epoch ms (tests). */
  now?: () => number;
  /** Told when each window opens and closes (timers; none when omitted). */
  log?: (line: string) => void;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/**
 * `store` with writes (upsertBars, upsertPredictions, upsertScores, upsertRecords) that throw
 * InjectedFault while a fault window is open; the same store when there are no faults.
 */
export function withStoreFaults(
  store: TimeSeriesStore,
  faults: readonly StoreFault[],
  opts: FaultOptions = {},
): TimeSeriesStore {
  const windows = faults.filter((f) => f.kind === 'store-writes');
  if (windows.length === 0) return store;
  const origin = opts.origin ?? performance.timeOrigin;
  const now = opts.now ?? Date.now;
  const open = () => {
    const t = now() - origin;
    return windows.find((w) => t >= w.atMs && t < w.atMs + w.forMs);
  };
  const timers: NodeJS.Timeout[] = [];
  if (opts.log) {
    const log = opts.log;
    for (const w of windows) {
      const startIn = w.atMs - (now() - origin);
      if (startIn + w.forMs <= 0) continue;
      const at = (ms: number, line: string) => {
        const timer = setTimeout(() => log(line), Math.max(0, ms));
        timer.unref();
        timers.push(timer);
      };
      at(startIn, `fault injection: store writes fail for ${seconds(w.forMs)} (TICKCAST_FAULTS)`);
      at(startIn + w.forMs, 'fault injection: store writes work again (TICKCAST_FAULTS)');
    }
  }
  /** Throws while a window is open. */
  const check = (what: string) => {
    const w = open();
    if (w) {
      throw new InjectedFault(
        `injected fault: ${what} failed (TICKCAST_FAULTS store-writes@${seconds(w.atMs)}+${seconds(w.forMs)})`,
      );
    }
  };
  return {
    kind: store.kind,
    upsertBars: async (bars) => {
      check('upsertBars');
      return store.upsertBars(bars);
    },
    upsertPredictions: async (predictions) => {
      check('upsertPredictions');
      return store.upsertPredictions(predictions);
    },
    upsertScores: async (scores) => {
      check('upsertScores');
      return store.upsertScores(scores);
    },
    upsertRecords: async (table, records) => {
      check('upsertRecords');
      return store.upsertRecords(table, records);
    },
    latestBars: (symbols, interval) => store.latestBars(symbols, interval),
    bars: (symbol, query) => store.bars(symbol, query),
    ohlc: (symbol, query) => store.ohlc(symbol, query),
    latestPredictions: (symbols, horizon) => store.latestPredictions(symbols, horizon),
    predictions: (symbol, query) => store.predictions(symbol, query),
    scores: (symbol, query) => store.scores(symbol, query),
    scoreDays: (query) => store.scoreDays(query),
    records: (table, key, query) => store.records(table, key, query),
    symbols: () => store.symbols(),
    counts: () => store.counts(),
    ping: () => store.ping(),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      await store.close();
    },
  };
}
