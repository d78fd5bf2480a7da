// Yahoo's records (as yahoo-finance2 returns them: validated, dates coerced to Date) → the plain
// types the yahoo source uses, checked strictly: a record without what we need is reported with
// the reason, never half-used. Times are epoch ms.

/** One quote, the fields the `quotes` topic and the market-hours logic need. */
export interface QuoteFields {
  symbol: string;
  /** regularMarketTime: the event time. */
  ts: number;
  /** regularMarketPrice. */
  price: number;
  dayOpen: number | null;
  dayHigh: number | null;
  dayLow: number | null;
  dayVolume: number | null;
  previousClose: number | null;
  currency: string | null;
  exchange: string | null;
  exchangeTimezoneName: string | null;
  /** PRE, REGULAR, POST, POSTPOST, PREPRE, CLOSED. */
  marketState: string | null;
  /** EQUITY, ETF, CRYPTOCURRENCY… */
  quoteType: string | null;
}

/** One daily bar of `chart` (interval 1d). */
export interface DailyBar {
  /** The trading day in the exchange's time zone, YYYY-MM-DD. */
  date: string;
  /** Yahoo's timestamp of the bar (the session's start). */
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Close adjusted for splits and dividends, when Yahoo gives it. */
  adjClose: number | null;
  volume: number | null;
}

export interface DailyHistory {
  symbol: string;
  currency: string | null;
  exchangeTimezoneName: string | null;
  /** EQUITY, ETF, MUTUALFUND… */
  instrumentType: string | null;
  bars: DailyBar[];
  /** Rows Yahoo sent without prices (null open/high/low/close), left out of `bars`. */
  skipped: Array<{ date: string; reason: string }>;
}

/** A headline from Yahoo's search. */
export interface NewsItem {
  uuid: string;
  title: string;
  publisher: string | null;
  link: string;
  providerPublishTime: number;
  relatedTickers: string[];
  /** STORY, VIDEO… */
  type: string | null;
}

/** The next earnings of a symbol, from quoteSummary calendarEvents. */
export interface UpcomingEarnings {
  symbol: string;
  /** One date, or the window Yahoo expects it in (two dates) when `isEstimate`. */
  earningsDates: number[];
  isEstimate: boolean;
  /** Dates of the earnings calls Yahoo lists (often the last one). */
  callDates: number[];
}

type Rec = Record<string, unknown>;

/** A quote result → QuoteFields, or why not. */
export function toQuoteFields(record: unknown): QuoteFields | { reason: string } {
  if (!isRecord(record)) return { reason: 'not an object' };
  if (typeof record.symbol !== 'string' || record.symbol === '') return { reason: 'no symbol' };
  const price = finite(record.regularMarketPrice);
  if (price === null || price <= 0)
    return { reason: `no usable regularMarketPrice (${show(record.regularMarketPrice)})` };
  const ts = time(record.regularMarketTime);
  if (ts === null) return { reason: `no usable regularMarketTime (${show(record.regularMarketTime)})` };
  return {
    symbol: record.symbol,
    ts,
    price,
    dayOpen: finite(record.regularMarketOpen),
    dayHigh: finite(record.regularMarketDayHigh),
    dayLow: finite(record.regularMarketDayLow),
    dayVolume: finite(record.regularMarketVolume),
    previousClose: finite(record.regularMarketPreviousClose),
    currency: text(record.currency),
    exchange: text(record.exchange),
    exchangeTimezoneName: text(record.exchangeTimezoneName),
    marketState: text(record.marketState),
    quoteType: text(record.quoteType),
  };
}

/** yahoo-finance2's chart() result (array form) → DailyHistory. */
export function toDailyHistory(symbol: string, chart: unknown): DailyHistory {
  const c = isRecord(chart) ? chart : {};
  const meta = isRecord(c.meta) ? c.meta : {};
  const tz = text(meta.exchangeTimezoneName);
  const day = dayFormatter(tz ?? 'UTC');
  const bars: DailyBar[] = [];
  const skipped: DailyHistory['skipped'] = [];
  for (const row of Array.isArray(c.quotes) ? c.quotes : []) {
    if (!isRecord(row)) continue;
    const ts = time(row.date);
    if (ts === null) continue;
    const date = day(ts);
    const open = finite(row.open);
    const high = finite(row.high);
    const low = finite(row.low);
    const close = finite(row.close);
    if (open === null || high === null || low === null || close === null) {
      skipped.push({ date, reason: 'no prices (null open, high, low or close)' });
      continue;
    }
    bars.push({ date, ts, open, high, low, close, adjClose: finite(row.adjclose), volume: finite(row.volume) });
  }
  return {
    symbol: text(meta.symbol) ?? symbol,
    currency: text(meta.currency),
    exchangeTimezoneName: tz,
    instrumentType: text(meta.instrumentType),
    bars,
    skipped,
  };
}

/** A search news item → NewsItem, or why not. */
export function toNewsItem(item: unknown): NewsItem | { reason: string } {
  if (!isRecord(item)) return { reason: 'not an object' };
  const { uuid, title, link } = item;
  if (typeof uuid !== 'string' || uuid === '') return { reason: 'no uuid' };
  if (typeof title !== 'string' || title.trim() === '') return { reason: 'no title' };
  if (typeof link !== 'string' || link === '') return { reason: 'no link' };
  const published = time(item.providerPublishTime);
  if (published === null) return { reason: `no usable providerPublishTime (${show(item.providerPublishTime)})` };
  return {
    uuid,
    title: title.trim(),
    publisher: text(item.publisher),
    link,
    providerPublishTime: published,
    relatedTickers: Array.isArray(item.relatedTickers)
      ? item.relatedTickers.filter((t): t is string => typeof t === 'string')
      : [],
    type: text(item.type),
  };
}

/** quoteSummary({modules: ['calendarEvents']}) → UpcomingEarnings, or null when it lists no date. */
export function toUpcomingEarnings(symbol: string, summary: unknown): UpcomingEarnings | null {
  const events = isRecord(summary) && isRecord(summary.calendarEvents) ? summary.calendarEvents : undefined;
  const earnings = events && isRecord(events.earnings) ? events.earnings : undefined;
  if (!earnings) return null;
  const dates = (xs: unknown) =>
    (Array.isArray(xs) ? xs : [])
      .map(time)
      .filter((t): t is number => t !== null)
      .sort((a, b) => a - b);
  const earningsDates = dates(earnings.earningsDate);
  if (earningsDates.length === 0) return null;
  return {
    symbol,
    earningsDates,
    isEstimate: earnings.isEarningsDateEstimate === true,
    callDates: dates(earnings.earningsCallDate),
  };
}

function isRecord(x: unknown): x is Rec {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function finite(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

function text(x: unknown): string | null {
  return typeof x === 'string' && x !== '' ? x : null;
}

/** A Date (as yahoo-finance2 coerces) or epoch seconds (as Yahoo sends) → epoch ms. */
function time(x: unknown): number | null {
  if (x instanceof Date) return Number.isNaN(x.getTime()) ? null : x.getTime();
  if (typeof x === 'number' && Number.isFinite(x) && x > 0) return x * 1000;
  return null;
}

function show(x: unknown): string {
  return x === undefined ? 'missing' : (JSON.stringify(x)?.slice(0, 40) ?? String(x));
}

function dayFormatter(timeZone: string): (ts: number) => string {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  } catch {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' });
  }
  return (ts) => format.format(ts);
}
