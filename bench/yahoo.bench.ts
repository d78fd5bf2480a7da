// npm run bench:yahoo — the yahoo source's quote cycle at scale, against the Yahoo fixture server
// (a TEST DOUBLE serving recorded real Yahoo responses, never Yahoo). The 5,000 symbols are
// SYNTHETIC: SYN00000…SYN04999, each answered with a recorded quote record re-keyed to it. Prints a
// status line on stderr, tables, then one JSON line last. Nothing here asserts on time.
//
// The fixture server runs in a child process (bench/yahoo-fixture-child.ts), so this process's CPU
// is the client's (and the pipeline's) alone; the child's CPU is reported beside it. A last, short
// pass runs the server in this process, for comparison.
//
// 1. Client: full cycles of the real client (yahoo-finance2 inside; rate limit off, production's
//    concurrency 4, retries and breakers as configured by default), after one warm-up cycle that
//    also fetches the cookie/crumb session. Requests per cycle are counted from the client's events
//    and by the server.
// 2. Pipeline: the yahoo source operator (createYahooFeed → quotes) on runPipeline with the memory
//    transport (as `npm start`), writing topic `quotes` (BENCH_PARTITIONS partitions), read by a
//    sink that collects what arrives. A feed emits only changed quotes, so each run is a fresh feed
//    and pipeline on the one client (warm session), and its first cycle emits every symbol. The
//    feed's clock is real time, except that its sleeps wait for the bench (which then moves the
//    clock past them): the bench starts each cycle, and a cycle has ended when the feed sleeps again.
//    A cycle's time runs from the feed asking for quotes to the last quote received by the sink.
// 3. Faults, alternated run by run with clean pipeline runs: BENCH_FAULT_RATE of the cycle's quote
//    requests (seeded choice of batches) fail on their first attempt, alternately 429 with
//    Retry-After BENCH_RETRY_AFTER_S and 500, injected by the fixture server. If symbols are stale
//    after the faulty cycle, faults are cleared and one more cycle runs (recovery). What reached the
//    sink over the run is compared with a clean run of the same data: lost and duplicated quotes
//    by count per symbol, and a checksum (sha256 of the quotes, sorted by symbol).
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { printTable } from '../cli/table.js';
import { defineOperator, definePipeline, MemoryTransport, runPipeline, type StreamRecord } from '../engine/index.js';
import { seededRandom } from '../models/random.js';
import { createYahooFeed, defaultPollMs, type FeedClock } from '../operators/sources/yahoo.js';
import { createYahooClient, MAX_QUOTE_BATCH, type YahooClient } from '../operators/sources/yahoo-client.js';
import { type Quote, schemas } from '../schemas/index.js';
import {
  BUNDLED_YAHOO_FIXTURES,
  sharedYahooFixtures,
  startYahooFixtureServer,
  type YahooFaultRule,
} from '../test/support/yahoo-fixture-server.js';
import { median } from './counting-store.js';
import { printMetrics, round, statusLine } from './report.js';
import type { ChildMessage, ChildRequest, ChildStats } from './yahoo-fixture-child.js';

const SYMBOLS = Number(process.env.BENCH_SYMBOLS ?? 5000);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 5);
const FAULT_RATE = Number(process.env.BENCH_FAULT_RATE ?? 0.1);
const RETRY_AFTER_S = Number(process.env.BENCH_RETRY_AFTER_S ?? 1);
const FAULT_ATTEMPTS = Number(process.env.BENCH_FAULT_ATTEMPTS ?? 1);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 4);
const INPROCESS_CYCLES = Number(process.env.BENCH_INPROCESS_CYCLES ?? 3);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const KNOBS = {
  BENCH_SYMBOLS: SYMBOLS,
  BENCH_CYCLES: CYCLES,
  BENCH_FAULT_RATE: FAULT_RATE,
  BENCH_RETRY_AFTER_S: RETRY_AFTER_S,
  BENCH_FAULT_ATTEMPTS: FAULT_ATTEMPTS,
  BENCH_CONCURRENCY: CONCURRENCY,
  BENCH_PARTITIONS: PARTITIONS,
  BENCH_INPROCESS_CYCLES: INPROCESS_CYCLES,
  BENCH_SEED: SEED,
};
if (!(SYMBOLS >= 1 && CYCLES >= 1)) throw new RangeError('BENCH_SYMBOLS and BENCH_CYCLES: at least 1');
if (!(FAULT_RATE >= 0 && FAULT_RATE < 1)) throw new RangeError(`BENCH_FAULT_RATE=${FAULT_RATE}: in [0, 1)`);
if (!(FAULT_ATTEMPTS >= 1)) throw new RangeError(`BENCH_FAULT_ATTEMPTS=${FAULT_ATTEMPTS}: at least 1`);
const DATA = 'synthetic (recorded quotes re-keyed)';
const HELPER = fileURLToPath(new URL('./yahoo-fixture-child.ts', import.meta.url));
/**
 * Where the feed's clock starts: a minute after the close of the session the quotes were recorded
 * in (Friday 2025-02-14, 21:00 UTC), so the recorded quotes are current to it, as live ones are.
 */
