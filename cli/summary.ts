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
  /**
   * `kind: what went wrong`, without where (FILE:LINE) or trailing details; a number, day or
   * quoted value that differs between the group's letters is shown as N, YYYY-MM-DD or "…".
   */
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
 * The values that vary between letters of one kind: a quoted value, a day, a standalone number
 * (not a code such as U+001F or a ticker such as 3M, which are part of the reason).
 */
const VALUE = /"(?:[^"\\]|\\.)*"|\b\d{4}-\d{2}-\d{2}\b|(?<![\w+.-])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])/g;

/** What one letter's reason says went wrong, as a pattern with its values taken out. */
interface Problem {
  /** The text around the values (one more part than values). */
  parts: string[];
  values: string[];
}

/**
 * What went wrong, without where or details: each `; `-separated problem up to the end of its
 * first phrase of several words, so `dayOpen: -5 must be a finite price > 0` keeps its field
 * and what is wrong with it, and `cannot decode as tickcast.Bar: truncated` drops the details.
 */
function problemOf(text: string): Problem {
  const heads = text.split('; ').map((problem) => {
    const segments = problem.split(': ');
    const end = segments.findIndex((seg, i) => /\s/.test(seg) || i === segments.length - 1);
    return segments.slice(0, end + 1).join(': ');
  });
  const head = heads.join('; ');
  return { parts: head.split(VALUE), values: head.match(VALUE) ?? [] };
}

function maskOf(value: string): string {
  if (value.startsWith('"')) return '"…"';
  return /^\d{4}-/.test(value) ? 'YYYY-MM-DD' : 'N';
}

/**
 * Groups dead letters by topic and what went wrong (`problemOf`), most frequent first, ties in
 * first-seen order. A group's reason keeps a value its letters share (`> 0`, one bad date) and
 * masks one that differs between them (N, YYYY-MM-DD, "…").
 */
export function groupDeadLetters(letters: ReadonlyArray<{ topic: string; letter: DeadLetter }>): DeadLetterGroup[] {
  const groups = new Map<string, { group: DeadLetterGroup; kind: string; problem: Problem; varies: boolean[] }>();
  for (const { topic, letter } of letters) {
    const where = WHERE.exec(letter.reason);
    const problem = problemOf(letter.reason.slice(where ? where[0].length : 0));
    const key = `${topic}|${letter.kind}|${problem.parts.join('\u0000')}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        group: { topic, reason: '', count: 0, examples: [] },
        kind: letter.kind,
        problem,
        varies: problem.values.map(() => false),
      };
      groups.set(key, g);
    }
    const { problem: first, varies } = g;
    problem.values.forEach((v, i) => {
      if (v !== first.values[i]) varies[i] = true;
    });
    g.group.count++;
    if (g.group.examples.length < EXAMPLES) g.group.examples.push(where?.[1] ?? placeOf(letter));
  }
  return [...groups.values()]
    .map(({ group, kind, problem, varies }) => {
      const text = problem.parts
        .map((part, i) =>
          i < problem.values.length ? part + (varies[i] ? maskOf(problem.values[i]!) : problem.values[i]) : part,
        )
        .join('');
      return { ...group, reason: `${kind}: ${text}` };
    })
    .sort((a, b) => b.count - a.count);
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
