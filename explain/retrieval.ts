// Retrieval for one prediction: its fact sheet (by id), the model's track record for the
// symbol (from the time-series store), and the headlines published before the prediction's
// inputs were complete, ranked by similarity to a query built from the prediction and by
// recency. Never after: every search has `to` = the sheet's asOf, so no look-ahead.
import type { Embedder } from '../models/embedder.js';
import { type Scored, score } from '../models/metrics.js';
import type { Bar, Fact, FactSheet, News, Prediction } from '../schemas/index.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { VectorHit, VectorStore } from '../storage/vector-store.js';
import { factSheetOf, newsOf } from './documents.js';
import { factSheetId } from './fact-sheet.js';
import { pctFromLogReturn } from './format.js';
import type { ExplanationContext, RetrievedFact, RetrievedNews } from './types.js';

const DAY_MS = 86_400_000;

export interface RetrievalSources {
  store: TimeSeriesStore;
  vectors: VectorStore;
  /** The embedder of the vector store (queries must be embedded in the same space). */
  embedder: Embedder;
}

export interface RetrievalOptions {
  /** Headlines from this many days before the prediction; default 90. */
  windowDays?: number;
  /** Headlines returned; default 5. */
  newsLimit?: number;
  /** A headline's weight halves every this many days of age; default 7. */
  halfLifeDays?: number;
  /** Realised forecasts the track record covers; default 60. */
  trackRecord?: number;
  /** Bar length, ms, for the asOf of a prediction without a fact sheet; default one day. */
  intervalMs?: number;
  /**
   * Least cosine similarity of a market-wide headline (used when the symbol has none) to the market query;
   * default `MARKET_MIN_SIMILARITY`. Market-wide headlines must also read as market news (`isMarketStory`).
   */
  marketMinSimilarity?: number;
}

/**
 * Default least similarity of a market-wide headline to the market query. Measured with all-MiniLM-L6-v2 on real
 * headlines: market stories ("US STOCKS-Wall St rises as strong earnings lift consumer stocks", "The 10 Most
 * Expensive Stocks In The S&P 500") score 0.35–0.59, single-company ones 0.04–0.39 ("Agilent Reports Scientific
 * Partnership with the University of Southern California" 0.12): the threshold and `isMarketStory` together keep
 * the second kind out. Another embedder has another scale: set `marketMinSimilarity` for it.
 */
export const MARKET_MIN_SIMILARITY = 0.3;

/**
 * A headline about the market as a whole (indexes, Wall Street, rates, the economy), not one company's news:
 * only those stand in for a symbol that has no headlines of its own.
 */
export function isMarketStory(headline: string): boolean {
  return MARKET_STORY.test(headline);
}

const MARKET_STORY =
  /\b(stocks|stock markets?|markets|wall st(reet)?|s&p( 500)?|dow( jones)?|nasdaq|russell 2000|indexes|indices|futures|treasur(y|ies)|bond yields?|federal reserve|the fed|fed (rate|policy|meeting)|interest rates?|economy|economic|inflation|jobs report|payrolls|gdp|equities|sectors?)\b/i;

export async function retrieve(
  sources: RetrievalSources,
  prediction: Prediction,
  opts: RetrievalOptions = {},
): Promise<ExplanationContext> {
  // The vector store (Chroma, say) may be down: explain from the prediction and the store alone, and say so.
  let degraded: string | null = null;
  const guarded = async <T>(what: string, fallback: T, f: () => Promise<T>): Promise<T> => {
    if (degraded) return fallback;
    try {
      return await f();
    } catch (err) {
      degraded = `${what} failed (${err instanceof Error ? err.message : String(err)}): explained from the prediction and its track record only`;
      return fallback;
    }
  };
  const doc = await guarded('reading the fact sheet', undefined, async () => {
    const [d] = await sources.vectors.get([factSheetId(prediction.symbol, prediction.ts)]);
    return d;
  });
  const sheet = doc ? factSheetOf(doc) : null;
  const asOf = sheet?.asOf ?? prediction.ts + (opts.intervalMs ?? DAY_MS);
  const track = await trackRecord(sources.store, prediction, asOf, opts.trackRecord ?? 60);
  const facts = numbered(orderFacts([...factsFor(sheet, prediction), ...track], prediction.horizon), 'F');
  const query = queryText(prediction, facts);
  const window = { from: asOf - (opts.windowDays ?? 90) * DAY_MS, to: asOf };
  const news = await guarded('searching headlines', [], () =>
    rankedNews(sources, prediction.symbol, query, window, opts),
  );
  return { prediction, sheet, facts, news, query, window, degraded };
}