const FEED_CLOCK_START = Date.parse('2025-02-14T21:01:00Z');

const loadStart = loadavg();
const progress = statusLine();

/** SYNTHETIC symbols: the fixture server re-keys a recorded quote to each. */
const symbols = Array.from({ length: SYMBOLS }, (_, i) => `SYN${String(i).padStart(5, '0')}`);
const batches = Math.ceil(SYMBOLS / MAX_QUOTE_BATCH);

// ---------------------------------------------------------------------------------------------
// The fixture server, in a child process.

/** A request to the child, before it gets its id. */
type Request = WithoutId<ChildRequest>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Fixture {
  url: string;
  fixtureDirs: string[];
  call(m: Request): Promise<ChildStats | undefined>;
  stats(): Promise<ChildStats>;
}

async function startChild(): Promise<Fixture & { child: ChildProcess }> {
  const child = fork(HELPER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let next = 0;
  const pending = new Map<number, { resolve: (s: ChildStats | undefined) => void; reject: (e: Error) => void }>();
  const ready = new Promise<{ url: string; fixtureDirs: string[] }>((resolve, reject) => {
    child.on('message', (m: ChildMessage) => {
      if ('ready' in m) return resolve(m.ready);
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.ok) p?.resolve(m.stats);
      else p?.reject(new Error(`fixture server child: ${m.error}`));
    });
    child.on('exit', (code) => {
      const e = new Error(`fixture server child exited with ${code}`);
      reject(e);
      for (const p of pending.values()) p.reject(e);
    });
  });
  const { url, fixtureDirs } = await ready;
  const call = (m: Request) =>
    new Promise<ChildStats | undefined>((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      child.send({ ...m, id } as ChildRequest);
    });
  return { child, url, fixtureDirs, call, stats: async () => (await call({ op: 'stats' }))! };
}

// ---------------------------------------------------------------------------------------------
// Measuring.

/** What the client reports during a window: requests by kind, retries, Retry-After pauses. */
function clientCounter(client: YahooClient) {
  const c = { quote: 0, other: 0, failed: 0, retries: 0, pauses: 0 };
  client.events.on('request', (e) => {
    if (e.kind === 'quote') c.quote++;
    else c.other++;
    if (e.status !== 200) c.failed++;
  });
  client.events.on('retry', () => c.retries++);
  client.events.on('pause', () => c.pauses++);
  return { snapshot: () => ({ ...c }) };
}
type Counts = ReturnType<ReturnType<typeof clientCounter>['snapshot']>;
const diffCounts = (a: Counts, b: Counts): Counts => ({
  quote: b.quote - a.quote,
  other: b.other - a.other,
  failed: b.failed - a.failed,
  retries: b.retries - a.retries,
  pauses: b.pauses - a.pauses,
});

interface Window {
  ms: number;
  cpuMs: number;
  serverCpuMs: number;
  client: Counts;
  serverQuoteRequests: number;
  serverFaults: number;
  serverSynthetic: number;
}

