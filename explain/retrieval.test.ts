// Retrieval for one prediction: its fact sheet, its track record, and the headlines before it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newsDocument } from './documents.js';
import { retrieve } from './retrieval.js';
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

  it('ranks newer headlines higher at equal similarity, and falls back to market-wide ones', async () => {
    const ctx = await retrieve(run.sources, await latest('AAPL'), { newsLimit: 20 });
    const scores = ctx.news.map((n) => n.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const xom = await retrieve(run.sources, await latest('XOM'));
    expect(xom.news.length).toBeGreaterThan(0);
    expect(xom.news.every((n) => n.scope === 'market' && n.symbol !== 'XOM')).toBe(true);
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