/** The sheet's facts of this horizon and the shared ones; from the prediction alone when there is no sheet yet. */
function factsFor(sheet: FactSheet | null, p: Prediction): Fact[] {
  if (sheet) return sheet.facts.filter((f) => f.horizon === null || f.horizon === p.horizon);
  const fact = (
    name: string,
    label: string,
    value: number,
    unit: string,
    horizon: number | null = p.horizon,
  ): Fact => ({
    id: `${p.symbol}:${p.ts}:${name}`,
    kind: name.startsWith('h') ? 'prediction' : 'context',
    name,
    label,
    horizon,
    value,
    unit,
    text: null,
  });
  const h = p.horizon;
  return [
    fact('date', 'day of the last price the model saw', Math.floor(p.ts / DAY_MS) * DAY_MS, 'date', null),
    fact('close', 'last close', p.lastClose, 'usd', null),
    fact(`h${h}.horizon`, 'forecast horizon', h, 'days'),
    fact(`h${h}.target`, 'day the forecast is for', p.targetTs, 'date'),
    fact(`h${h}.close`, 'predicted close', p.predictedClose, 'usd'),
    fact(`h${h}.change`, 'predicted change from the last close', pctFromLogReturn(p.predictedReturn), 'pct'),
    fact(`h${h}.lower`, 'low end of the forecast interval', p.lower, 'usd'),
    fact(`h${h}.upper`, 'high end of the forecast interval', p.upper, 'usd'),
    fact(`h${h}.coverage`, 'chance the close lands inside the interval', 80, 'pct'),
  ];
}

const KIND_ORDER = ['prediction', 'driver', 'context', 'earnings', 'track', 'model'];

/** Prediction facts first, then drivers (strongest first), context, earnings, track record, model. */
function orderFacts(facts: readonly Fact[], horizon: number): Fact[] {
  const rank = (f: Fact) => {
    const k = KIND_ORDER.indexOf(f.kind);
    return k < 0 ? KIND_ORDER.length : k;
  };
  const strength = (f: Fact) => (f.kind === 'driver' && f.value !== null && isDriver(f) ? -Math.abs(f.value) : 0);
  return facts
    .filter((f) => f.horizon === null || f.horizon === horizon)
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f) - rank(b.f) || strength(a.f) - strength(b.f) || a.i - b.i)
    .map(({ f }) => f);
}

/** A feature group's contribution: to the point (`h1.driver.momentum`) or, at a constant point, to the interval's width. */
function isDriver(f: Fact): boolean {
  return f.name.includes('.driver.') || f.name.includes('.widthDriver.');
}

function numbered(facts: readonly Fact[], prefix: string): RetrievedFact[] {
  return facts.map((f, i) => ({ ...f, ref: `${prefix}${i + 1}` }));
}

/**
 * How the model did on this symbol before `asOf`: its last `n` realised forecasts of this
 * horizon against the close `horizon` bars later (trading bars, so holidays cannot leave a
 * target pending), scored as `tickcast evaluate` scores (models/metrics.ts): miss in % of the
 * last close, against persistence on the same days, direction and interval coverage.
 */
export async function trackRecord(store: TimeSeriesStore, p: Prediction, asOf: number, n: number): Promise<Fact[]> {
  const h = p.horizon;
  const past = await store.predictions(p.symbol, { horizon: h, to: p.ts, limit: n + h + 5 });
  if (past.length === 0) return [];
  const bars: Bar[] = await store.bars(p.symbol, { from: past[0]!.ts, to: asOf });
  const index = new Map(bars.map((b, i) => [b.ts, i]));
  const rows: Scored[] = [];
  for (const q of past.slice().reverse()) {
    if (rows.length === n) break;
    const i = index.get(q.ts);
    // Only bars before asOf were read: a target still ahead of the prediction is not scored.
    const realised = i === undefined ? undefined : bars[i + h];
    if (!realised) continue;
    const ret = (price: number) => Math.log(price / q.lastClose);
    rows.push({
      ts: q.ts,
      actual: ret(realised.close),
      predicted: q.predictedReturn,
      lower: ret(q.lower),
      upper: ret(q.upper),
    });
  }
  if (rows.length === 0) return [];
  const m = score(rows);
  const fact = (name: string, label: string, value: number, unit: string): Fact => ({
    id: `${p.symbol}:${p.ts}:track.h${h}.${name}`,
    kind: 'track',
    name: `track.h${h}.${name}`,
    label,
    horizon: h,
    value,
    unit,
    text: null,
  });
  const out = [
    fact('count', `recent ${h}-day forecasts for this symbol that can be scored`, m.n, 'count'),
    fact('mae', 'average miss of the predicted close', m.mae, 'pct'),
    fact('persistenceMae', 'average miss of assuming no change (persistence)', m.maePersistence, 'pct'),
    fact('coverage', 'share of closes that landed inside the interval', 100 * m.coverage80, 'pct'),
  ];
  if (Number.isFinite(m.hitRate)) {
    out.push(fact('hitRate', 'share of moves whose direction the model called right', 100 * m.hitRate, 'pct'));
  }
  return out;
}