/** Wall, this process's CPU, the server child's CPU and the requests seen, around `fn`. */
async function measured<T>(
  fixture: Fixture | null,
  counter: ReturnType<typeof clientCounter>,
  fn: (started: () => void) => Promise<T>,
): Promise<{ value: T; window: Window }> {
  const s0 = fixture ? await fixture.stats() : null;
  const c0 = counter.snapshot();
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  // `started` lets fn say where the timed part begins (after its own set-up).
  const value = await fn(() => {
    cpu0 = process.cpuUsage();
    t0 = performance.now();
  });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const c1 = counter.snapshot();
  const s1 = fixture ? await fixture.stats() : null;
  return {
    value,
    window: {
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      serverCpuMs: s0 && s1 ? (s1.cpuUserUs + s1.cpuSystemUs - s0.cpuUserUs - s0.cpuSystemUs) / 1000 : 0,
      client: diffCounts(c0, c1),
      serverQuoteRequests: s0 && s1 ? s1.quoteRequests - s0.quoteRequests : 0,
      serverFaults: s0 && s1 ? s1.faults - s0.faults : 0,
      serverSynthetic: s0 && s1 ? s1.syntheticRecords - s0.syntheticRecords : 0,
    },
  };
}

const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]!;
};
const stats = (xs: number[]) => ({
  p50: Math.round(median(xs)),
  p95: Math.round(p95(xs)),
  max: Math.round(Math.max(...xs)),
});

/** Order-independent content of a set of quotes: count and sha256 of them sorted by symbol. */
function checksum(quotes: readonly Quote[]): string {
  const lines = quotes
    .map((q) => JSON.stringify([q.symbol, q.ts, q.price, q.dayOpen, q.dayHigh, q.dayLow, q.dayVolume, q.source]))
    .sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

/**
 * Against the clean run: quotes missing and extra, per symbol; `lostLate`: of the missing, those
 * whose event time was before the source's watermark when they were fetched again (recovery).
 */
function compare(reference: readonly Quote[], got: readonly Quote[], watermark: number | null) {
  const want = new Map<string, number>();
  for (const q of reference) want.set(q.symbol, (want.get(q.symbol) ?? 0) + 1);
  const have = new Map<string, number>();
  for (const q of got) have.set(q.symbol, (have.get(q.symbol) ?? 0) + 1);
  let lost = 0;
  let duplicated = 0;
  for (const [s, n] of want) lost += Math.max(0, n - (have.get(s) ?? 0));
  for (const [s, n] of have) duplicated += Math.max(0, n - (want.get(s) ?? 0));
  const lostLate = watermark === null ? 0 : reference.filter((q) => q.ts < watermark && !have.has(q.symbol)).length;
  return { lost, lostLate, duplicated, checksumMatch: checksum(reference) === checksum(got) };
}

// ---------------------------------------------------------------------------------------------
// The source operator in a pipeline.

/**
 * Real time from FEED_CLOCK_START, except that the feed's sleeps wait for `wake()`, which moves
 * the clock past them.
 */
function benchClock() {
  let offset = FEED_CLOCK_START - Date.now();
  let sleeping: { ms: number; done: () => void } | null = null;
  let onSleep: (() => void) | null = null;
  const clock: FeedClock = {
    now: () => Date.now() + offset,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal.aborted || ms <= 0) return resolve();
        const done = () => {
          signal.removeEventListener('abort', done);
          sleeping = null;
          resolve();
        };
        signal.addEventListener('abort', done, { once: true });
        sleeping = { ms, done };
        onSleep?.();
      }),
  };
  return {
    clock,
    /** Resolves when the feed sleeps (its cycle is over). */
    asleep: () =>
      sleeping
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            onSleep = () => {
              onSleep = null;
              resolve();
            };
          }),
    /** Ends the sleep: the next cycle starts. */
    wake: () => {
      const s = sleeping;
      if (!s) throw new Error('bench: the feed is not sleeping');
      offset += s.ms;
      s.done();
    },
  };
}

interface PipelineRun {
  window: Window;
  /** The faulty cycle alone (the recovery cycle, if any, not in it). */
  cycleMs: number;
  emitted: number;
  quotes: Quote[];
  staleAfterCycle: number;
  staleSymbols: number;
  recoveryCycles: number;
  /** The source's watermark when the recovery cycle started (quotes older are late: not emitted). */
  watermarkAtRecovery: number | null;
  deadLetters: number;
}

