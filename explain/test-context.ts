// A hand-made retrieval result for tests of explainers and the grounding checker: AAPL's
// 1-day forecast made from the close of 2018-02-07 (a Wednesday), with a few facts and two
// headlines. Numbers are plausible, not from the data; the real path is tested in retrieval
// and pipeline tests.
import type { Fact, Prediction } from '../schemas/index.js';
import type { ExplanationContext, RetrievedFact, RetrievedNews } from './types.js';

const TS = Date.UTC(2018, 1, 7);
const DAY = 86_400_000;

export function testContext(opts: { change?: number; news?: RetrievedNews[] } = {}): ExplanationContext {
  const change = opts.change ?? 0.43;
  const close = 159.54;
  const predicted = close * (1 + change / 100);
  const prediction: Prediction = {
    id: `AAPL:${TS}:1`,
    symbol: 'AAPL',
    ts: TS,
    horizon: 1,
    targetTs: TS + DAY,
    lastClose: close,
    predictedClose: predicted,
    predictedReturn: Math.log1p(change / 100),
    lower: 156.1,
    upper: 164.0,
    model: 'ensemble',
    modelVersion: '2016-12-31-964612b2',
    regime: 'normal',
    createdAt: TS + DAY,
    rankScore: null,
  };
  const fact = (
    name: string,
    kind: string,
    label: string,
    value: number | null,
    unit: string,
    text: string | null = null,
  ): Fact => ({
    id: `AAPL:${TS}:${name}`,
    kind,
    name,
    label,
    horizon: name.startsWith('h1.') || name.startsWith('track.h1') ? 1 : null,
    value,
    unit,
    text,
  });
  const facts: Fact[] = [
    fact('h1.change', 'prediction', 'predicted change from the last close', change, 'pct'),
    fact('h1.horizon', 'prediction', 'forecast horizon', 1, 'days'),
    fact('close', 'context', 'last close', close, 'usd'),
    fact('h1.close', 'prediction', 'predicted close', predicted, 'usd'),
    fact('h1.target', 'prediction', 'day the forecast is for', TS + DAY, 'date'),
    fact('h1.lower', 'prediction', 'low end of the forecast interval', 156.1, 'usd'),
    fact('h1.upper', 'prediction', 'high end of the forecast interval', 164.0, 'usd'),
    fact('h1.lowerChange', 'prediction', 'low end of the interval as a change', -2.16, 'pct'),
    fact('h1.upperChange', 'prediction', 'high end of the interval as a change', 2.8, 'pct'),
    fact('h1.coverage', 'prediction', 'chance the close lands inside the interval', 80, 'pct'),
    fact('h1.driver.momentum', 'driver', 'Momentum over the last 1–20 days', 0.21, 'pct', 'returns over 1 to 20 days'),
    fact('h1.driver.volatility', 'driver', 'Volatility', -0.08, 'pct', 'how much the price swings'),
    fact(
      'h1.baseline',
      'driver',
      'forecast change for an average input (every feature at its training mean)',
      0.05,
      'pct',
    ),
    fact('h1.method', 'driver', 'how the drivers were measured', null, 'text', 'integrated-gradients:32'),
    fact('ret5d', 'context', 'change over the last 5 trading days', -5.2, 'pct'),
    fact('ret20d', 'context', 'change over the last 20 trading days', -2.1, 'pct'),
    fact('vol20d', 'context', 'volatility of daily returns over the last 20 trading days, annualised', 38.5, 'pct'),
    fact('earnings.next', 'earnings', 'next earnings announcement', Date.UTC(2018, 4, 1), 'date'),
    fact('earnings.daysTo', 'earnings', 'calendar days to the next earnings announcement', 83, 'days'),
    fact('earnings.last', 'earnings', 'last earnings announcement', Date.UTC(2018, 1, 1), 'date'),
    fact('earnings.surprise', 'earnings', 'EPS surprise at the last announcement (actual vs estimate)', 4.1, 'pct'),
    fact('track.h1.count', 'track', 'recent 1-day forecasts for this symbol that can be scored', 60, 'count'),
    fact('track.h1.mae', 'track', 'average miss of the predicted close', 1.12, 'pct'),
    fact('track.h1.persistenceMae', 'track', 'average miss of assuming no change (persistence)', 1.1, 'pct'),
    fact('track.h1.hitRate', 'track', 'share of moves whose direction the model called right', 51.7, 'pct'),
    fact('model', 'model', 'model that made the forecast', null, 'text', 'ensemble@2016-12-31-964612b2'),
  ];
  const retrieved: RetrievedFact[] = facts.map((f, i) => ({ ...f, ref: `F${i + 1}` }));
  const news: RetrievedNews[] = opts.news ?? [
    {
      id: 'reuters:AAPL:2017-11-10:aaaaaaaaaaaa',
      symbol: 'AAPL',
      ts: Date.UTC(2017, 10, 11, 4, 59, 59, 999),
      headline: "Apple's iPhone X draws crowds, but supply stays tight",
      source: 'reuters',
      url: null,
      body: null,
      precision: 'day',
      ref: 'N1',
      similarity: 0.41,
      score: 0.2,
      scope: 'symbol',
    },
  ];
  return {
    prediction,
    sheet: null,
    facts: retrieved,
    news,
    query: 'AAPL shares expected to rise',
    window: { from: TS - 90 * DAY, to: TS + DAY },
    degraded: null,
  };
}

/** The ref of the fact named `name` in a test context. */
export function refOf(ctx: ExplanationContext, name: string): string {
  const f = ctx.facts.find((x) => x.name === name);
  if (!f) throw new Error(`no fact ${name}`);
  return f.ref;
}