/** The query a prediction's headlines are ranked against: the symbol, the move and its strongest drivers. */
function queryText(p: Prediction, facts: readonly RetrievedFact[]): string {
  // A constant point has no drivers: the interval's are what the model moved.
  const drivers = facts
    .filter(isDriver)
    .slice(0, 2)
    .map((f) => f.label);
  const move = p.predictedClose >= p.lastClose ? 'shares expected to rise' : 'shares expected to fall';
  return [`${p.symbol} ${move}`, ...drivers, 'earnings, analyst ratings and company news'].join('; ');
}

/** What market-wide headlines are ranked against. */
const MARKET_QUERY =
  'stock market news: Wall Street, the S&P 500, the Dow and the Nasdaq; stocks, rates and the economy';

async function rankedNews(
  sources: RetrievalSources,
  symbol: string,
  query: string,
  window: { from: number; to: number },
  opts: RetrievalOptions,
): Promise<RetrievedNews[]> {
  const limit = opts.newsLimit ?? 5;
  const halfLife = (opts.halfLifeDays ?? 7) * DAY_MS;
  const [embedding] = await sources.embedder.embed([query]);
  if (!embedding) return [];
  // Candidates: the most similar over the whole window, and the most similar of the last
  // half-life (a busy symbol has hundreds of headlines in 90 days: the fresh ones must compete
  // even when older ones are closer to the query). Then re-ranked with recency.
  const search = async (symbols: readonly string[] | undefined, embedding: Float32Array) => {
    const base = { embedding, kind: 'news' as const, symbols, to: window.to };
    const [all, recent] = await Promise.all([
      sources.vectors.query({ ...base, from: window.from, limit: limit * 8 }),
      sources.vectors.query({ ...base, from: Math.max(window.from, window.to - halfLife), limit: limit * 4 }),
    ]);
    return [...new Map([...all, ...recent].map((h) => [h.id, h])).values()];
  };
  let scope: RetrievedNews['scope'] = 'symbol';
  let hits = await search([symbol], embedding);
  if (hits.length === 0) {
    // None of its own: market news, ranked against a query about the market, never another company's story.
    scope = 'market';
    const [market] = await sources.embedder.embed([MARKET_QUERY]);
    const least = opts.marketMinSimilarity ?? MARKET_MIN_SIMILARITY;
    hits = market
      ? (await search(undefined, market)).filter((h) => h.score >= least && isMarketStory(newsOf(h).headline))
      : [];
  }
  // The same story is often there twice ("UPDATE 1-…" beside the first version, or reworded:
  // "Q3" / "third quarter"): keep the best-ranked telling of it.
  const kept: Array<ReadonlySet<string>> = [];
  return hits
    .map((h) => ranked(h, window.to, halfLife, scope))
    .sort((a, b) => b.score - a.score || b.ts - a.ts)
    .filter((n) => {
      const words = new Set(storyOf(n.headline).split(' '));
      if (kept.some((k) => sameStory(k, words))) return false;
      kept.push(words);
      return true;
    })
    .slice(0, limit)
    .map((n, i) => ({ ...n, ref: `N${i + 1}` }));
}

/** Two headlines share most of their words (Jaccard ≥ 0.6): the same story told twice. */
function sameStory(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  let common = 0;
  for (const w of a) if (b.has(w)) common++;
  return common / (a.size + b.size - common) >= 0.6;
}

/** A headline without wire prefixes (UPDATE 2-, BRIEF-, REFILE-), case and punctuation: the story it tells. */
function storyOf(headline: string): string {
  return headline
    .replace(/^((UPDATE \d+|BRIEF|REFILE|CORRECTED|RPT|WRAPUP \d*|EXCLUSIVE)\s*-\s*)+/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

function ranked(h: VectorHit, to: number, halfLifeMs: number, scope: RetrievedNews['scope']): RetrievedNews {
  const news: News = newsOf(h);
  const recency = 0.5 ** ((to - h.ts) / halfLifeMs);
  return { ...news, ref: '', similarity: h.score, score: ((1 + h.score) / 2) * recency, scope };
}