/** A fresh feed and pipeline on `client`; its first cycle (with `faults`, if any), and a recovery cycle if needed. */
async function pipelineRun(
  client: YahooClient,
  fixture: Fixture,
  counter: ReturnType<typeof clientCounter>,
  faults: YahooFaultRule[],
): Promise<PipelineRun> {
  const received: Quote[] = [];
  let waiter: { n: number; resolve: () => void } | null = null;
  const collect = defineOperator({
    kind: 'sink',
    name: 'bench-collect',
    input: schemas.Quote,
    async write(records: readonly StreamRecord<Quote>[]) {
      for (const r of records) received.push(r.value);
      if (waiter && received.length >= waiter.n) {
        waiter.resolve();
        waiter = null;
      }
    },
  });
  const until = (n: number) =>
    received.length >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { n, resolve }));

  // The feed asks for quotes only when the bench lets it (after the pipeline has started).
  let letGo!: () => void;
  const go = new Promise<void>((resolve) => (letGo = resolve));
  let asked!: () => void;
  const askedP = new Promise<void>((resolve) => (asked = resolve));
  const gated: YahooClient = {
    ...client,
    quotes: async (list) => {
      asked();
      await go;
      return client.quotes(list);
    },
  };
  const { clock, asleep, wake } = benchClock();
  const feed = createYahooFeed({
    client: gated,
    symbols,
    pollMs: defaultPollMs(symbols.length, 0),
    requestsPerMinute: 0,
    clock,
    log: () => {},
  });
  const pipeline = definePipeline({
    name: 'bench-yahoo',
    topics: { quotes: { schema: schemas.Quote, partitions: PARTITIONS, description: 'quotes from the yahoo source' } },
    nodes: [
      { id: 'market-data', operator: feed.quotes, writes: { quotes: 'quotes' } },
      { id: 'collect', operator: collect, reads: 'quotes' },
    ],
  });
  const running = await runPipeline(pipeline, { transport: new MemoryTransport(), log: () => {} });
  const failed = running.done.then(
    () => {
      throw new Error('bench: the pipeline ended');
    },
    (e: unknown) => {
      throw e;
    },
  );
  failed.catch(() => {});
  const emitted = () => running.sources().find((s) => s.node === 'market-data')?.done ?? 0;
  try {
    await Promise.race([askedP, failed]);
    if (faults.length > 0) await fixture.call({ op: 'inject', rules: faults });
    let cycleMs = 0;
    let staleAfterCycle = 0;
    let recoveryCycles = 0;
    let watermarkAtRecovery: number | null = null;
    const { window } = await measured(fixture, counter, async (started) => {
      started();
      const t0 = performance.now();
      letGo();
      await Promise.race([asleep(), failed]);
      await Promise.race([until(emitted()), failed]);
      cycleMs = performance.now() - t0;
      staleAfterCycle = feed.status().staleSymbols;
      // Recovery: faults over, the next cycle refetches what is stale.
      while (feed.status().staleSymbols > 0 && recoveryCycles < 3) {
        await fixture.call({ op: 'clear' });
        watermarkAtRecovery ??= running.metrics.node('market-data').watermark;
        recoveryCycles++;
        wake();
        await Promise.race([asleep(), failed]);
        await Promise.race([until(emitted()), failed]);
      }
    });
    await fixture.call({ op: 'clear' });
    return {
      window,
      cycleMs,
      emitted: emitted(),
      quotes: received,
      staleAfterCycle,
      staleSymbols: feed.status().staleSymbols,
      recoveryCycles,
      watermarkAtRecovery,
      deadLetters: running.metrics.node('market-data').deadLetters,
    };
  } finally {
    await running.stop();
  }
}

/**
 * BENCH_FAULT_RATE of the cycle's batches fail on their first BENCH_FAULT_ATTEMPTS attempts: 429
 * (Retry-After) and 500, alternately. More attempts than the client's retries (3) fail whole batches.
 */
