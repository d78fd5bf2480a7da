// Symbols, latest quotes and bar history.
import type { EarningsEvent } from '../../models/earnings-calendar.js';
import type { Bar } from '../../schemas/index.js';
import { builder } from './builder.js';
import { paginate } from './connection.js';
import { checkInterval, checkRange, knownSymbol } from './validate.js';

// Named Bar since the type is one (it was `Quote`, which is the name of the raw price observations
// on the quotes topic); the fields that say quote for the latest bar stay, deprecated.
export const BarRef = builder.objectRef<Bar>('Bar').implement({
  description: 'An OHLCV bar of one symbol and window (1d or 1m).',
  fields: (t) => ({
    symbol: t.exposeString('symbol'),
    time: t.field({ type: 'DateTime', description: 'Start of the bar window (event time).', resolve: (b) => b.ts }),
    interval: t.exposeString('interval', { description: 'Window length: 1d or 1m.' }),
    open: t.exposeFloat('open'),
    high: t.exposeFloat('high'),
    low: t.exposeFloat('low'),
    close: t.exposeFloat('close'),
    volume: t.exposeFloat('volume'),
    quoteCount: t.exposeInt('quotes', { description: 'Quotes that went into the bar.' }),
    source: t.exposeString('source', { description: 'replay, yahoo or simulator (synthetic).' }),
  }),
});

const EarningsRef = builder.objectRef<EarningsEvent>('EarningsEvent').implement({
  description: 'An earnings announcement (time of day unknown: before the open or after the close).',
  fields: (t) => ({
    date: t.field({ type: 'DateTime', description: 'Announcement day, midnight UTC.', resolve: (e) => e.date }),
    epsEstimate: t.exposeFloat('epsEstimate', { nullable: true }),
    epsActual: t.exposeFloat('epsActual', { nullable: true }),
    surprisePct: t.exposeFloat('surprisePct', { nullable: true, description: 'EPS surprise, percent.' }),
  }),
});

/** At most this many announcements per answer (a quarter each: 25 years). */
const MAX_EARNINGS = 100;

const TickerRef = builder.objectRef<{ symbol: string }>('Ticker').implement({
  fields: (t) => ({
    symbol: t.exposeString('symbol'),
    latestBar: t.field({
      type: BarRef,
      nullable: true,
      description: 'Latest bar.',
      resolve: (s, _args, { services }) => services.latest.quote(s.symbol),
    }),
    quote: t.field({
      type: BarRef,
      nullable: true,
      deprecationReason: 'Use latestBar (the same bar).',
      resolve: (s, _args, { services }) => services.latest.quote(s.symbol),
    }),
  }),
});

builder.queryFields((t) => ({
  symbols: t.connection(
    {
      type: TickerRef,
      description: 'Symbols with data, sorted; `search` matches anywhere in the ticker, case-insensitive.',
      args: { search: t.arg.string({ required: false }) },
      resolve: async (_root, args, { services }) => {
        const needle = args.search?.trim().toUpperCase() ?? '';
        const all = await services.latest.symbols();
        const matching = needle ? all.filter((s) => s.includes(needle)) : all;
        return paginate(
          'symbols',
          matching.map((symbol) => ({ symbol })),
          (s) => [s.symbol],
          args,
          services.limits.maxPageSize,
        );
      },
    },
    { name: 'TickerConnection' },
    { name: 'TickerEdge' },
  ),
  earnings: t.field({
    type: [EarningsRef],
    description: `Earnings announcements of a symbol with day in [from, to), oldest first (at most ${MAX_EARNINGS}).`,
    args: {
      symbol: t.arg.string({ required: true }),
      from: t.arg({ type: 'DateTime', required: false }),
      to: t.arg({ type: 'DateTime', required: false }),
    },
    resolve: async (_root, args, { services }) => {
      const symbol = await knownSymbol(services, args.symbol);
      checkRange(args.from, args.to);
      const out: EarningsEvent[] = [];
      let e = services.calendar.nextEarnings(symbol, args.from ?? 0);
      while (e && (args.to == null || e.date < args.to) && out.length < MAX_EARNINGS) {
        out.push(e);
        e = services.calendar.nextEarnings(symbol, e.date + 86_400_000);
      }
      return out;
    },
  }),
  latestBar: t.field({
    type: BarRef,
    nullable: true,
    description: 'Latest bar of a symbol (live, else from the store).',
    args: { symbol: t.arg.string({ required: true }) },
    resolve: async (_root, args, { services }) => services.latest.quote(await knownSymbol(services, args.symbol)),
  }),
  quote: t.field({
    type: BarRef,
    nullable: true,
    deprecationReason: 'Use latestBar (the same bar).',
    args: { symbol: t.arg.string({ required: true }) },
    resolve: async (_root, args, { services }) => services.latest.quote(await knownSymbol(services, args.symbol)),
  }),
  bars: t.connection(
    {
      type: BarRef,
      description: 'Bars of a symbol with start time in [from, to), oldest first.',
      args: {
        symbol: t.arg.string({ required: true }),
        from: t.arg({ type: 'DateTime', required: false }),
        to: t.arg({ type: 'DateTime', required: false }),
        interval: t.arg.string({ required: false, defaultValue: '1d' }),
      },
      resolve: async (_root, args, { services }) => {
        const symbol = await knownSymbol(services, args.symbol);
        checkRange(args.from, args.to);
        const interval = checkInterval(args.interval ?? '1d');
        const bars = await services.store.bars(symbol, {
          from: args.from ?? undefined,
          to: args.to ?? undefined,
          interval,
        });
        return paginate('bars', bars, (b) => [b.ts], args, services.limits.maxPageSize);
      },
    },
    { name: 'BarConnection' },
    { name: 'BarEdge' },
  ),
}));
