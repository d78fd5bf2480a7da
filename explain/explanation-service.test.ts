// The explanation service on a real run (test-run.ts: the price pipeline with its explanation
// path, bundled data for three symbols, a few real headlines). Explainers other than the template are in-process doubles here (the
// Ollama explainer is tested against the Ollama protocol double in ollama-explainer.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExplainError, ExplanationService } from './explanation-service.js';
import { checkGrounding } from './grounding.js';
import { type ExplainedRun, openExplainedRun, LAST_DAY as TO } from './test-run.js';
import type { Explainer, ExplanationEvent } from './types.js';

const DAY = 86_400_000;
let run: ExplainedRun;

beforeAll(async () => {
  run = await openExplainedRun();
});
afterAll(() => run.close());

function service(explainer?: Explainer, opts: { firstTextTimeoutMs?: number } = {}) {
  return new ExplanationService({
    sources: run.sources,
    predictions: run.predictions,
    horizons: [1, 5],
    ...(explainer ? { explainer } : {}),
    ...opts,
  });
}

/** An explainer double that writes `text` (in word-sized pieces when streaming). */
function scripted(text: (ctx: Parameters<Explainer['explain']>[0]) => string, opts: { delayMs?: number } = {}) {
  const e = {
    name: 'scripted',
    calls: 0,
    async explain(ctx: Parameters<Explainer['explain']>[0], o: Parameters<Explainer['explain']>[1] = {}) {
      e.calls++;
      const t = text(ctx);
      for (const piece of t.match(/\S+\s*/g) ?? []) {
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
        if (o.signal?.aborted) throw o.signal.reason;
        o.onText?.(piece);
      }
      return t;
    },
  };
  return e;
}