function faultPlan(run: number): YahooFaultRule[] {
  const n = Math.round(FAULT_RATE * batches);
  const random = seededRandom(SEED + run);
  const order = Array.from({ length: batches }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const rules: YahooFaultRule[] = [];
  for (const b of order.slice(0, n)) {
    for (let a = 0; a < FAULT_ATTEMPTS; a++) {
      rules.push({
        endpoint: 'quote',
        symbol: symbols[b * MAX_QUOTE_BATCH]!, // the first symbol of the batch: only its requests
        times: 1,
        fault:
          rules.length % 2 === 0
            ? { kind: 'tooManyRequests', retryAfter: RETRY_AFTER_S }
            : { kind: 'status', status: 500 },
      });
    }
  }
  return rules;
}

// ---------------------------------------------------------------------------------------------
// 1. The client, against the server in a child process.

progress('starting the fixture server (child process)', true);
const fixture = await startChild();
const makeClient = (baseUrl: string) =>
  createYahooClient({
    baseUrl,
    requestsPerMinute: 0, // the rate limit off
    concurrency: CONCURRENCY,
    log: (level, message) => process.stderr.write(`[yahoo] ${level}: ${message}\n`),
  });
const client = makeClient(fixture.url);
const counter = clientCounter(client);

const clientCycle = async (c: YahooClient, f: Fixture | null, k: ReturnType<typeof clientCounter>) => {
  const { value, window } = await measured(f, k, () => c.quotes(symbols));
  if (value.failed.length > 0) throw new Error(`bench: ${value.failed.length} batches failed in a clean cycle`);
  return {
    window,
    quotes: value.quotes.size,
    missing: value.missing.length,
    invalid: value.invalid.length,
  };
};

progress('client: warm-up cycle (and the cookie/crumb session)', true);
const warmup = await clientCycle(client, fixture, counter);
const clientRuns: Array<Awaited<ReturnType<typeof clientCycle>>> = [];
for (let i = 1; i <= CYCLES; i++) {
  progress(`client: cycle ${i}/${CYCLES}`, i === CYCLES);
  clientRuns.push(await clientCycle(client, fixture, counter));
}

// ---------------------------------------------------------------------------------------------
// 2, 3. The source operator into the pipeline: a warm-up run (also the reference), then clean and
// faulty runs alternated.

progress('pipeline: warm-up run (the clean reference)', true);
const reference = await pipelineRun(client, fixture, counter, []);
const referenceSum = checksum(reference.quotes);
const cleanRuns: PipelineRun[] = [];
const faultyRuns: Array<PipelineRun & { planned: number } & ReturnType<typeof compare>> = [];
for (let i = 1; i <= CYCLES; i++) {
  progress(`pipeline: clean run ${i}/${CYCLES}`, true);
  cleanRuns.push(await pipelineRun(client, fixture, counter, []));
  progress(`pipeline: faulty run ${i}/${CYCLES}`, true);
  const plan = faultPlan(i);
  const run = await pipelineRun(client, fixture, counter, plan);
  faultyRuns.push({ ...run, planned: plan.length, ...compare(reference.quotes, run.quotes, run.watermarkAtRecovery) });
}
const cleanMismatch = cleanRuns.filter((r) => checksum(r.quotes) !== referenceSum).length;

await fixture.call({ op: 'close' });
fixture.child.disconnect();

// ---------------------------------------------------------------------------------------------
// 4. For comparison: the server in this process (its CPU counted with the client's).

let inProcess: { cycleMs: ReturnType<typeof stats>; cpuMsPerCycle: number } | null = null;
if (INPROCESS_CYCLES > 0) {
  const server = await startYahooFixtureServer({
    dirs: [BUNDLED_YAHOO_FIXTURES, ...(sharedYahooFixtures() ? [sharedYahooFixtures()!] : [])],
    synthetic: { test: (s) => /^SYN\d+$/.test(s) },
  });
  try {
    const c = makeClient(server.url);
    const k = clientCounter(c);
    progress('in-process server: warm-up cycle', true);
    await clientCycle(c, null, k);
    const runs = [];
    for (let i = 1; i <= INPROCESS_CYCLES; i++) {
      progress(`in-process server: cycle ${i}/${INPROCESS_CYCLES}`, i === INPROCESS_CYCLES);
      runs.push(await clientCycle(c, null, k));
    }
    inProcess = {
      cycleMs: stats(runs.map((r) => r.window.ms)),
      cpuMsPerCycle: Math.round(median(runs.map((r) => r.window.cpuMs))),
    };
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Figures.

const loadEnd = loadavg();
const la = (l: number[]) => l.map((x) => round(x, 2));
const clientMs = clientRuns.map((r) => r.window.ms);
const pipeMs = cleanRuns.map((r) => r.cycleMs);
const faultyMs = faultyRuns.map((r) => r.cycleMs);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const result = {
  data: DATA,
  fixtureServer: 'child process (its CPU reported apart: fixtureServer)',
  symbols: SYMBOLS,
  cycleMs: { client: stats(clientMs).p50, pipeline: stats(pipeMs).p50 },
  cycleMsP95: { client: stats(clientMs).p95, pipeline: stats(pipeMs).p95 },
  cycleMsMax: { client: stats(clientMs).max, pipeline: stats(pipeMs).max },
  requestsPerCycle: median(clientRuns.map((r) => r.window.client.quote)),
  requestsPerCycleServer: median(clientRuns.map((r) => r.window.serverQuoteRequests)),
  quotesPerCycle: median(clientRuns.map((r) => r.quotes)),
  missingOrInvalid: Math.max(...clientRuns.map((r) => r.missing + r.invalid)),
  quotesPerSec: Math.round(median(cleanRuns.map((r) => r.emitted / (r.cycleMs / 1000)))),
  emittedPerRun: median(cleanRuns.map((r) => r.emitted)),
  cpuMsPerCycle: {
    client: Math.round(median(clientRuns.map((r) => r.window.cpuMs))),
    pipeline: Math.round(median(cleanRuns.map((r) => r.window.cpuMs))),
    fixtureServer: Math.round(median(clientRuns.map((r) => r.window.serverCpuMs))),
  },
  faultyCycleMs: stats(faultyMs).p50,
  faultyCycleMsMax: stats(faultyMs).max,
  faultyRequests: {
    failedPerCycle: median(faultyRuns.map((r) => r.window.serverFaults)),
    requestsPerCycle: median(faultyRuns.map((r) => r.window.client.quote)),
    retriesPerCycle: median(faultyRuns.map((r) => r.window.client.retries)),
    retryAfterPausesPerCycle: median(faultyRuns.map((r) => r.window.client.pauses)),
  },
  /** Faulty cycles that ended with every batch answered (after retries); none failed the pipeline, or the bench would have thrown. */
  faultyCyclesComplete: faultyRuns.filter((r) => r.staleAfterCycle === 0).length,
  faultyRuns: faultyRuns.length,
  staleAfterFaultyCycle: Math.max(...faultyRuns.map((r) => r.staleAfterCycle)),
  recoveryCycles: sum(faultyRuns.map((r) => r.recoveryCycles)),
  staleSymbols: Math.max(...faultyRuns.map((r) => r.staleSymbols)),
  lost: sum(faultyRuns.map((r) => r.lost)),
  lostLate: sum(faultyRuns.map((r) => r.lostLate)),
  duplicated: sum(faultyRuns.map((r) => r.duplicated)),
  checksumMatch: faultyRuns.every((r) => r.checksumMatch) && cleanMismatch === 0,
  checksum: referenceSum,
  deadLetters: sum([...cleanRuns, ...faultyRuns].map((r) => r.deadLetters)),
  inProcessServer: inProcess,
  warmupCycleMs: Math.round(warmup.window.ms),
  loadAverage: { start: la(loadStart), end: la(loadEnd) },
  knobs: KNOBS,
};

console.log(
  `\nyahoo bench: ${SYMBOLS.toLocaleString('en-US')} SYNTHETIC symbols (recorded Yahoo quotes re-keyed) from the Yahoo fixture server (a test double, in a child process; recordings: ${fixture.fixtureDirs.length} folder(s)); rate limit off, concurrency ${CONCURRENCY}; load average ${la(loadStart).join(' ')} at start, ${la(loadEnd).join(' ')} at end`,
);
console.log(
  `knobs: ${Object.entries(KNOBS)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}\n`,
);
console.log('cycles (ms; CPU: this process, and the fixture server child apart):');
printTable(
  [
    'run',
    'wall ms',
    'CPU ms',
    'server CPU ms',
    'quote req',
    'failed',
    'retries',
    'quotes',
    'lost',
    'dup',
    'stale',
    'sum ok',
  ],
  [
    ...clientRuns.map((r, i) => [
      `client #${i + 1}`,
      String(Math.round(r.window.ms)),
      String(Math.round(r.window.cpuMs)),
      String(Math.round(r.window.serverCpuMs)),
      String(r.window.client.quote),
      String(r.window.client.failed),
      String(r.window.client.retries),
      String(r.quotes),
      '',
      '',
      '',
      '',
    ]),
    ...cleanRuns.flatMap((r, i) => {
      const f = faultyRuns[i]!;
      return [
        [
          `pipeline #${i + 1}`,
          String(Math.round(r.cycleMs)),
          String(Math.round(r.window.cpuMs)),
          String(Math.round(r.window.serverCpuMs)),
          String(r.window.client.quote),
          String(r.window.client.failed),
          String(r.window.client.retries),
          String(r.quotes.length),
          '',
          '',
          String(r.staleSymbols),
          String(checksum(r.quotes) === referenceSum),
        ],
        [
          `faulty #${i + 1} (${f.planned} injected${f.recoveryCycles ? `, +${f.recoveryCycles} recovery` : ''})`,
          String(Math.round(f.cycleMs)),
          String(Math.round(f.window.cpuMs)),
          String(Math.round(f.window.serverCpuMs)),
          String(f.window.client.quote),
          String(f.window.client.failed),
          String(f.window.client.retries),
          String(f.quotes.length),
          String(f.lost),
          String(f.duplicated),
          `${f.staleAfterCycle}→${f.staleSymbols}`,
          String(f.checksumMatch),
        ],
      ];
    }),
  ],
);
console.log('');
const ms = (s: ReturnType<typeof stats>) => `${s.p50} / ${s.p95} / ${s.max}`;
printMetrics([
  ['cycleMs client (p50 / p95 / max)', ms(stats(clientMs)), '< 2000'],
  ['cycleMs pipeline (p50 / p95 / max)', ms(stats(pipeMs)), '< 2000'],
  ['requestsPerCycle (client / server)', `${result.requestsPerCycle} / ${result.requestsPerCycleServer}`, `${batches}`],
  ['quotesPerSec (into the pipeline)', String(result.quotesPerSec), ''],
  ['cpuMsPerCycle client', String(result.cpuMsPerCycle.client), ''],
  ['cpuMsPerCycle pipeline', String(result.cpuMsPerCycle.pipeline), ''],
  ['cpuMsPerCycle fixtureServer (child)', String(result.cpuMsPerCycle.fixtureServer), ''],
  ...(inProcess
    ? ([
        ['in-process server: cycleMs (p50 / p95 / max)', ms(inProcess.cycleMs), ''],
        ['in-process server: cpuMsPerCycle (both)', String(inProcess.cpuMsPerCycle), ''],
      ] as Array<[string, string, string]>)
    : []),
  ['faultyCycleMs (p50 / max)', `${result.faultyCycleMs} / ${result.faultyCycleMsMax}`, ''],
  [
    'faulty: failed / requests per cycle',
    `${result.faultyRequests.failedPerCycle} / ${result.faultyRequests.requestsPerCycle}`,
    '',
  ],
  ['faulty cycles complete (every batch answered)', `${result.faultyCyclesComplete}/${result.faultyRuns}`, 'all'],
  ['staleSymbols (after recovery)', String(result.staleSymbols), '0'],
  ['lost (of which late: older than the watermark on recovery)', `${result.lost} (${result.lostLate})`, '0'],
  ['duplicated', String(result.duplicated), '0'],
  ['checksumMatch', String(result.checksumMatch), 'true'],
]);
console.log(JSON.stringify(result));
