// A real run for explanation tests: the price pipeline with its explanation path replays bundled
// data for AAPL, MSFT and XOM (2015-07-01 → 2016-01-29) into an in-memory store and vector store,
// with a few real headlines of January 2016 (one of them market news, and one after the last close,
// which no explanation may use). Embeddings come from the hashed bag-of-words TEST DOUBLE (fast, stable).
import { join } from 'node:path';
import { createLiveHub, TestDriver } from '../engine/index.js';
import { driftModel } from '../models/baselines.js';
import { loadEarningsCalendar } from '../models/earnings-calendar.js';
import { replay } from '../operators/sources/replay.js';
import { pricePrediction } from '../pipelines/price-prediction.js';
import type { News } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { openDuckDbVectorStore } from '../storage/duckdb-vector-store.js';
import { hashEmbedder } from '../test/support/hash-embedder.js';
import { newsDocument } from './documents.js';
import type { PredictionLookup } from './explanation-service.js';
import type { RetrievalSources } from './retrieval.js';

const ROOT = new URL('..', import.meta.url).pathname;
/** The last replayed day, a Friday. */
export const LAST_DAY = Date.UTC(2016, 0, 29);

export function headline(symbol: string, day: string, text: string): News {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return {
    id: `test:${symbol}:${day}:${text.length}`,
    symbol,
    ts: Date.UTC(y, m - 1, d, 15), // 10:00 in New York
    headline: text,
    source: 'reuters',
    url: null,
    body: null,
    precision: 'minute',
  };
}

export interface ExplainedRun {
  sources: RetrievalSources;
  predictions: PredictionLookup;
  close(): Promise<void>;
}

export async function openExplainedRun(): Promise<ExplainedRun> {
  const store = await openDuckDbStore({ path: ':memory:' });
  const embedder = hashEmbedder();
  const vectors = await openDuckDbVectorStore({ path: ':memory:', embedder });
  const model = driftModel({ horizons: [1, 5] });
  const pipeline = pricePrediction({
    source: replay({
      dir: join(ROOT, 'data/sp500-daily'),
      symbols: ['AAPL', 'MSFT', 'XOM'],
      from: Date.UTC(2015, 6, 1),
      to: LAST_DAY,
    }),
    calendar: await loadEarningsCalendar(
      join(ROOT, 'data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv'),
    ),
    models: { normal: model, earnings: model },
    store,
    hub: createLiveHub(),
    explain: { embedder, vectors },
  });
  await (await TestDriver.create(pipeline)).runSource();
  const news = [
    headline('AAPL', '2016-01-26', 'Apple posts first-ever drop in iPhone sales growth, shares fall'),
    headline('AAPL', '2016-01-27', 'Apple shares slump as iPhone sales stall'),
    headline('MSFT', '2016-01-28', 'Microsoft beats estimates as cloud business grows'),
    // Market news (Reuters files it under a company: AMZN here): what a symbol without headlines gets.
    headline('AMZN', '2016-01-13', 'US STOCKS-Wall St sells off late  S&P 500 falls below 1 900'),
    headline('AAPL', '2016-02-01', 'Apple headline from after the forecast was made'),
  ];
  const vs = await embedder.embed(news.map((n) => newsDocument(n).text));
  await vectors.upsert(news.map((n, i) => ({ ...newsDocument(n), embedding: vs[i]!, embedder: embedder.id })));
  return {
    sources: { store, vectors, embedder },
    predictions: {
      latest: async (s, h) => (await store.latestPredictions([s], h))[0] ?? null,
      has: async (s) => (await store.symbols()).includes(s),
    },
    close: async () => {
      await vectors.close();
      await store.close();
    },
  };
}
