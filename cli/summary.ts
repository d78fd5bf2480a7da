// The end-of-run summary: per-node figures, what the store holds, and why records were rejected.
import type { RunSummary } from '../engine/index.js';
import type { DeadLetter } from '../schemas/index.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { VectorStore } from '../storage/vector-store.js';
import { printTable } from './table.js';

export async function printSummary(
  summary: RunSummary,
  store: TimeSeriesStore,
  reasons: readonly DeadLetterGroup[],
  out: (line: string) => void = (l) => console.log(l),
  vectors: VectorStore | null = null,
): Promise<void> {
  const secs = summary.durationMs / 1000;
  out(`\n${summary.pipeline}: ${summary.stopped ? 'stopped' : 'finished'} in ${secs.toFixed(1)} s`);
  const rows = summary.nodes.map((n) => [
    n.node,
    n.status,
    n.recordsIn.toLocaleString('en-US'),
    n.recordsOut.toLocaleString('en-US'),
    String(n.deadLetters),
    n.batches ? (n.processingMs / n.batches).toFixed(2) : '-',
  ]);
  printTable(['node', 'status', 'in', 'out', 'dlq', 'ms/batch'], rows, out);
  const counts = await store.counts();
  out(
    `store (${store.kind}): ${counts.bars.toLocaleString('en-US')} bars, ${counts.predictions.toLocaleString('en-US')} predictions, ${counts.scores.toLocaleString('en-US')} scored, ${counts.symbols} symbols`,
  );
  if (vectors) {
    const [news, facts] = await Promise.all([vectors.count('news'), vectors.count('facts')]);
    out(
      `vector store (${vectors.kind}, ${vectors.embedder.id}): ${news.toLocaleString('en-US')} headlines, ${facts.toLocaleString('en-US')} fact sheets`,
    );
  }
  // The topics are the record; the nodes' count can be higher after a crash (a redelivered record
  // is dead-lettered again) or lower when the topics hold an earlier run's letters too.
  const inTopics = reasons.reduce((n, g) => n + g.count, 0);
  out(
    `dead letters: ${summary.deadLetters.toLocaleString('en-US')}` +
      (reasons.length > 0 && inTopics !== summary.deadLetters
        ? ` counted by the nodes, ${inTopics.toLocaleString('en-US')} in the dead-letter topics (redeliveries after a crash count again; the topics keep earlier runs' letters)`
        : ''),
  );
  printDeadLetterGroups(reasons, out);
}

/** Dead letters that went wrong the same way in one topic: how many, and where the first few are. */
export interface DeadLetterGroup {
  topic: string;
  /** `kind: what went wrong`, without where (FILE:LINE) or details, numbers as N. */
  reason: string;
  count: number;
  /** Where the first EXAMPLES of them are: FILE:LINE, else key and event day, else the original offset. */
  examples: string[];
}

/** Examples kept per group, and groups printed before "and K more reasons". */
export const EXAMPLES = 3;
export const GROUPS_SHOWN = 10;

const WHERE = /^([^:\s][^:]*:\d+): /;

/**
 * Groups dead letters by topic and what went wrong: the reason after its `FILE:LINE: ` and before
 * its first `: ` (the details), with numbers as N; most frequent first, ties in first-seen order.
 */
export function groupDeadLetters(letters: ReadonlyArray<{ topic: string; letter: DeadLetter }>): DeadLetterGroup[] {
  const groups = new Map<string, DeadLetterGroup>();
  for (const { topic, letter } of letters) {
    const where = WHERE.exec(letter.reason);
    const what = letter.reason.slice(where ? where[0].length : 0).split(': ')[0]!;
    // Standalone numbers only: a code such as U+001F or a ticker such as 3M is part of the reason.
    const reason = `${letter.kind}: ${what.replace(/(?<![\w+])\d+(\.\d+)?(?![\w.])/g, 'N')}`;
    const key = `${topic}|${reason}`;
    let g = groups.get(key);
    if (!g) {
      g = { topic, reason, count: 0, examples: [] };
      groups.set(key, g);
    }
    g.count++;
    if (g.examples.length < EXAMPLES) g.examples.push(where?.[1] ?? placeOf(letter));
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

function placeOf(l: DeadLetter): string {
  if (l.key !== null)
    return l.timestamp !== null ? `${l.key} ${new Date(l.timestamp).toISOString().slice(0, 10)}` : l.key;
  if (l.offset !== null) return `offset ${l.partition ?? 0}/${l.offset}`;
  return '-';
}

/** The groups as a table (the first GROUPS_SHOWN), then how many more reasons and dead letters there are. */
export function printDeadLetterGroups(groups: readonly DeadLetterGroup[], out: (line: string) => void): void {
  if (groups.length === 0) return;
  const shown = groups.slice(0, GROUPS_SHOWN);
  printTable(
    ['topic', 'count', 'reason', 'first at'],
    shown.map((g) => [
      g.topic,
      g.count.toLocaleString('en-US'),
      g.reason,
      g.examples.join(', ') + (g.count > g.examples.length ? ', …' : ''),
    ]),
    out,
  );
  const rest = groups.slice(GROUPS_SHOWN);
  if (rest.length > 0) {
    const letters = rest.reduce((n, g) => n + g.count, 0);
    out(
      `and ${rest.length} more reason${rest.length === 1 ? '' : 's'} (${letters.toLocaleString('en-US')} dead letter${letters === 1 ? '' : 's'})`,
    );
  }
}