async function collect(events: AsyncIterable<ExplanationEvent>): Promise<ExplanationEvent[]> {
  const out: ExplanationEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe('explanation service', () => {
  it('explains the latest prediction with the grounded template, citing facts and earlier headlines only', async () => {
    const e = await service().explain('AAPL', 1);
    expect(e).toMatchObject({
      symbol: 'AAPL',
      horizon: 1,
      predictionId: `AAPL:${TO}:1`,
      explainer: 'template',
      grounded: true,
    });
    expect(e.fallbackReason).toBeNull();
    expect(e.text).toMatch(/^The model expects AAPL to (rise|fall) /);
    const news = e.citations.filter((c) => c.kind === 'news');
    expect(news.map((c) => c.title)).toEqual(expect.arrayContaining(['Apple shares slump as iPhone sales stall']));
    // No look-ahead: nothing published after the last close (Jan 29 + one day) is cited.
    for (const c of news) expect(c.ts).toBeLessThan(TO + DAY);
    expect(e.text).not.toContain('after the forecast');
    expect(e.citations.some((c) => c.kind === 'fact' && c.id === `AAPL:${TO}:h1.change`)).toBe(true);
  });

  it('uses market-wide headlines when the symbol has none, and says so', async () => {
    const e = await service().explain('XOM', 1);
    expect(e.grounded).toBe(true);
    expect(e.text).toContain('There were no headlines about XOM in the three months before this forecast');
    expect(e.citations.filter((c) => c.kind === 'news').length).toBeGreaterThan(0);
  });

  it('serves a second request from the cache, shares one generation between concurrent ones, and drops it for a new prediction', async () => {
    const writer = scripted(
      (ctx) =>
        `${ctx.prediction.symbol} is expected to ${ctx.prediction.predictedReturn >= 0 ? 'rise' : 'fall'} [${ctx.facts.find((f) => f.name === 'h5.change')!.ref}].`,
    );
    const s = service(writer);
    const [a, b] = await Promise.all([s.explain('MSFT', 5), s.explain('MSFT', 5)]);
    expect(writer.calls).toBe(1);
    expect(a.text).toBe(b.text);
    const again = await s.explain('MSFT', 5);
    expect(again).toMatchObject({ cached: true, text: a.text, explainer: 'scripted', grounded: true });
    s.onPrediction({ id: `MSFT:${TO + 3 * DAY}:5`, symbol: 'MSFT', horizon: 5 });
    expect((await s.explain('MSFT', 5)).cached).toBe(false);
    expect(writer.calls).toBe(2);
  });

  it('writes a cached explanation again once it is older than the TTL (headlines may have arrived since)', async () => {
    const writer = scripted(
      (ctx) => `${ctx.prediction.symbol} moves [${ctx.facts.find((f) => f.name === 'h1.change')!.ref}].`,
    );
    const fresh = new ExplanationService({
      sources: run.sources,
      predictions: run.predictions,
      horizons: [1],
      explainer: writer,
      cacheTtlMs: 0,
    });
    await fresh.explain('XOM', 1).catch(() => undefined);
    await fresh.explain('XOM', 1).catch(() => undefined);
    expect(writer.calls).toBe(2);
  });

  it('streams checked sentences as they are written, then the final explanation', async () => {
    const writer = scripted((ctx) => {
      const ref = ctx.facts.find((f) => f.name === 'h1.change')!.ref;
      const dir = ctx.prediction.predictedReturn >= 0 ? 'rise' : 'fall';
      return `AAPL is expected to ${dir} [${ref}]. Its last close was the input [${ctx.facts.find((f) => f.name === 'close')!.ref}].\n\nThat is all.`;
    });
    const events = await collect(service(writer).stream('AAPL', 1));
    const texts = events.filter((e) => e.type === 'text').map((e) => (e as { delta: string }).delta);
    expect(texts).toHaveLength(3); // one event per checked sentence
    const done = events.at(-1)!;
    expect(done.type).toBe('done');
    if (done.type === 'done') {
      expect(texts.join('')).toBe(done.explanation.text);
      // Paragraphs survive the sentence-by-sentence check.
      expect(done.explanation.text).toMatch(/\]\.\n\nThat is all\.$/);
    }
  });

  it('falls back to the template when the explainer writes an ungrounded number, and reports why', async () => {
    const liar = scripted((ctx) => {
      const ref = ctx.facts.find((f) => f.name === 'h1.change')!.ref;
      return `AAPL is expected to ${ctx.prediction.predictedReturn >= 0 ? 'rise' : 'fall'} [${ref}]. Analysts see 37% upside [${ref}].`;
    });
    const events = await collect(service(liar).stream('AAPL', 1));
    expect(events.map((e) => e.type)).toEqual(['text', 'reset', 'text', 'done']);
    const done = events.at(-1)!;
    if (done.type !== 'done') throw new Error('no done');
    expect(done.explanation).toMatchObject({ explainer: 'template', requestedExplainer: 'scripted', grounded: true });
    expect(done.explanation.fallbackReason).toMatch(/^not grounded: 37% is not a value of the facts/);
    expect(done.explanation.text).not.toContain('37%');
  });

  it('falls back when the explainer fails, is too slow, or states the wrong direction', async () => {
    const broken: Explainer = {
      name: 'broken',
      explain: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:11434')),
    };
    expect((await service(broken).explain('AAPL', 1)).fallbackReason).toBe(
      'broken failed: connect ECONNREFUSED 127.0.0.1:11434',
    );

    const slow = scripted(() => 'never in time.', { delayMs: 400 });
    const e = await service(slow, { firstTextTimeoutMs: 50 }).explain('AAPL', 1);
    expect(e).toMatchObject({
      explainer: 'template',
      grounded: true,
      fallbackReason: 'scripted wrote nothing within 50 ms',
    });
    expect(e.latencyMs).toBeLessThan(1000);

    const contrary = scripted((ctx) => {
      const ref = ctx.facts.find((f) => f.name === 'h1.change')!.ref;
      return `AAPL is expected to ${ctx.prediction.predictedReturn >= 0 ? 'fall' : 'rise'} [${ref}].`;
    });
    expect((await service(contrary).explain('AAPL', 1)).fallbackReason).toMatch(/^not grounded: states the move as/);
  });

  it('explains from the prediction and the store alone when the vector store is down, and says so', async () => {
    const down = new Error('Chroma at http://127.0.0.1:9 is not reachable (CHROMA_URL)');
    const vectors = { ...run.sources.vectors, get: () => Promise.reject(down), query: () => Promise.reject(down) };
    const s = new ExplanationService({
      sources: { ...run.sources, vectors },
      predictions: run.predictions,
      horizons: [1, 5],
    });
    const e = await s.explain('AAPL', 1);
    expect(e).toMatchObject({ explainer: 'template', grounded: true });
    expect(e.retrievalProblem).toBe(
      'reading the fact sheet failed (Chroma at http://127.0.0.1:9 is not reachable (CHROMA_URL)): explained from the prediction and its track record only',
    );
    expect(e.text).toContain('Headlines could not be searched just now');
    expect(e.citations.every((c) => c.kind === 'fact')).toBe(true);
    // Not cached: once the store is back, the next request gets the whole explanation.
    expect((await s.explain('AAPL', 1)).cached).toBe(false);
  });

  it('refuses an unknown symbol and a horizon that is not forecast, with codes', async () => {
    await expect(service().explain('NOPE', 1)).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
    await expect(service().explain('AAPL', 2)).rejects.toBeInstanceOf(ExplainError);
    await expect(service().explain('AAPL', 2)).rejects.toMatchObject({ code: 'BAD_HORIZON' });
  });

  it('every template explanation of every symbol and horizon passes the checker', async () => {
    const s = service();
    for (const symbol of ['AAPL', 'MSFT', 'XOM']) {
      for (const h of [1, 5]) {
        const e = await s.explain(symbol, h);
        expect(e.grounded, `${symbol} h${h}: ${e.fallbackReason}`).toBe(true);
        expect(checkGrounding(e.text, { facts: [], news: [] }).grounded).toBe(false); // the checker is not vacuous
      }
    }
  });
});
