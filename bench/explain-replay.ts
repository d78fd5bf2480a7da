// One replay of the bundled data through the real app wiring (cli/app.ts: buildApp + startPipeline),
// to the end, as `npx tickcast run --until-end` does; run by explain.bench.ts as a child process,
// one per measured replay, so each is a fresh `npm start` (no JIT, heap or caches shared with the
// runs it is compared with). The configuration is the environment (TICKCAST_DB, TICKCAST_EXPLAIN,
// ...). A status line on stderr; one JSON line on stdout at the end: wall and CPU time of this
// process (the MiniLM worker thread included: process.cpuUsage covers every thread), and counts.
import { buildApp, startPipeline } from '../cli/app.js';
import { loadConfig } from '../cli/config.js';

export interface ReplayReport {
  /** Process start → replay done, stores closed (module loading and model loading included). */
  processMs: number;
  /** buildApp → the last node ended. */
  replayMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  maxRssMb: number;
  bars: number;
  predictions: number;
  newsDocs: number;
  factDocs: number;
  /** Headlines read by embed-news, and embedded by it (the rest were already stored). */
  newsIn: number;
  newsEmbedded: number;
  factSheets: number;
  deadLetters: number;
}

const label = process.env.BENCH_REPLAY_LABEL ?? 'replay';
const config = loadConfig();
const started = performance.now();
const app = await buildApp(config);
const running = await startPipeline(app);

const stat = (node: string) => running.metrics.snapshot().find((s) => s.node === node);
const tty = process.stderr.isTTY;
let lastLine = 0;
const status = (final = false) => {
  const source = running.sources().find((s) => s.node === 'market-data');
  const quotes = stat('bars')?.recordsIn ?? 0;
  const parts = [
    `${label}: ${quotes.toLocaleString('en-US')}/${source?.total?.toLocaleString('en-US') ?? '?'} quotes`,
    `${(stat('store-predictions')?.recordsIn ?? 0).toLocaleString('en-US')} predictions`,
  ];
  if (app.explain) {
    // embed-news counts a batch when it has embedded all of it: at full speed most headlines are one batch.
    const news = running.sources().find((s) => s.node === 'news');
    parts.push(
      `headlines ${(news?.done ?? 0).toLocaleString('en-US')}/${news?.total?.toLocaleString('en-US') ?? '?'} read, ${(stat('embed-news')?.recordsOut ?? 0).toLocaleString('en-US')} embedded`,
      `${(stat('embed-facts')?.recordsIn ?? 0).toLocaleString('en-US')} fact sheets`,
    );
  }
  parts.push(`${((performance.now() - started) / 1000).toFixed(0)} s`);
  const line = parts.join(' | ');
  if (tty) process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
  else if (final || performance.now() - lastLine > 10_000) {
    lastLine = performance.now();
    process.stderr.write(`${line}\n`);
  }
};
const timer = setInterval(status, 500);
const summary = await running.done.finally(() => clearInterval(timer));
status(true);
const replayMs = performance.now() - started;

const counts = await app.store.counts();
const report: ReplayReport = {
  processMs: 0,
  replayMs,
  cpuUserMs: 0,
  cpuSystemMs: 0,
  maxRssMb: 0,
  bars: counts.bars,
  predictions: counts.predictions,
  newsDocs: (await app.explain?.vectors.count('news')) ?? 0,
  factDocs: (await app.explain?.vectors.count('facts')) ?? 0,
  newsIn: stat('embed-news')?.recordsIn ?? 0,
  newsEmbedded: stat('embed-news')?.recordsOut ?? 0,
  factSheets: stat('embed-facts')?.recordsIn ?? 0,
  deadLetters: summary.deadLetters,
};
await app.explain?.close();
await app.store.close();
const cpu = process.cpuUsage();
report.processMs = performance.now();
report.cpuUserMs = cpu.user / 1000;
report.cpuSystemMs = cpu.system / 1000;
report.maxRssMb = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify(report));
