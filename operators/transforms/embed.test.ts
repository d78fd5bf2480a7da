// embed: headlines → documents with an embedding (the hashed bag-of-words TEST DOUBLE embedder).
import { describe, expect, it } from 'vitest';
import { TestDriver } from '../../engine/index.js';
import { newsDocument } from '../../explain/documents.js';
import type { Embedder } from '../../models/embedder.js';
import { type Document, type News, schemas } from '../../schemas/index.js';
import { hashEmbedder } from '../../test/support/hash-embedder.js';
import { embed } from './embed.js';

const news = (symbol: string, headline: string, day = 2): News => ({
  id: `reuters:${symbol}:2017-11-0${day}:${headline.length}`,
  symbol,
  ts: Date.UTC(2017, 10, day, 4, 59, 59, 999),
  headline,
  source: 'reuters',
  url: null,
  body: 'The lead sentence, kept in the payload.',
  precision: 'day',
});

/** The double, failing its first `failures` calls. */
function flaky(failures: number): Embedder & { calls: number } {
  const inner = hashEmbedder();
  let left = failures;
  const e = {
    ...inner,
    calls: 0,
    async embed(texts: readonly string[]) {
      e.calls++;
      if (left-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:11434');
      return inner.embed(texts);
    },
  };
  return e;
}

describe('embed', () => {
  it('turns headlines into documents: the headline embedded, the record in the payload, the embedder named', async () => {
    const embedder = hashEmbedder();
    const d = await TestDriver.forOperator(embed({ embedder, input: schemas.News, document: newsDocument }));
    const input = [news('AAPL', 'Apple beats estimates'), news('MSFT', 'Microsoft cloud grows')];
    await d.pipe('input', input);
    await d.run();
    const docs = d.read<Document>('documents');
    expect(docs.map((x) => [x.id, x.kind, x.symbol, x.text, x.embedder])).toEqual([
      [input[0]!.id, 'news', 'AAPL', 'Apple beats estimates', embedder.id],
      [input[1]!.id, 'news', 'MSFT', 'Microsoft cloud grows', embedder.id],
    ]);
    expect(JSON.parse(docs[0]!.payload)).toEqual(input[0]);
    expect(Math.hypot(...docs[0]!.embedding)).toBeCloseTo(1, 5);
  });

  it('retries an embedder that fails for a while, then dead-letters a batch it never embeds', async () => {
    const briefly = flaky(2);
    const d = await TestDriver.forOperator(
      embed({ embedder: briefly, input: schemas.News, document: newsDocument, minDelayMs: 1 }),
    );
    await d.pipe('input', news('AAPL', 'Apple beats estimates'));
    await d.run();
    expect(briefly.calls).toBe(3);
    expect(d.read('documents')).toHaveLength(1);

    const down = flaky(100);
    const d2 = await TestDriver.forOperator(
      embed({ embedder: down, input: schemas.News, document: newsDocument, retries: 2, minDelayMs: 1 }),
    );
    await d2.pipe('input', news('AAPL', 'Apple beats estimates'));
    await d2.run();
    expect(d2.read('documents')).toEqual([]);
    expect(d2.deadLetters('input').map((l) => l.reason)).toEqual([expect.stringContaining('ECONNREFUSED')]);
  });

  it('skips headlines the store already holds, and embeds all when the store cannot say', async () => {
    const embedder = hashEmbedder();
    const input = [news('AAPL', 'Apple beats estimates'), news('AAPL', 'Apple slips', 3)];
    const known = new Set([input[0]!.id]);
    const d = await TestDriver.forOperator(
      embed({ embedder, input: schemas.News, document: newsDocument, stored: async () => known }),
    );
    await d.pipe('input', input);
    await d.run();
    expect(d.read<Document>('documents').map((x) => x.id)).toEqual([input[1]!.id]);

    const d2 = await TestDriver.forOperator(
      embed({ embedder, input: schemas.News, document: newsDocument, stored: () => Promise.reject(new Error('down')) }),
    );
    await d2.pipe('input', input);
    await d2.run();
    expect(d2.read('documents')).toHaveLength(2);
  });
});
