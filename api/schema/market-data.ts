// The market-data source as the dashboard header shows it: which source, its state, whether the
// market is open, and how old the newest quote is.
import { type MarketDataStatus, STALEST_SYMBOLS, type SymbolDataAge } from '../../engine/source-status.js';
import { apiError, ErrorCode } from '../errors.js';
import { builder } from './builder.js';

const BreakerRef = builder.objectRef<MarketDataStatus['breakers'][number]>('Breaker').implement({
  description: 'A circuit breaker of the Yahoo client, per endpoint.',
  fields: (t) => ({
    endpoint: t.exposeString('endpoint', { description: 'quote, chart, search or quoteSummary.' }),
    state: t.exposeString('state', { description: 'closed, half-open (probing) or open (failing fast).' }),
  }),
});

const SymbolDataAgeRef = builder.objectRef<SymbolDataAge>('SymbolDataAge').implement({
  description: 'How old the data held for one symbol is.',
  fields: (t) => ({
    symbol: t.exposeString('symbol'),
    ageSeconds: t.float({
      nullable: true,
      description:
        'Since the source last got an answer for it; null: never answered (unknown, or failing since start).',
      resolve: (s) => (s.ageMs === null ? null : s.ageMs / 1000),
    }),
    stale: t.exposeBoolean('stale', { description: 'Its last fetch failed: the last good values are kept.' }),
  }),
});

interface MarketDataView extends MarketDataStatus {
  /** When the API answered: ages are counted from it. */
  at: number;
}

const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);

const MarketDataRef = builder.objectRef<MarketDataView>('MarketData').implement({
  description: 'Where the prices come from and how fresh they are.',
  fields: (t) => ({
    source: t.exposeString('source', { description: 'replay, yahoo or simulator (synthetic).' }),
    state: t.exposeString('state', {
      description:
        'starting, backfilling, live, degraded (a breaker not closed or stale symbols: last values kept), stopped.',
    }),
    marketOpen: t.exposeBoolean('marketOpen', {
      nullable: true,
      description: 'The NYSE is in a regular session now (null for a replay).',
    }),
    newestQuoteTime: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Event time of the newest quote seen.',
      resolve: (m) => m.newestQuoteTs,
    }),
    newestQuoteAgeSeconds: t.float({
      nullable: true,
      description: 'Now minus the newest quote’s event time.',
      resolve: (m) => (m.newestQuoteTs === null ? null : (m.at - m.newestQuoteTs) / 1000),
    }),
    symbols: t.exposeInt('symbols', { description: 'Symbols in the universe.' }),
    staleSymbols: t.exposeInt('staleSymbols', { description: 'Symbols whose last fetch failed (last values kept).' }),
    dataAgeMaxSeconds: t.float({
      nullable: true,
      description: 'Oldest data held for a symbol, since Yahoo last answered for it.',
      resolve: (m) => seconds(m.dataAgeMaxMs),
    }),
    dataAgeMedianSeconds: t.float({ nullable: true, resolve: (m) => seconds(m.dataAgeMedianMs) }),
    stalest: t.field({
      type: [SymbolDataAgeRef],
      description: `The symbols with the oldest data, oldest first (never answered first); at most ${STALEST_SYMBOLS}, so a large universe stays one small answer. Empty for a replay.`,
      args: { limit: t.arg.int({ required: false, defaultValue: 10, description: `1 … ${STALEST_SYMBOLS}.` }) },
      resolve: (m, args) => {
        const limit = args.limit ?? 10;
        if (!Number.isInteger(limit) || limit < 1 || limit > STALEST_SYMBOLS) {
          throw apiError(ErrorCode.BAD_ARGUMENT, `stalest: limit must be 1 … ${STALEST_SYMBOLS}, got ${limit}`);
        }
        return (m.stalest ?? []).slice(0, limit);
      },
    }),
    breakers: t.field({ type: [BreakerRef], resolve: (m) => m.breakers }),
    lastCycleTime: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Start of the last full quote cycle.',
      resolve: (m) => m.lastCycleAt,
    }),
  }),
});

builder.queryFields((t) => ({
  marketData: t.field({
    type: MarketDataRef,
    nullable: true,
    description: 'The market-data source and its state (null when this process does not run or know it).',
    resolve: async (_root, _args, { services }) => {
      const status = (await services.started()).marketData();
      return status ? { ...status, at: Date.now() } : null;
    },
  }),
}));
