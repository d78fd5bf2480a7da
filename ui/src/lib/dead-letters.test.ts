// A node's dead letters as the Pipeline view lists them, against a REAL API over a pipeline that
// replayed a KO file with 22 broken rows: the topics a node's rejects can be in, pages of 20, and
// a reason split into where (FILE:LINE) and what.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, startTestPipeline, type TestPipeline } from '../../test/api-server';
import type * as DeadLetters from './dead-letters';
import type { PipelineNode } from './types';

const BROKEN = 22;
let pipeline: TestPipeline;
let page: ReturnType<typeof openPage>;
let dl: typeof DeadLetters;
let nodes: PipelineNode[];

beforeAll(async () => {
  // Rows 50..71 (file lines) lose their open: each becomes a dead letter of the source.
  const ko = readFileSync(new URL('../../../data/sp500-daily/KO_data.csv', import.meta.url), 'utf8').split('\n');
  for (let line = 50; line < 50 + BROKEN; line++) ko[line - 1] = ko[line - 1]!.replace(/^([^,]*),[^,]*,/, '$1,,');
  pipeline = await startTestPipeline([], { 'KO_data.csv': ko.join('\n') });
  const server = await pipeline.serve();
  page = openPage(`${server.url}/`);
  dl = await import('./dead-letters');
  const { query } = await import('./api');
  const answer = await query<{ pipeline: { nodes: PipelineNode[] } }>(
    '{ pipeline { nodes { id kind operator reads writes stateful } } }',
  );
  nodes = answer.pipeline.nodes;
}, 120_000);

afterAll(async () => {
  await page?.close();
  await pipeline?.close();
});

const node = (id: string) => {
  const n = nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id} in ${nodes.map((x) => x.id).join(', ')}`);
  return n;
};

describe('topicsOf', () => {
  it('lists what a node reads, then what it writes, once each', () => {
    expect(
      dl.topicsOf({
        id: 'n',
        kind: 'transform',
        operator: 'x',
        reads: ['a', 'b'],
        writes: ['b', 'c'],
        stateful: false,
      }),
    ).toEqual(['a', 'b', 'c']);
    const source = node('market-data');
    expect(source.reads).toEqual([]);
    expect(dl.topicsOf(source)).toEqual(source.writes);
  });
});

describe('loadNode and loadPage', () => {
  it('loads the first page of each topic with dead letters, then the next page appended', async () => {
    const lists = await dl.loadNode(node('market-data'));
    expect(lists.map((l) => l.topic)).toEqual(['quotes']);
    const [first] = lists;
    expect(first!.letters).toHaveLength(dl.DEAD_LETTER_PAGE);
    expect(first!.hasNextPage).toBe(true);
    expect(first!.endCursor).toEqual(expect.any(String));
    expect(first!.letters[0]).toMatchObject({
      node: 'market-data',
      kind: 'source',
      reason: 'KO_data.csv:50: open is empty',
    });

    const all = await dl.loadPage('quotes', 'market-data', first);
    expect(all.letters).toHaveLength(BROKEN);
    expect(all.letters.slice(0, dl.DEAD_LETTER_PAGE)).toEqual(first!.letters);
    expect(all.letters.at(-1)?.reason).toBe(`KO_data.csv:${50 + BROKEN - 1}: open is empty`);
    expect(all.hasNextPage).toBe(false);
    expect(all.endCursor).toEqual(expect.any(String));

    // Asking past the end: nothing more, and the list keeps its cursor.
    expect(await dl.loadPage('quotes', 'market-data', all)).toEqual(all);
  });

  it('has no lists for a node without dead letters', async () => {
    const bars = node('bars');
    expect(dl.topicsOf(bars).length).toBeGreaterThan(0);
    expect(await dl.loadNode(bars)).toEqual([]);
  });

  it('fails with the API’s code for a topic that does not exist', async () => {
    await expect(dl.loadPage('nope', 'bars')).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
  });
});

describe('splitReason', () => {
  it('splits FILE:LINE from what went wrong', () => {
    expect(dl.splitReason('KO_data.csv:50: has a quote that is never closed')).toEqual({
      where: 'KO_data.csv:50',
      what: 'has a quote that is never closed',
    });
    expect(dl.splitReason('a.csv:1: first\nsecond: line')).toEqual({ where: 'a.csv:1', what: 'first\nsecond: line' });
  });

  it('keeps other reasons whole', () => {
    expect(dl.splitReason('schema mismatch: close is not a number')).toEqual({
      where: null,
      what: 'schema mismatch: close is not a number',
    });
    expect(dl.splitReason(' x.csv:1: leading space')).toEqual({ where: null, what: ' x.csv:1: leading space' });
  });
});
