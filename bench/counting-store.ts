// What the pipeline and Kafka benchmarks share: a store wrapper that says when an update's last
// prediction is in, and the median they report.
import type { TimeSeriesStore } from '../storage/timeseries-store.js';

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Counts stored predictions so the bench knows when the last one of an update is in. */
export function counting(store: TimeSeriesStore) {
  let stored = 0;
  let waiter: { target: number; resolve: () => void } | null = null;
  const wrapped: TimeSeriesStore = Object.create(store);
  wrapped.upsertBars = (rows) => store.upsertBars(rows);
  wrapped.upsertPredictions = async (rows) => {
    await store.upsertPredictions(rows);
    stored += rows.length;
    if (waiter && stored >= waiter.target) {
      waiter.resolve();
      waiter = null;
    }
  };
  return {
    store: wrapped,
    stored: () => stored,
    until: (target: number) =>
      stored >= target ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { target, resolve })),
  };
}
