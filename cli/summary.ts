// The end-of-run summary: per-node figures, what the store holds, and why records were rejected.
import type { RunSummary } from '../engine/index.js';
import type { TimeSeriesStore } from '../storage/timeseries-store.js';
import type { VectorStore } from '../storage/vector-store.js';
import { printTable } from './table.js';

export async function printSummary(
  summary: RunSummary,
  store: TimeSeriesStore,
  reasons: Array<{ topic: string; reason: string; count: number }>,
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
    `store (${store.kind}): ${counts.bars.toLocaleString('en-US')} bars, ${counts.predictions.toLocaleString('en-US')} predictions, ${counts.symbols} symbols`,
  );
  if (vectors) {
    const [news, facts] = await Promise.all([vectors.count('news'), vectors.count('facts')]);
    out(
      `vector store (${vectors.kind}, ${vectors.embedder.id}): ${news.toLocaleString('en-US')} headlines, ${facts.toLocaleString('en-US')} fact sheets`,
    );
  }
  if (reasons.length > 0) {
    out(`dead letters: ${summary.deadLetters}`);
    printTable(
      ['topic', 'count', 'reason'],
      reasons.slice(0, 10).map((r) => [r.topic, String(r.count), r.reason]),
      out,
    );
  } else {
    // With Kafka the reasons are in the .dlq topics (not read back here); the count is the nodes'.
    out(`dead letters: ${summary.deadLetters}`);
  }
}
