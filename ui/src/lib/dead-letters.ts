// A node's dead letters, page by page, from `deadLetters(topic, node, first, after)`: one list per
// topic the node reads or writes (a source's rejects are in its output's .dlq, a transform's
// decode and processing rejects in its input's).
import { query } from './api';
import { graphql } from './graphql';
import type { DeadLetter, PipelineNode } from './types';

export const DEAD_LETTER_PAGE = 20;

export interface DeadLetterList {
  topic: string;
  letters: DeadLetter[];
  endCursor: string | null;
  hasNextPage: boolean;
}

const QUERY = graphql(`query DeadLetters($topic: String!, $node: String, $first: Int, $after: String) {
  deadLetters(topic: $topic, node: $node, first: $first, after: $after) {
    edges { node { node kind reason key timestamp failedAt payload payloadEncoding payloadBytes } }
    pageInfo { hasNextPage endCursor }
  }
}`);

/** The topics whose dead letters can hold a node's rejects: what it reads, then what it writes. */
export function topicsOf(node: PipelineNode): string[] {
  return [...new Set([...node.reads, ...node.writes])];
}

/** The next page of `list` (or the first, without one), appended. */
export async function loadPage(topic: string, node: string, list?: DeadLetterList): Promise<DeadLetterList> {
  const d = await query(QUERY, { topic, node, first: DEAD_LETTER_PAGE, after: list?.endCursor ?? null });
  return {
    topic,
    letters: [...(list?.letters ?? []), ...d.deadLetters.edges.map((e) => e.node)],
    endCursor: d.deadLetters.pageInfo.endCursor ?? list?.endCursor ?? null,
    hasNextPage: d.deadLetters.pageInfo.hasNextPage,
  };
}

/** First pages of every topic of the node; the topics with dead letters (all of them when none has). */
export async function loadNode(node: PipelineNode): Promise<DeadLetterList[]> {
  const lists = await Promise.all(topicsOf(node).map((t) => loadPage(t, node.id)));
  return lists.filter((l) => l.letters.length > 0);
}

/** `KO_data.csv:50: has a quote…` → where (FILE:LINE) and what; `where` null for other reasons. */
export function splitReason(reason: string): { where: string | null; what: string } {
  const m = /^([^:\s][^:]*:\d+): (.*)$/s.exec(reason);
  return m ? { where: m[1]!, what: m[2]! } : { where: null, what: reason };
}
