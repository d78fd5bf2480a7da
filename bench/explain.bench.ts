// npm run bench:explain — the explanation path on the bundled REAL data (data/sp500-daily: 50
// tickers, data/news: real headlines, data/earnings): what it adds to a replay, how fast and how
// grounded explanations are, retrieval recall on headlines labelled by their day, and embedding
// throughput. Prints tables, then one JSON line last.
//
// 1. Replays: the bundled data through the real app wiring (cli/app.ts buildApp + startPipeline,
//    explain-replay.ts), each in a child process like a fresh `npm start`, in a fresh temp
//    TICKCAST_DB, alternating TICKCAST_EXPLAIN=off and on, each `on` followed by a second (warm)
//    run on its database, where stored headlines are not embedded again. The first `on` database
//    is what the rest of the bench reads.
// 2. Embedding throughput of the configured embedder on bundled headlines (after a warm-up call
//    that loads the model, as a running server has it loaded).
// 3. Explanations: ExplanationService with the template explainer, 4 requests per symbol (horizons
//    1, 5, 21 and 1 again), each round on a new service so every request of the first pass
//    generates (cold cache); then the same requests again, served from the cache. Citations are
//    checked independently: retrieve() again for the same prediction and compare ids.
// 4. The same requests through the Ollama explainer against the Ollama protocol TEST DOUBLE (not a
//    model): the client, streaming and sentence-checking overhead only.
// 5. Retrieval recall@5: (symbol, day) pairs with exactly one headline, queried with the first
//    prediction that may use it; and no look-ahead (no headline at or after a query's asOf).
// Nothing here asserts on time: the figures are reported.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openExplainParts } from '../cli/app.js';
import { type Config, loadConfig } from '../cli/config.js';
import { printTable } from '../cli/table.js';
import { newsDocument } from '../explain/documents.js';
import { ExplanationService, type PredictionLookup } from '../explain/explanation-service.js';
import { ollamaExplainer } from '../explain/ollama-explainer.js';
import { type RetrievalSources, retrieve } from '../explain/retrieval.js';
import type { Explainer, Explanation } from '../explain/types.js';
import { listCsvFiles } from '../models/daily-csv.js';
import { seededRandom } from '../models/random.js';
import { parseNewsFile } from '../operators/sources/news-formats.js';
import type { News, Prediction } from '../schemas/index.js';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { faithfulExplanation } from '../test/support/faithful-model.js';
import { replyText, startOllamaTestDouble } from '../test/support/ollama-test-double.js';
import { median } from './counting-store.js';
import type { ReplayReport } from './explain-replay.js';
import { printMetrics, round, statusLine } from './report.js';

const REPLAY_RUNS = Number(process.env.BENCH_REPLAY_RUNS ?? 2);
const EXPLANATIONS = Number(process.env.BENCH_EXPLANATIONS ?? 200);
const RECALL_PAIRS = Number(process.env.BENCH_RECALL_PAIRS ?? 200);
const EMBED_TEXTS = Number(process.env.BENCH_EMBED_TEXTS ?? 1000);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const OLLAMA = (process.env.BENCH_OLLAMA_DOUBLE ?? '1') !== '0';
const KNOBS = {
  BENCH_REPLAY_RUNS: REPLAY_RUNS,
  BENCH_EXPLANATIONS: EXPLANATIONS,
  BENCH_RECALL_PAIRS: RECALL_PAIRS,
  BENCH_EMBED_TEXTS: EMBED_TEXTS,
  BENCH_SEED: SEED,
  BENCH_OLLAMA_DOUBLE: OLLAMA ? 1 : 0,
};
if (!(REPLAY_RUNS >= 1)) throw new RangeError(`BENCH_REPLAY_RUNS=${REPLAY_RUNS}: at least 1`);
const DAY = 86_400_000;
const OLLAMA_MODEL = 'llama3.2:3b';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HELPER = fileURLToPath(new URL('./explain-replay.ts', import.meta.url));

/** What every replay and the bench itself run with: the embedded stores, full speed, the template explainer. */
function envFor(db: string, explain: boolean): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TICKCAST_DB: db,
    TICKCAST_EXPLAIN: explain ? 'on' : 'off',
    TICKCAST_EXPLAINER: 'template',
    TICKCAST_SOURCE: 'replay',
    TICKCAST_TRANSPORT: 'memory',
    TICKCAST_STORE: 'duckdb',
    TICKCAST_ROLE: 'all',
    TICKCAST_PACE: '0',
    CHROMA_URL: '', // the vector store in the temp database, not on a server
  };
}

