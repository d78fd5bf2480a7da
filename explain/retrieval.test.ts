// Retrieval for one prediction: its fact sheet, its track record, and the headlines before it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newsDocument } from './documents.js';
import { isMarketStory, MARKET_MIN_SIMILARITY, retrieve } from './retrieval.js';
import { writeExplanation } from './template-explainer.js';
import { type ExplainedRun, headline, LAST_DAY, openExplainedRun } from './test-run.js';

const DAY = 86_400_000;
let run: ExplainedRun;

beforeAll(async () => {
  run = await openExplainedRun();
});
afterAll(() => run.close());

async function latest(symbol: string, horizon = 1) {
  return (await run.predictions.latest(symbol, horizon))!;
}

describe('retrieve', () => {
  it("finds the prediction's fact sheet and numbers its facts, the forecast first", async () => {
    const ctx = await retrieve(run.sources, await latest('AAPL'));
    expect(ctx.sheet?.id).toBe(`facts:AAPL:${LAST_DAY}`);
    expect(ctx.window).toEqual({ from: LAST_DAY + DAY - 90 * DAY, to: LAST_DAY + DAY });
    expect(ctx.facts[0]).toMatchObject({ ref: 'F1', kind: 'prediction' });
    expect(ctx.facts.map((f) => f.ref)).toEqual(ctx.facts.map((_, i) => `F${i + 1}`));
    // Only this horizon's facts, and the shared ones.
    expect(ctx.facts.every((f) => f.horizon === null || f.horizon === 1)).toBe(true);
  });

  it("scores the model's last forecasts against the close a horizon later, beside persistence", async () => {
    const ctx = await retrieve(run.sources, await latest('MSFT', 5), { trackRecord: 20 });
    const track = Object.fromEntries(ctx.facts.filter((f) => f.kind === 'track').map((f) => [f.name, f.value]));
    expect(track['track.h5.count']).toBe(20);
    expect(track['track.h5.mae']).toBeGreaterThan(0);
    expect(track['track.h5.persistenceMae']).toBeGreaterThan(0);
    expect(track['track.h5.coverage']).toBeGreaterThanOrEqual(0);
  });

  it('never returns a headline published at or after the inputs were complete (no look-ahead)', async () => {
    const p = await latest('AAPL');
    const asOf = LAST_DAY + DAY;
    // A headline at exactly asOf, and one a minute before it.
    const edge = [
      { ...headline('AAPL', '2016-01-30', 'Apple at the stroke of midnight'), ts: asOf },
      { ...headline('AAPL', '2016-01-29', 'Apple late on Friday'), ts: asOf - 60_000 },
    ];
    const vs = await run.sources.embedder.embed(edge.map((n) => newsDocument(n).text));
    await run.sources.vectors.upsert(
      edge.map((n, i) => ({ ...newsDocument(n), embedding: vs[i]!, embedder: run.sources.embedder.id })),
    );
    const ctx = await retrieve(run.sources, p, { newsLimit: 20 });
    expect(ctx.news.every((n) => n.ts < asOf)).toBe(true);
    expect(ctx.news.map((n) => n.headline)).toContain('Apple late on Friday');
    expect(ctx.news.map((n) => n.headline)).not.toContain('Apple at the stroke of midnight');
    expect(ctx.news.every((n) => n.symbol === 'AAPL' && n.scope === 'symbol')).toBe(true);
  });

  it('ranks newer headlines higher at equal similarity', async () => {
    const ctx = await retrieve(run.sources, await latest('AAPL'), { newsLimit: 20 });
    const scores = ctx.news.map((n) => n.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it("falls back to market news for a symbol with none, never another company's story", async () => {
    // XOM has no headlines. Of the others', one is market news (a real Reuters headline, filed under AMZN);
    // Apple's, Microsoft's and Agilent's (a real Benzinga headline, here on a day in the window) are not.
    const more = [
      headline('A', '2016-01-28', 'Agilent Reports Scientific Partnership with the University of Southern California'),
    ];
    const vs = await run.sources.embedder.embed(more.map((n) => newsDocument(n).text));
    await run.sources.vectors.upsert(
      more.map((n, i) => ({ ...newsDocument(n), embedding: vs[i]!, embedder: run.sources.embedder.id })),
    );
    const xom = await retrieve(run.sources, await latest('XOM'));
    expect(xom.news.map((n) => [n.symbol, n.headline, n.scope])).toEqual([
      ['AMZN', 'US STOCKS-Wall St sells off late  S&P 500 falls below 1 900', 'market'],
    ]);
    expect(xom.news[0]!.similarity).toBeGreaterThanOrEqual(MARKET_MIN_SIMILARITY);
    // Whatever the threshold, a company's own story does not stand in for the market.
    const any = await retrieve(run.sources, await latest('XOM'), { marketMinSimilarity: -1, newsLimit: 20 });
    expect(any.news.map((n) => n.symbol)).toEqual(['AMZN']);
    // And a market story less similar than the threshold is left out: no headlines, said so.
    const strict = await retrieve(run.sources, await latest('XOM'), { marketMinSimilarity: 0.99 });
    expect(strict.news).toEqual([]);
    expect(writeExplanation(strict)).toContain('No headlines were found in the three months before this forecast.');
  });

  it('tells market news from company news by its words', () => {
    expect(isMarketStory('US STOCKS-Wall St rises as strong earnings lift consumer stocks')).toBe(true);
    expect(isMarketStory('The 10 Most Expensive Stocks In The S&P 500')).toBe(true);
    expect(isMarketStory('Wall Street sinks after Fed fails to impress')).toBe(true);
    expect(isMarketStory('Agilent Reports Scientific Partnership with the University of Southern California')).toBe(
      false,
    );
    expect(isMarketStory('Apple shares slump as iPhone sales stall')).toBe(false);
    expect(isMarketStory("BRIEF-Kohl's CEO- Relatively bullish on Q4 based on trend of business")).toBe(false);
  });

  it('shows a story once: an "UPDATE 1-" or a rewording of a headline is not a second headline', async () => {
    const update = headline('AAPL', '2016-01-27', 'UPDATE 1-Apple shares slump as iPhone sales stall');
    const [v] = await run.sources.embedder.embed([newsDocument(update).text]);
    await run.sources.vectors.upsert([{ ...newsDocument(update), embedding: v!, embedder: run.sources.embedder.id }]);
    const reworded = headline('AAPL', '2016-01-27', 'Apple shares slump as sales of the iPhone stall');
    const [w] = await run.sources.embedder.embed([newsDocument(reworded).text]);
    await run.sources.vectors.upsert([{ ...newsDocument(reworded), embedding: w!, embedder: run.sources.embedder.id }]);
    const ctx = await retrieve(run.sources, await latest('AAPL'), { newsLimit: 20 });
    const slump = ctx.news.filter((n) => /Apple shares slump as .*iPhone.* stall/.test(n.headline));
    expect(slump).toHaveLength(1);
    // A different story of the same day stays.
    expect(ctx.news.map((n) => n.headline)).toContain(
      'Apple posts first-ever drop in iPhone sales growth, shares fall',
    );
  });
});
