// The explanation service on a real run: the price pipeline with its explanation path replays
// bundled data for three symbols into an embedded store and vector store; real headlines are
// added as documents. Explainers other than the template are in-process doubles here (the
// Ollama explainer is tested against the Ollama protocol double in ollama-explainer.test.ts).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLiveHub, TestDriver } from '../engine/index.js';
import { driftModel } from '../models/baselines.js';
import { loadEarningsCalendar } from '../models/earnings-calendar.js';
import { replay } from '../operators/sources/replay.js';
import { pricePrediction } from '../pipelines/price-prediction.js';
import type { News } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { openDuckDbVectorStore } from '../storage/duckdb-vector-store.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { VectorStore } from '../storage/vector-store.js';
import { hashEmbedder } from '../test/support/hash-embedder.js';
import { newsDocument } from './documents.js';
import { ExplainError, ExplanationService } from './explanation-service.js';
import { checkGrounding } from './grounding.js';
import type { ExplanationEvent, Explainer } from './types.js';

const ROOT = new URL('..', import.meta.url).pathname;
const DAY = 86_400_000;
const TO = Date.UTC(2016, 0, 29); // a Friday: the last replayed day

let store: TimeSeriesStore;
let vectors: VectorStore;
const embedder = hashEmbedder();

function headline(symbol: string, day: string, text: string): News {
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

beforeAll(async () => {
  store = await openDuckDbStore({ path: ':memory:' });
  vectors = await openDuckDbVectorStore({ path: ':memory:', embedder });
  const model = driftModel({ horizons: [1, 5] });
  const pipeline = pricePrediction({
    source: replay({ dir: join(ROOT, 'data/sp500-daily'), symbols: ['AAPL', 'MSFT', 'XOM'], from: Date.UTC(2015, 6, 1), to: TO }),
    calendar: await loadEarningsCalendar(join(ROOT, 'data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv')),
    models: { normal: model, earnings: model },
    store,
    hub: createLiveHub(),
    explain: { embedder, vectors },
  });
  await (await TestDriver.create(pipeline)).runSource();
  // Real Reuters headlines of late January 2016, and one published after the last close.
  const news = [
    headline('AAPL', '2016-01-26', 'Apple posts first-ever drop in iPhone sales growth, shares fall'),
    headline('AAPL', '2016-01-27', 'Apple shares slump as iPhone sales stall'),
    headline('MSFT', '2016-01-28', 'Microsoft beats estimates as cloud business grows'),
    headline('AAPL', '2016-02-01', 'Apple headline from after the forecast was made'),
  ];
  const vs = await embedder.embed(news.map((n) => newsDocument(n).text));
  await vectors.upsert(news.map((n, i) => ({ ...newsDocument(n), embedding: vs[i]!, embedder: embedder.id })));
});

function service(explainer?: Explainer, opts: { firstTextTimeoutMs?: number } = {}) {
  return new ExplanationService({
    sources: { store, vectors, embedder },
    predictions: {
      latest: async (s, h) => (await store.latestPredictions([s], h))[0] ?? null,
      has: async (s) => (await store.symbols()).includes(s),
    },
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
    expect(e).toMatchObject({ symbol: 'AAPL', horizon: 1, predictionId: `AAPL:${TO}:1`, explainer: 'template', grounded: true });
    expect(e.fallbackReason).toBeNull();
    expect(e.text).toMatch(/^The model expects AAPL to (rise|fall) /);
    const news = e.citations.filter((c) => c.kind === 'news');
    expect(news.map((c) => c.title)).toEqual(
      expect.arrayContaining(['Apple shares slump as iPhone sales stall']),
    );
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
    const writer = scripted((ctx) => `${ctx.prediction.symbol} is expected to ${ctx.prediction.predictedReturn >= 0 ? 'rise' : 'fall'} [${ctx.facts.find((f) => f.name === 'h5.change')!.ref}].`);
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

  it('streams checked sentences as they are written, then the final explanation', async () => {
    const writer = scripted((ctx) => {
      const ref = ctx.facts.find((f) => f.name === 'h1.change')!.ref;
      const dir = ctx.prediction.predictedReturn >= 0 ? 'rise' : 'fall';
      return `AAPL is expected to ${dir} [${ref}]. Its last close was the input [${ctx.facts.find((f) => f.name === 'close')!.ref}]. That is all.`;
    });
    const events = await collect(service(writer).stream('AAPL', 1));
    const texts = events.filter((e) => e.type === 'text').map((e) => (e as { delta: string }).delta);
    expect(texts).toHaveLength(3); // one event per checked sentence
    const done = events.at(-1)!;
    expect(done.type).toBe('done');
    if (done.type === 'done') expect(texts.join('')).toBe(done.explanation.text);
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
    const broken: Explainer = { name: 'broken', explain: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:11434')) };
    expect((await service(broken).explain('AAPL', 1)).fallbackReason).toBe('broken failed: connect ECONNREFUSED 127.0.0.1:11434');

    const slow = scripted(() => 'never in time.', { delayMs: 400 });
    const e = await service(slow, { firstTextTimeoutMs: 50 }).explain('AAPL', 1);
    expect(e).toMatchObject({ explainer: 'template', grounded: true, fallbackReason: 'scripted wrote nothing within 50 ms' });
    expect(e.latencyMs).toBeLessThan(1000);

    const contrary = scripted((ctx) => {
      const ref = ctx.facts.find((f) => f.name === 'h1.change')!.ref;
      return `AAPL is expected to ${ctx.prediction.predictedReturn >= 0 ? 'fall' : 'rise'} [${ref}].`;
    });
    expect((await service(contrary).explain('AAPL', 1)).fallbackReason).toMatch(/^not grounded: states the move as/);
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
