// The newest prediction per (symbol, horizon) and bar per symbol, kept in memory from the live
// feed, so `prediction(symbol)` is a map lookup; the store answers what the cache has not seen
// (an API started against an existing database, or a symbol quiet since start-up).
import type { Unsubscribe } from '../engine/index.js';
import type { Bar, Prediction } from '../schemas/index.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { LiveFeed } from './pubsub.js';

/** How long the store's symbol list is trusted before it is read again. */
const SYMBOLS_TTL_MS = 5000;

export class LatestCache {
  private readonly predictions = new Map<string, Map<number, Prediction>>();
  private readonly bars = new Map<string, Bar>();
  private readonly unsubscribes: Unsubscribe[];
  private storeSymbols: { at: number; symbols: Promise<ReadonlySet<string>> } | null = null;

  constructor(
    feed: LiveFeed,
    private readonly store: TimeSeriesStore,
  ) {
    this.unsubscribes = [
      feed.subscribeAll('predictions', (p) => {
        let byHorizon = this.predictions.get(p.symbol);
        if (!byHorizon) {
          byHorizon = new Map();
          this.predictions.set(p.symbol, byHorizon);
        }
        const seen = byHorizon.get(p.horizon);
        if (!seen || seen.ts <= p.ts) byHorizon.set(p.horizon, p);
      }),
      feed.subscribeAll('bars', (b) => {
        const seen = this.bars.get(b.symbol);
        if (!seen || seen.ts <= b.ts) this.bars.set(b.symbol, b);
      }),
    ];
  }

  async prediction(symbol: string, horizon: number): Promise<Prediction | null> {
    const hit = this.predictions.get(symbol)?.get(horizon);
    if (hit) return hit;
    return (await this.store.latestPredictions([symbol], horizon))[0] ?? null;
  }

  /** Latest prediction of each symbol at `horizon`, in the order asked. */
  async predictionsOf(symbols: readonly string[], horizon: number): Promise<Prediction[]> {
    const found = new Map<string, Prediction>();
    const missing: string[] = [];
    for (const s of symbols) {
      const hit = this.predictions.get(s)?.get(horizon);
      if (hit) found.set(s, hit);
      else missing.push(s);
    }
    if (missing.length > 0)
      for (const p of await this.store.latestPredictions(missing, horizon)) found.set(p.symbol, p);
    return symbols.flatMap((s) => found.get(s) ?? []);
  }

  async quote(symbol: string): Promise<Bar | null> {
    return this.bars.get(symbol) ?? (await this.store.latestBars([symbol]))[0] ?? null;
  }

  /** Every symbol with bars, in the store or seen on the feed, sorted. */
  async symbols(): Promise<string[]> {
    const all = new Set(await this.storeSymbolSet());
    for (const s of this.bars.keys()) all.add(s);
    return [...all].sort();
  }

  async has(symbol: string): Promise<boolean> {
    if (this.bars.has(symbol) || this.predictions.has(symbol)) return true;
    if ((await this.storeSymbolSet()).has(symbol)) return true;
    // Maybe a symbol newer than the cached list: read the list again, at most once a second.
    if (this.storeSymbols && performance.now() - this.storeSymbols.at < 1000) return false;
    this.storeSymbols = null;
    return (await this.storeSymbolSet()).has(symbol);
  }

  close(): void {
    for (const u of this.unsubscribes) u();
  }

  private storeSymbolSet(): Promise<ReadonlySet<string>> {
    const now = performance.now();
    if (!this.storeSymbols || now - this.storeSymbols.at > SYMBOLS_TTL_MS) {
      const symbols = this.store.symbols().then((list) => new Set(list));
      // A failed read is not cached.
      symbols.catch(() => {
        if (this.storeSymbols?.symbols === symbols) this.storeSymbols = null;
      });
      this.storeSymbols = { at: now, symbols };
    }
    return this.storeSymbols.symbols;
  }
}