const loadStart = loadavg();
const progress = statusLine();
const dir = mkdtempSync(join(tmpdir(), 'tickcast-bench-explain-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const config: Config = loadConfig(envFor(join(dir, 'on-1.duckdb'), true));

// ---------------------------------------------------------------------------------------------
// 1. Replays, each in a child process.

interface Replay {
  kind: 'off' | 'on' | 'warm';
  run: number;
  wallS: number;
  cpuS: number;
  report: ReplayReport;
}

async function replay(kind: Replay['kind'], run: number, label: string): Promise<Replay> {
  const db = join(dir, `${kind === 'off' ? 'off' : 'on'}-${run}.duckdb`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', HELPER], {
    cwd: ROOT,
    env: { ...envFor(db, kind !== 'off'), BENCH_REPLAY_LABEL: label },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const wallS = (performance.now() - started) / 1000;
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{')) throw new Error(`${label}: the replay exited with ${code}:\n${out}`);
  const report = JSON.parse(last) as ReplayReport;
  return { kind, run, wallS, cpuS: (report.cpuUserMs + report.cpuSystemMs) / 1000, report };
}

const replays: Replay[] = [];
const order: Array<[Replay['kind'], number]> = [];
for (let i = 1; i <= REPLAY_RUNS; i++) order.push(['off', i], ['on', i], ['warm', i]);
for (const [n, [kind, run]] of order.entries()) {
  const label = `replay ${n + 1}/${order.length}: explain ${kind === 'off' ? 'off' : kind === 'on' ? 'on, cold' : 'on, warm'} #${run}`;
  replays.push(await replay(kind, run, label));
  // Databases no longer needed (the first `on` one is read below).
  if (kind === 'off' || (kind === 'warm' && run > 1)) {
    const db = join(dir, `${kind === 'off' ? 'off' : 'on'}-${run}.duckdb`);
    for (const f of [db, `${db}.wal`]) rmSync(f, { force: true });
  }
}
const of = (kind: Replay['kind']) => replays.filter((r) => r.kind === kind);
const med = (kind: Replay['kind'], f: (r: Replay) => number) => median(of(kind).map(f));
const wall = { off: med('off', (r) => r.wallS), on: med('on', (r) => r.wallS), warm: med('warm', (r) => r.wallS) };
const cpu = { off: med('off', (r) => r.cpuS), on: med('on', (r) => r.cpuS), warm: med('warm', (r) => r.cpuS) };

// ---------------------------------------------------------------------------------------------
// The stores of the first `on` replay (and its warm re-run), opened as `npm start` opens them.

process.stderr.write('opening the stores of replay "on #1"\n');
const dbPath = join(dir, 'on-1.duckdb');
const store = await openDuckDbStore({ path: dbPath });
const parts = await openExplainParts(config, { dbPath });
const sources: RetrievalSources = { store, vectors: parts.vectors, embedder: parts.embedder };
const lookup: PredictionLookup = {
  latest: async (s, h) => (await store.latestPredictions([s], h))[0] ?? null,
  has: async (s) => (await store.symbols()).includes(s),
};
const symbols = await store.symbols();
const horizons = config.TICKCAST_HORIZONS;

// Every bundled headline, as the news source reads it (one per id).
const headlines = new Map<string, News>();
for (const file of await listCsvFiles(config.TICKCAST_NEWS, 'bench')) {
  const parsed = parseNewsFile(await readFile(join(config.TICKCAST_NEWS, file)), { reject: () => undefined });
  for (const row of parsed.rows) if (!headlines.has(row.news.id)) headlines.set(row.news.id, row.news);
}

const quantile = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? Number.NaN;
};
const ms = (x: number) => round(x, 1);

/** A seeded shuffle. */
function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// 2. Embedding throughput.

process.stderr.write(`embedding ${Math.min(EMBED_TEXTS, headlines.size)} headlines with ${parts.embedder.id}\n`);
const embedTexts = shuffled([...headlines.values()], seededRandom(SEED)).map((n) => newsDocument(n).text);
const measured = embedTexts.slice(0, EMBED_TEXTS);
await parts.embedder.embed(embedTexts.slice(-16)); // warm-up: worker start, model load
const embedCpu0 = process.cpuUsage();
const embedT0 = performance.now();
// In the embed node's batches of 64 texts.
for (let i = 0; i < measured.length; i += 64) await parts.embedder.embed(measured.slice(i, i + 64));
const embedSeconds = (performance.now() - embedT0) / 1000;
const embedCpuUsed = process.cpuUsage(embedCpu0);
const embedPerSecond = measured.length / embedSeconds;
const embedPerCpuSecond = measured.length / ((embedCpuUsed.user + embedCpuUsed.system) / 1e6);

// ---------------------------------------------------------------------------------------------
// 3. Explanations: cold, then cached; citations checked against a second retrieval.

interface Request {
  symbol: string;
  horizon: number;
  /** Which service (a new one per round, so its cache is cold). */
  round: number;
}
const rounds = [...horizons, horizons[0]!];
const requests: Request[] = rounds
  .flatMap((horizon, round) => symbols.map((symbol) => ({ symbol, horizon, round })))
  .slice(0, EXPLANATIONS);

interface Timed {
  firstMs: number;
  fullMs: number;
  e: Explanation;
}

async function timed(service: ExplanationService, r: Request): Promise<Timed> {
  const t0 = performance.now();
  let firstMs: number | null = null;
  let e: Explanation | null = null;
  for await (const ev of service.stream(r.symbol, r.horizon)) {
    if (ev.type === 'text' && firstMs === null) firstMs = performance.now() - t0;
    if (ev.type === 'done') e = ev.explanation;
  }
  const fullMs = performance.now() - t0;
  if (!e) throw new Error(`${r.symbol} h${r.horizon}: the stream ended without an explanation`);
  return { firstMs: firstMs ?? fullMs, fullMs, e };
}

async function explainAll(explainer: Explainer | null, label: string) {
  const services = rounds.map(
    () =>
      new ExplanationService({
        sources,
        predictions: lookup,
        horizons,
        ...(explainer ? { explainer } : {}),
        // As the API runs it: its live feed announces new predictions (none arrive here), so a
        // cached explanation is served without looking the prediction up.
        announced: true,
        firstTextTimeoutMs: config.OLLAMA_TIMEOUT,
        totalTimeoutMs: 6 * config.OLLAMA_TIMEOUT,
      }),
  );
  const cold: Timed[] = [];
  for (const [i, r] of requests.entries()) {
    cold.push(await timed(services[r.round]!, r));
    progress(`${label}: ${i + 1}/${requests.length} cold`);
  }
  const cached: Timed[] = [];
  for (const [i, r] of requests.entries()) {
    cached.push(await timed(services[r.round]!, r));
    progress(`${label}: ${requests.length} cold, ${i + 1}/${requests.length} cached`, i + 1 === requests.length);
  }
  return { cold, cached };
}

/** Each citation names what a new retrieve() for the same prediction returns under that ref; each [ref] resolves. */
async function checkCitations(results: readonly Timed[]) {
  let citations = 0;
  let valid = 0;
  let unresolved = 0;
  let otherPrediction = 0;
  let lookAhead = 0;
  let withSheet = 0;
  for (const { e } of results) {
    const p = (await store.latestPredictions([e.symbol], e.horizon))[0];
    if (!p || p.id !== e.predictionId) {
      otherPrediction++;
      citations += e.citations.length;
      continue;
    }
    const ctx = await retrieve(sources, p);
    if (ctx.sheet) withSheet++;
    const idOf = new Map<string, string>([
      ...ctx.facts.map((f) => [f.ref, f.id] as const),
      ...ctx.news.map((n) => [n.ref, n.id] as const),
    ]);
    lookAhead += ctx.news.filter((n) => n.ts >= ctx.window.to).length;
    lookAhead += e.citations.filter((c) => c.kind === 'news' && c.ts >= ctx.window.to).length;
    for (const c of e.citations) {
      citations++;
      if (idOf.get(c.ref) === c.id) valid++;
    }
    const cited = new Set(e.citations.flatMap((c) => [c.ref, c.id]));
    for (const m of e.text.matchAll(/\[([^\][]+)\]/g)) {
      for (const token of m[1]!.split(/[,;]\s*/)) if (token.trim() && !cited.has(token.trim())) unresolved++;
    }
  }
  const total = citations + unresolved;
  return {
    citationValid: total === 0 ? 0 : valid / total,
    citations,
    unresolved,
    otherPrediction,
    lookAhead,
    withSheet,
  };
}

function latencies(cold: readonly Timed[], cached: readonly Timed[]) {
  const first = cold.map((t) => t.firstMs);
  const full = cold.map((t) => t.fullMs);
  return {
    firstTextP50Ms: ms(quantile(first, 0.5)),
    firstTextP95Ms: ms(quantile(first, 0.95)),
    firstTextMaxMs: ms(Math.max(...first)),
    fullP50Ms: ms(quantile(full, 0.5)),
    fullP95Ms: ms(quantile(full, 0.95)),
    fullMaxMs: ms(Math.max(...full)),
    cachedP95Ms: round(
      quantile(
        cached.map((t) => t.fullMs),
        0.95,
      ),
      2,
    ),
    generated: cold.filter((t) => !t.e.cached).length,
    cacheHits: cached.filter((t) => t.e.cached).length,
    groundedRate: round(cold.filter((t) => t.e.grounded).length / cold.length, 3),
  };
}

const template = await explainAll(parts.explainer, `explanations (${parts.explainer?.name ?? 'template'})`);
const templateFigures = latencies(template.cold, template.cached);
const citationCheck = await checkCitations(template.cold);

// ---------------------------------------------------------------------------------------------
// 4. The Ollama explainer against the Ollama protocol TEST DOUBLE: no model runs.

let ollama: (ReturnType<typeof latencies> & { fallbacks: number; citationValid: number }) | null = null;
if (OLLAMA) {
  const double = await startOllamaTestDouble({
    models: [OLLAMA_MODEL],
    responder: (r) => replyText(faithfulExplanation(r)),
  });
  try {
    const explainer = ollamaExplainer({ host: double.url, model: OLLAMA_MODEL });
    const run = await explainAll(explainer, 'explanations (ollama protocol test double)');
    ollama = {
      ...latencies(run.cold, run.cached),
      fallbacks: run.cold.filter((t) => t.e.explainer !== explainer.name).length,
      citationValid: round((await checkCitations(run.cold)).citationValid, 3),
    };
  } finally {
    await double.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Retrieval recall@5 on (symbol, day) pairs with exactly one headline.

process.stderr.write('recall: labelling pairs\n');
const perDay = new Map<string, News[]>();
for (const n of headlines.values()) {
  const key = `${n.symbol}|${newYorkDate(n)}`;
  const list = perDay.get(key) ?? [];
  list.push(n);
  perDay.set(key, list);
}
const predictionsOf = new Map<string, Prediction[]>();
for (const s of symbols) predictionsOf.set(s, await store.predictions(s, { horizon: 1 }));
const singles = [...perDay.values()].filter((l) => l.length === 1).map((l) => l[0]!);
const stored = new Set<string>();
for (let i = 0; i < singles.length; i += 1000) {
  for (const d of await parts.vectors.get(singles.slice(i, i + 1000).map((n) => n.id))) stored.add(d.id);
}

/**
 * The first prediction that may use the headline: its inputs complete (asOf = ts + one day, the
 * end of its bar) after the headline's ts. A date-only headline (ts = end of its New York day) is
 * first used by the next trading day's prediction; a timed one by the same day's if it came first.
 */
function firstUser(n: News): Prediction | undefined {
  return predictionsOf.get(n.symbol)?.find((p) => p.ts + DAY > n.ts);
}

const candidates = singles.flatMap((n) => {
  const p = stored.has(n.id) ? firstUser(n) : undefined;
  // Only a prediction within a week of the headline (not one at the start of the replay).
  return p && p.ts - n.ts < 7 * DAY ? [{ news: n, prediction: p }] : [];
});
type Pair = (typeof candidates)[number];

/** ~n pairs spread over sources (in turn) and, within each, over symbols (in turn), seeded. */
function spread(pairs: readonly Pair[], n: number): Pair[] {
  const random = seededRandom(SEED);
  const bySource = new Map<string, Map<string, Pair[]>>();
  for (const p of pairs) {
    const src = bySource.get(p.news.source) ?? new Map<string, Pair[]>();
    const list = src.get(p.news.symbol) ?? [];
    list.push(p);
    src.set(p.news.symbol, list);
    bySource.set(p.news.source, src);
  }
  const queues = [...bySource.keys()].sort().map((source) => {
    const bySymbol = bySource.get(source)!;
    const lists = shuffled([...bySymbol.keys()].sort(), random).map((s) => shuffled(bySymbol.get(s)!, random));
    const out: Pair[] = [];
    for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
    return out;
  });
  const picked: Pair[] = [];
  for (let i = 0; picked.length < n && queues.some((q) => i < q.length); i++) {
    for (const q of queues) if (i < q.length && picked.length < n) picked.push(q[i]!);
  }
  return picked;
}

const pairs = spread(candidates, RECALL_PAIRS);
let hits = 0;
let retrievedLookAhead = 0;
let marketScope = 0;
const bySource = new Map<string, { pairs: number; hits: number; symbols: Set<string> }>();
for (const [i, { news: n, prediction: p }] of pairs.entries()) {
  const ctx = await retrieve(sources, p);
  const hit = ctx.news.slice(0, 5).some((x) => x.id === n.id);
  if (hit) hits++;
  retrievedLookAhead += ctx.news.filter((x) => x.ts >= ctx.window.to).length;
  if (ctx.news[0]?.scope === 'market') marketScope++;
  const s = bySource.get(n.source) ?? { pairs: 0, hits: 0, symbols: new Set<string>() };
  s.pairs++;
  s.hits += hit ? 1 : 0;
  s.symbols.add(n.symbol);
  bySource.set(n.source, s);
  progress(`recall: ${i + 1}/${pairs.length} pairs`, i + 1 === pairs.length);
}
const sourcesWithout = [...new Set([...headlines.values()].map((n) => n.source))].filter((s) => !bySource.has(s));

/** The headline's date as its source gives it (New York), YYYY-MM-DD. */
function newYorkDate(n: News): string {
  return new Date(n.ts).toLocaleDateString('en-CA', { timeZone: 'America/New_York' });
}

await parts.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

// ---------------------------------------------------------------------------------------------
// Report.

const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
const loadEnd = loadavg();
const la = (l: number[]) => l.map((x) => round(x, 2));
const onCold = of('on')[0]!.report;
const result = {
  bench: 'explain',
  data: 'bundled real data: data/sp500-daily (50 tickers), data/news, data/earnings',
  embedder: parts.embedder.id,
  explainer: parts.explainer?.name ?? 'template',
  replaySeconds: round(wall.on),
  replayRuns: REPLAY_RUNS,
  replayWallSeconds: { off: round(wall.off), on: round(wall.on), warm: round(wall.warm) },
  replayCpuSeconds: { off: round(cpu.off), on: round(cpu.on), warm: round(cpu.warm) },
  replayExtraSeconds: { cold: round(wall.on - wall.off), warm: round(wall.warm - wall.off) },
  replayExtraCpuSeconds: { cold: round(cpu.on - cpu.off), warm: round(cpu.warm - cpu.off) },
  replayPeakRssMb: {
    off: Math.round(med('off', (r) => r.report.maxRssMb)),
    on: Math.round(med('on', (r) => r.report.maxRssMb)),
  },
  stored: {
    predictions: onCold.predictions,
    headlines: onCold.newsDocs,
    factSheets: onCold.factDocs,
  },
  explanations: requests.length,
  ...templateFigures,
  citationValid: round(citationCheck.citationValid, 3),
  citations: citationCheck.citations,
  unresolvedRefs: citationCheck.unresolved,
  explainedWithFactSheet: citationCheck.withSheet,
  ollamaDouble: ollama ? { label: 'ollama protocol test double (not a model)', ...ollama } : null,
  recallAt5: round(hits / pairs.length, 3),
  recallPairs: pairs.length,
  recallAt5BySource: Object.fromEntries(
    [...bySource]
      .sort()
      .map(([s, v]) => [s, { recallAt5: round(v.hits / v.pairs, 3), pairs: v.pairs, symbols: v.symbols.size }]),
  ),
  recallCandidates: candidates.length,
  lookAhead: retrievedLookAhead + citationCheck.lookAhead,
  marketScopeQueries: marketScope,
  embedPerSecond: Math.round(embedPerSecond),
  embedPerCpuSecond: Math.round(embedPerCpuSecond),
  embedTexts: measured.length,
  peakRssMb,
  loadAverage: { start: la(loadStart), end: la(loadEnd) },
  knobs: KNOBS,
};

console.log(
  `\nexplain bench: bundled real data, ${symbols.length} symbols, embedder ${result.embedder}; load average ${la(loadStart).join(' ')} at start, ${la(loadEnd).join(' ')} at end`,
);
console.log(
  `knobs: ${Object.entries(KNOBS)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}\n`,
);
console.log('replays of the bundled data (child processes, each a fresh temp database):');
printTable(
  ['run', 'explain', 'wall s', 'CPU s', 'peak RSS MB', 'headlines embedded', 'fact sheets', 'predictions'],
  replays.map((r) => [
    `#${r.run}`,
    r.kind === 'off' ? 'off' : r.kind === 'on' ? 'on (cold)' : 'on (warm: same db)',
    r.wallS.toFixed(1),
    r.cpuS.toFixed(1),
    String(Math.round(r.report.maxRssMb)),
    `${r.report.newsEmbedded}/${r.report.newsIn}`,
    String(r.report.factSheets),
    String(r.report.predictions),
  ]),
);
console.log('\nexplanations (cold: each generated; cached: the same requests again):');
const explainRow = (name: string, f: ReturnType<typeof latencies>, cv: number, note: string) => [
  name,
  `${f.generated}`,
  `${f.firstTextP50Ms} / ${f.firstTextP95Ms} / ${f.firstTextMaxMs}`,
  `${f.fullP50Ms} / ${f.fullP95Ms} / ${f.fullMaxMs}`,
  `${f.cachedP95Ms} (${f.cacheHits} hits)`,
  String(f.groundedRate),
  String(round(cv, 3)),
  note,
];
printTable(
  [
    'explainer',
    'n',
    'first text ms p50/p95/max',
    'full ms p50/p95/max',
    'cached p95 ms',
    'grounded',
    'citations ok',
    '',
  ],
  [
    explainRow(parts.explainer?.name ?? 'template', templateFigures, citationCheck.citationValid, ''),
    ...(ollama
      ? [
          explainRow(
            'ollama protocol test double (not a model)',
            ollama,
            ollama.citationValid,
            `client+stream+check overhead only; grounded is by construction; ${ollama.fallbacks} fallbacks`,
          ),
        ]
      : []),
  ],
);
console.log('\nretrieval recall@5 (one headline that day, queried by the first prediction that may use it):');
printTable(
  ['source', 'pairs', 'symbols', 'recall@5'],
  [...bySource]
    .sort()
    .map(([s, v]) => [s, String(v.pairs), String(v.symbols.size), String(round(v.hits / v.pairs, 3))])
    .concat([
      ['all', String(pairs.length), String(new Set(pairs.map((p) => p.news.symbol)).size), String(result.recallAt5)],
    ]),
);
if (sourcesWithout.length) {
  console.log(`(no pairs from ${sourcesWithout.join(', ')}: its headlines are of tickers without prices here)`);
}
console.log('');
printMetrics([
  ['replaySeconds (explain on, cold, median)', String(result.replaySeconds), ''],
  ['replayExtraSeconds cold (on − off, wall)', String(result.replayExtraSeconds.cold), ''],
  ['replayExtraSeconds warm (2nd run − off)', String(result.replayExtraSeconds.warm), ''],
  ['replayExtraCpuSeconds cold', String(result.replayExtraCpuSeconds.cold), ''],
  ['replayExtraCpuSeconds warm', String(result.replayExtraCpuSeconds.warm), ''],
  ['groundedRate', String(result.groundedRate), '1.0'],
  ['citationValid', String(result.citationValid), '1.0'],
  ['firstTextP95Ms', String(result.firstTextP95Ms), '< 1000'],
  ['fullP95Ms', String(result.fullP95Ms), '< 3000'],
  ['cachedP95Ms', String(result.cachedP95Ms), '< 20'],
  ['recallAt5', String(result.recallAt5), ''],
  ['lookAhead (headlines at/after asOf)', String(result.lookAhead), '0'],
  ['embedPerSecond (headlines/s, wall)', String(result.embedPerSecond), ''],
  ['embedPerCpuSecond', String(result.embedPerCpuSecond), ''],
  ['peakRssMb (bench process)', String(result.peakRssMb), ''],
]);
console.log(JSON.stringify(result));
