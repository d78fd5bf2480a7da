// npm run soak [-- --minutes 10 --subscribers 1000]: availability and error rate, measured.
//
// The app runs as a real child process (`node bin/tickcast.js run`, the bundled REAL data replayed
// at a pace that spans the soak, a temp database, news and explanations off), with graphql-ws
// subscribers and a steady read load from client processes (api-client.ts), while faults are
// injected on a schedule: store writes fail for 20 s (TICKCAST_FAULTS), a subscriber stops
// reading, a client floods /graphql past the rate limit, and the app is SIGTERMed and started
// again on the same port and database. Every second a probe GETs /healthz and POSTs a prediction
// query. Prints a status line every few seconds, then a table, then one JSON line last.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDuckDbStore } from '../storage/duckdb-store.js';
import { freePort } from '../test/support/free-port.js';
import { ClientProcess } from './client-process.js';
import { printMetrics, round, statusLine } from './report.js';
import { AppProcess, type AppSettings, waitHealthy } from './soak/app.js';
import { account, catchUp, type Publication, storedThroughApi, Tracker } from './soak/tracker.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    subscribers: { type: 'string', default: '1000' },
    'client-procs': { type: 'string', default: '2' },
    'read-rps': { type: 'string', default: '20' },
    warmup: { type: 'string', default: '60' },
    'keep-dir': { type: 'boolean', default: false },
  },
});
const num = (name: keyof typeof args, min: number) => {
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v < min) {
    console.error(`soak: --${name} ${String(args[name])}: a number of at least ${min}`);
    process.exit(2);
  }
  return v;
};
const MINUTES = num('minutes', 2);
const SUBSCRIBERS = Math.round(num('subscribers', 0));
const PROCS = Math.round(num('client-procs', 1));
const READ_RPS = num('read-rps', 1);
/** Seconds from the app's spawn to the measured period: start-up, subscribers connecting. */
const WARMUP_S = num('warmup', 10);

const D = MINUTES * 60_000;
/** Trading days in the bundled replay (data/sp500-daily, 2013-02-08 … 2018-02-07). */
const REPLAY_DAYS = 1259;
/** One replay over the measured period. */
const PACE_MS = Math.round(D / REPLAY_DAYS);
/** /graphql requests a second per client IP: above the read load and probes, below what a flood sends. */
const API_RATE = 200;
const FLOOD_RPS = 5 * API_RATE;
const FLOOD_S = 5;
const STORE_FAULT_S = 20;
const PROBE_TIMEOUT_MS = 2000;
const SYMBOLS = [
  'AAPL', 'ADBE', 'AMD', 'AMGN', 'AMZN', 'AXP', 'BAC', 'BMY', 'C', 'COST', 'CRM', 'CVS', 'CVX', 'DAL', 'DUK', 'EOG',
  'ES', 'F', 'FDX', 'GILD', 'GS', 'HAL', 'HD', 'IBM', 'INTC', 'INTU', 'JNJ', 'JPM', 'KO', 'LLY', 'LUV', 'MA', 'MCD',
  'MS', 'MSFT', 'NEE', 'NVDA', 'O', 'ORCL', 'PEP', 'QCOM', 'REGN', 'SBUX', 'TXN', 'UPS', 'V', 'VRTX', 'WFC', 'WMT',
  'XOM',
]; // biome-ignore format: a table
const TRACKED = ['AAPL', 'JPM', 'XOM'];
const PER_CLIENT = 10;
const LOGS = fileURLToPath(new URL('../.tmp/soak', import.meta.url));

/**
 * The schedule, in ms after the measured period starts: at these fractions of a 10-minute soak,
 * and one after another with 5 s between them in shorter ones.
 */
function schedule(d: number) {
  const store = { at: 0.08 * d, for: STORE_FAULT_S * 1000 };
  const slow = { at: Math.max(0.16 * d, store.at + store.for + 5000), for: Math.max(10_000, 0.08 * d) };
  const flood = { at: Math.max(0.28 * d, slow.at + slow.for + 5000), for: FLOOD_S * 1000 };
  const restart = { at: Math.max(0.4 * d, flood.at + flood.for + 5000) };
  return { store, slow, flood, restart };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sleepUntil = (t: number) => sleep(Math.max(0, t - Date.now()));
const mb = (x: number | null) => (x === null ? null : round(x));
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const clock = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
function quantile(xs: number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

interface Probe {
  at: number;
  health: boolean;
  prediction: boolean;
  /** /healthz's status when it answered. */
  status: string | null;
}

async function probe(url: string, symbol: string): Promise<Probe> {
  const at = Date.now();
  const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  const [health, prediction] = await Promise.all([
    fetch(`${url}/healthz`, { signal })
      .then(async (r) => ({ ok: r.status === 200, status: ((await r.json()) as { status: string }).status }))
      .catch(() => ({ ok: false, status: null })),
    fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query($s: String!) { prediction(symbol: $s) { id } }', variables: { s: symbol } }),
      signal,
    })
      .then(async (r) => {
        const body = (await r.json()) as { data?: { prediction: unknown }; errors?: unknown };
        return r.status === 200 && !body.errors && body.data?.prediction != null;
      })
      .catch(() => false),
  ]);
  return { at, health: health.ok, prediction, status: health.status };
}

/** How many of SYMBOLS have a prediction (0 when the app does not answer). */
async function latestPredictions(url: string): Promise<number> {
  return fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'query($s: [String!]!) { predictions(symbols: $s) { id } }',
      variables: { s: SYMBOLS },
    }),
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  })
    .then(async (r) => ((await r.json()) as { data?: { predictions: unknown[] } }).data?.predictions.length ?? 0)
    .catch(() => 0);
}

async function main() {
  const load0 = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-soak-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const plan = schedule(D);
  const settings: AppSettings = {
    port,
    db: join(dir, 'soak.duckdb'),
    paceMs: PACE_MS,
    apiRate: API_RATE,
    logFile: join(dir, 'app.log'),
  };
  /** Fault windows the app announced (TICKCAST_FAULTS), wall-clock ms. */
  const storeFault: { from: number | null; to: number | null } = { from: null, to: null };
  const onLine = (line: string, at: number) => {
    if (line.includes('fault injection: store writes fail')) storeFault.from = at;
    if (line.includes('fault injection: store writes work again')) storeFault.to = at;
  };
  const status = statusLine(5000);
  status(
    `soak: ${MINUTES} min measured after ${WARMUP_S} s warm-up, ${SUBSCRIBERS} subscribers, ${READ_RPS} reads/s, pace ${PACE_MS} ms/day, app log ${settings.logFile}`,
    true,
  );
  const faultAt = Math.round((WARMUP_S * 1000 + plan.store.at) / 1000);
  let app = new AppProcess({ ...settings, faults: `store-writes@${faultAt}s+${STORE_FAULT_S}s` }, onLine);
  const spawnedAt = app.spawnedAt;
  const start = spawnedAt + WARMUP_S * 1000;
  const end = start + D;
  const subscriberProcs = Array.from({ length: PROCS }, () => new ClientProcess());
  const readProc = new ClientProcess();
  const faultProc = new ClientProcess();
  const all = [...subscriberProcs, readProc, faultProc];
  let tracker: Tracker | null = null;
  let failed = false;
  const cleanup = async () => {
    await tracker?.close().catch(() => {});
    for (const p of all) p.exit();
    await app.stop(10_000);
  };
  const interrupted = () => {
    void cleanup().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    // Warm-up: the app answers, every subscriber and the tracker are connected.
    const ready = await waitHealthy(url, start, () => app.running);
    if (ready === null)
      throw new Error(`the app did not answer /healthz within the ${WARMUP_S} s warm-up (log: ${settings.logFile})`);
    // A subscription to a symbol the app does not know yet is refused: wait for the first replayed day.
    while (Date.now() < start && (await latestPredictions(url)) < SYMBOLS.length) await sleep(250);
    status(
      `soak: app ready after ${((ready - spawnedAt) / 1000).toFixed(1)} s, every symbol predicted after ${((Date.now() - spawnedAt) / 1000).toFixed(1)} s; connecting ${SUBSCRIBERS} subscribers`,
      true,
    );
    const perProc = Math.ceil(SUBSCRIBERS / PROCS);
    await Promise.all(
      subscriberProcs.map((p, i) => {
        const count = Math.max(0, Math.min(perProc, SUBSCRIBERS - i * perProc));
        const sets = Array.from({ length: count }, (_, j) =>
          Array.from({ length: PER_CLIENT }, (_, k) => SYMBOLS[((i * perProc + j) * PER_CLIENT + k) % SYMBOLS.length]!),
        );
        return p.ask({ cmd: 'subscribe', url, clients: count, symbols: sets, retry: true }, 'subscribed');
      }),
    );
    tracker = new Tracker(url, TRACKED);
    const subscriberStatus = async (since?: number) => {
      const s = await Promise.all(subscriberProcs.map((p) => p.ask({ cmd: 'status', since }, 'status')));
      return {
        connected: s.reduce((n, x) => n + x.connected, 0),
        messages: s.reduce((n, x) => n + x.messages, 0),
        errors: s.reduce((n, x) => n + x.errors, 0),
        failures: s.map((x) => x.failures),
        closes: s.map((x) => x.closes),
        connectedSince: s.flatMap((x) => x.connectedSince),
      };
    };
    let subs = await subscriberStatus();
    while ((subs.connected < SUBSCRIBERS || tracker.connects.length === 0) && Date.now() < start) {
      await sleep(500);
      subs = await subscriberStatus();
    }
    if (subs.connected < SUBSCRIBERS || tracker.connects.length === 0) {
      const why = `failures ${JSON.stringify(subs.failures)}, closes ${JSON.stringify(subs.closes)}`;
      throw new Error(
        `${subs.connected}/${SUBSCRIBERS} subscribers${tracker.connects.length === 0 ? ', no tracker' : ''} connected within the ${WARMUP_S} s warm-up (--warmup for more): ${why}`,
      );
    }
    status(
      `soak: ${SUBSCRIBERS} subscribers connected after ${((Date.now() - spawnedAt) / 1000).toFixed(1)} s; measuring from ${clock(WARMUP_S * 1000)}`,
      true,
    );
    await sleepUntil(start);

    // The measured period.
    const rss: Array<{ at: number; mb: number }> = [];
    const sampleRss = () => {
      const m = app.rssMb();
      if (m !== null) rss.push({ at: Date.now(), mb: m });
    };
    sampleRss();
    const rssStart = rss.at(-1)?.mb ?? null;
    const probes: Probe[] = [];
    const pending: Promise<void>[] = [];
    let tick = 0;
    const prober = setInterval(() => {
      sampleRss();
      pending.push(probe(url, SYMBOLS[tick++ % SYMBOLS.length]!).then((p) => void probes.push(p)));
    }, 1000);
    const reads = { requests: 0, errors: [] as number[], chunks: [] as Array<{ startedAt: number; requests: number }> };
    const readLoop = (async () => {
      while (Date.now() < end - 500) {
        const seconds = Math.min(5, (end - Date.now()) / 1000);
        const startedAt = Date.now();
        const r = await readProc.ask(
          { cmd: 'read', url, symbols: SYMBOLS, rps: READ_RPS, seconds, timeoutMs: PROBE_TIMEOUT_MS },
          'read',
        );
        const requests = Math.round(READ_RPS * seconds);
        reads.requests += requests;
        reads.errors.push(...r.errorTimes);
        reads.chunks.push({ startedAt, requests });
      }
    })();
    const active = new Set<string>();
    const ok = () => probes.filter((p) => p.health && p.prediction).length;
    const ticker = setInterval(() => {
      void subscriberStatus()
        .then((s) => {
          subs = s;
        })
        .catch(() => {});
      const requests = probes.length * 2 + reads.requests;
      const errors = probes.reduce((n, p) => n + (p.health ? 0 : 1) + (p.prediction ? 0 : 1), 0) + reads.errors.length;
      const load = loadavg()[0]!.toFixed(1);
      status(
        `soak ${clock(Date.now() - start)}/${clock(D)} | availability ${probes.length ? pct(ok() / probes.length) : '-'} (${probes.length} probes) | errors ${errors}/${requests} | subscribers ${subs.connected}/${SUBSCRIBERS} | app ${app.rssMb()?.toFixed(0) ?? '-'} MB | load ${load}${active.size ? ` | fault: ${[...active].join(', ')}` : ''}`,
      );
    }, 1000);

    // Faults. The store's is the app's own (TICKCAST_FAULTS); the status line shows it while it lasts.
    const storeFaultDone = (async () => {
      await sleepUntil(start + plan.store.at);
      active.add('store writes failing');
      await sleepUntil(start + plan.store.at + plan.store.for);
      active.delete('store writes failing');
    })();
    await sleepUntil(start + plan.slow.at);
    active.add('slow consumer');
    const slowRssBefore = app.rssMb();
    const slowDone = faultProc
      .ask(
        { cmd: 'slow', url, symbols: SYMBOLS, subscriptions: 20, pauseSeconds: Math.round(plan.slow.for / 1000) },
        'slow',
      )
      .finally(() => active.delete('slow consumer'));
    const slow = await slowDone;
    const slowRssMax = Math.max(
      ...rss.filter((s) => s.at >= start + plan.slow.at && s.at <= Date.now()).map((s) => s.mb),
    );
    await sleepUntil(start + plan.flood.at);
    active.add('client flood');
    const flood = await faultProc.ask(
      { cmd: 'flood', url, localAddress: '127.0.0.2', symbols: SYMBOLS, rps: FLOOD_RPS, seconds: FLOOD_S },
      'flood',
    );
    active.delete('client flood');
    await storeFaultDone;

    // SIGTERM and restart on the same port and database.
    await sleepUntil(start + plan.restart.at);
    active.add('restart');
    const snapshot = await storedThroughApi(url, TRACKED);
    const snapshotAt = Date.now();
    const rssBeforeKill = app.rssMb();
    const killAt = Date.now();
    const stopped = await app.stop(30_000);
    const secondStartedAt = Date.now();
    app = new AppProcess(settings, onLine);
    const readyAgain = await waitHealthy(url, end, () => app.running);
    active.delete('restart');
    const rssAfterRestart = app.rssMb();
    let allBackAt: number | null = null;
    while (Date.now() < end - 1000) {
      if (allBackAt === null && subs.connected >= SUBSCRIBERS) allBackAt = Date.now();
      await sleep(1000);
    }
    await sleepUntil(end);
    clearInterval(prober);
    clearInterval(ticker);
    await readLoop;
    await Promise.all(pending);
    const finalSubs = await subscriberStatus(killAt);
    const rssEnd = app.rssMb();
    const rssPeak = Math.max(...rss.map((s) => s.mb));
    const load1 = loadavg();
    // Last deliveries, then the run's stored predictions, read from the database once the app has stopped.
    await sleep(5000);
    const resubscribedAt = tracker.connectedAfter(killAt);
    await tracker.close();
    await Promise.all(subscriberProcs.map((p) => p.ask({ cmd: 'close' }, 'closed')));
    const finalStop = await app.stop(30_000);
    const store = await openDuckDbStore({ path: settings.db });
    const finalStored: Publication[] = [];
    try {
      for (const s of TRACKED) {
        for (const p of await store.predictions(s)) {
          finalStored.push({ id: p.id, createdAt: p.createdAt, inputTime: p.ts });
        }
      }
    } finally {
      await store.close();
    }

    // Figures.
    const downFrom = killAt;
    const downTo = readyAgain ?? end;
    const inRestart = (t: number) => t >= downFrom && t < downTo;
    const probeOk = (p: Probe) => p.health && p.prediction;
    const outside = probes.filter((p) => !inRestart(p.at));
    const probeRequests = probes.length * 2;
    const probeErrors = probes.reduce((n, p) => n + (p.health ? 0 : 1) + (p.prediction ? 0 : 1), 0);
    const requests = reads.requests + probeRequests;
    const errors = reads.errors.length + probeErrors;
    // Reads start on a fixed schedule (open loop), so those in the restart window are counted from it.
    const readsInRestart = reads.chunks.reduce((n, c) => {
      let k = 0;
      for (let i = 0; i < c.requests; i++) if (inRestart(c.startedAt + (i * 1000) / READ_RPS)) k++;
      return n + k;
    }, 0);
    const errorsInRestart =
      reads.errors.filter(inRestart).length +
      probes.filter((p) => inRestart(p.at)).reduce((n, p) => n + (p.health ? 0 : 1) + (p.prediction ? 0 : 1), 0);
    const requestsInRestart = readsInRestart + 2 * (probes.length - outside.length);
    const healthCounts: Record<string, number> = {};
    for (const p of probes) healthCounts[p.status ?? 'no answer'] = (healthCounts[p.status ?? 'no answer'] ?? 0) + 1;
    const reconnects = finalSubs.connectedSince.map((t) => (t - killAt) / 1000);
    const errorsOutside = [...reads.errors, ...probes.filter((p) => !p.health || !p.prediction).map((p) => p.at)]
      .filter((t) => !inRestart(t))
      .sort((a, b) => a - b);
    const sinceStart = (t: number) => round((t - start) / 1000);
    const storeRecovered =
      storeFault.to === null ? undefined : probes.find((p) => p.at >= storeFault.to! && p.status === 'ok')?.at;
    const events = account({
      published: [...snapshot, ...finalStored],
      receipts: tracker.receipts,
      from: start,
      to: end,
      restart: {
        // Rows made in the last seconds before the snapshot may still have been on their way to the store.
        snapshotAt: snapshotAt - 5000,
        killAt,
        secondStartedAt,
        resubscribedAt: resubscribedAt ?? end,
      },
    });
    const caught = catchUp(tracker.receipts, killAt);
    const newestBeforeReceivedAt = tracker.receipts.find((r) => r.inputTime === caught.newestBefore)?.receivedAt;
    const degradedInStoreFault = probes.filter(
      (p) =>
        storeFault.from !== null &&
        p.at >= storeFault.from &&
        p.at < (storeFault.to ?? end) + 15_000 &&
        p.status === 'degraded',
    ).length;

    const result = {
      bench: 'soak',
      minutes: MINUTES,
      data: 'real (bundled replay, 50 tickers)',
      paceMs: PACE_MS,
      subscribers: SUBSCRIBERS,
      readRps: READ_RPS,
      availability: round(ok() / Math.max(1, probes.length), 5),
      availabilityOutsideRestart: round(outside.filter(probeOk).length / Math.max(1, outside.length), 5),
      probes: probes.length,
      probesFailed: probes.length - ok(),
      healthStatuses: healthCounts,
      errorRate: round(errors / Math.max(1, requests), 5),
      errorRateOutsideRestart: round((errors - errorsInRestart) / Math.max(1, requests - requestsInRestart), 5),
      requests,
      errors,
      errorsInRestartWindow: errorsInRestart,
      /** Seconds after the start of the first 20 failed requests outside the restart window. */
      errorsOutsideRestartAt: errorsOutside.slice(0, 20).map(sinceStart),
      readRequests: reads.requests,
      readErrors: reads.errors.length,
      flood: {
        fromAddress: '127.0.0.2',
        rps: FLOOD_RPS,
        seconds: FLOOD_S,
        apiRate: API_RATE,
        sent: flood.sent,
        ok: flood.ok,
        refused429: flood.refused,
        failed: flood.failed,
      },
      storeFault: {
        seconds: STORE_FAULT_S,
        from: storeFault.from === null ? null : round((storeFault.from - start) / 1000),
        to: storeFault.to === null ? null : round((storeFault.to - start) / 1000),
        degradedProbes: degradedInStoreFault,
        /** From the end of the window to the first /healthz "ok" (the sinks' retries back off up to 10 s). */
        recoveredSeconds:
          storeRecovered === undefined || storeFault.to === null
            ? null
            : round((storeRecovered - storeFault.to) / 1000),
      },
      slowConsumer: {
        at: round(plan.slow.at / 1000),
        pausedSeconds: Math.round(plan.slow.for / 1000),
        subscriptions: slow.subscriptions,
        framesBeforePause: slow.framesBeforePause,
        framesAfterResume: slow.framesAfterResume,
        closedByServer: slow.closedByServer,
        appRssBeforeMb: mb(slowRssBefore),
        appRssMaxMb: mb(slowRssMax),
      },
      restart: {
        at: round((killAt - start) / 1000),
        stopSeconds: round(stopped.ms / 1000, 2),
        stopKilled: stopped.killed,
        downSeconds: readyAgain === null ? null : round((readyAgain - killAt) / 1000, 2),
        startSeconds: readyAgain === null ? null : round((readyAgain - secondStartedAt) / 1000, 2),
      },
      reconnect: {
        reconnected: reconnects.length,
        connectedAtEnd: finalSubs.connected,
        p50Seconds: round(quantile(reconnects, 0.5) ?? Number.NaN, 2),
        p95Seconds: round(quantile(reconnects, 0.95) ?? Number.NaN, 2),
        maxSeconds: round(quantile(reconnects, 1) ?? Number.NaN, 2),
        allBackSeconds: allBackAt === null ? null : round((allBackAt - killAt) / 1000, 1),
        trackerSeconds: resubscribedAt === null ? null : round((resubscribedAt - killAt) / 1000, 2),
        /** The same, counted from when the restarted app answered /healthz (the clients' backoff). */
        p50AfterReadySeconds:
          readyAgain === null
            ? null
            : round((quantile(reconnects, 0.5) ?? Number.NaN) - (readyAgain - killAt) / 1000, 2),
      },
      subscriberErrors: finalSubs.errors,
      subscriberMessages: finalSubs.messages,
      events: {
        symbols: TRACKED,
        ...events,
        trackerErrors: tracker.errors,
        receivedAfterRestart: tracker.receipts.filter((r) => r.receivedAt >= killAt).length,
        lostSamples: undefined,
        lostAtSeconds: events.lostSamples.map((p) => sinceStart(p.createdAt)),
        catchUpSeconds: caught.seconds === null ? null : round(caught.seconds, 1),
        // Not reached in the soak: the first instance took this long (from its spawn) to reach that day.
        catchUpEstimateSeconds:
          newestBeforeReceivedAt === undefined ? null : round((newestBeforeReceivedAt - spawnedAt) / 1000, 1),
        newestDayBeforeRestart:
          caught.newestBefore === null ? null : new Date(caught.newestBefore).toISOString().slice(0, 10),
      },
      memory: {
        appRssStartMb: mb(rssStart),
        appRssBeforeRestartMb: mb(rssBeforeKill),
        appRssAfterRestartMb: mb(rssAfterRestart),
        appRssEndMb: mb(rssEnd),
        appRssPeakMb: mb(rssPeak),
      },
      finalStop: { seconds: round(finalStop.ms / 1000, 2), killed: finalStop.killed },
      loadAverage: { start: round(load0[0]!, 2), end: round(load1[0]!, 2) },
    };
    const rows: Array<[string, string, string]> = [
      ['availability (1 s probes: /healthz and a prediction, both OK)', pct(result.availability), '>= 99.5%'],
      ['availabilityOutsideRestart', pct(result.availabilityOutsideRestart), ''],
      [`probes (failed)`, `${result.probes} (${result.probesFailed})`, ''],
      ['errorRate (failed ÷ reads and probes)', pct(result.errorRate), '< 1%'],
      ['errorRateOutsideRestart', pct(result.errorRateOutsideRestart), ''],
      ['requests / errors', `${requests} / ${errors}`, ''],
      [`flood from 127.0.0.2: 429 refusals (by design, not errors)`, `${flood.refused}/${flood.sent}`, ''],
      ['flood: answered 200 / failed', `${flood.ok} / ${flood.failed}`, ''],
      ['store fault: /healthz degraded probes', String(degradedInStoreFault), ''],
      ['store fault: end → /healthz ok (s)', String(result.storeFault.recoveredSeconds), ''],
      ['slow consumer: app RSS before → max (MB)', `${mb(slowRssBefore)} → ${mb(slowRssMax)}`, ''],
      ['slow consumer: frames after resume', String(slow.framesAfterResume), ''],
      ['restart: SIGTERM → exit (s)', String(result.restart.stopSeconds), ''],
      ['restart: SIGTERM → /healthz 200 (s)', String(result.restart.downSeconds), ''],
      [`reconnected subscribers (of ${SUBSCRIBERS})`, String(result.reconnect.reconnected), String(SUBSCRIBERS)],
      [
        'reconnect p50 / p95 / max (s after SIGTERM)',
        `${result.reconnect.p50Seconds} / ${result.reconnect.p95Seconds} / ${result.reconnect.maxSeconds}`,
        '',
      ],
      ['reconnect p50 after /healthz 200 (client backoff, s)', String(result.reconnect.p50AfterReadySeconds), ''],
      ['subscribers connected at end', String(finalSubs.connected), String(SUBSCRIBERS)],
      [`events published (${TRACKED.join(',')}, outside restart)`, String(events.published), ''],
      ['events lost outside the restart window', String(events.lost), '0'],
      ['events lost in the restart window', `${events.lostInRestartWindow}/${events.publishedInRestartWindow}`, ''],
      ['received, not stored', String(events.receivedNotStored), '0'],
      ['redelivered ids (replay restarted)', String(events.redelivered), ''],
      [
        'catch-up: newer day than before SIGTERM (s)',
        String(result.events.catchUpSeconds ?? `not reached (~${result.events.catchUpEstimateSeconds})`),
        '',
      ],
      [
        'app RSS start / before restart / end / peak (MB)',
        `${mb(rssStart)} / ${mb(rssBeforeKill)} / ${mb(rssEnd)} / ${mb(rssPeak)}`,
        '',
      ],
      ['load average start / end', `${result.loadAverage.start} / ${result.loadAverage.end}`, ''],
    ];
    console.log(
      `\nsoak: ${MINUTES} min, ${SUBSCRIBERS} subscribers in ${PROCS} processes, ${READ_RPS} reads/s, replay pace ${PACE_MS} ms/day (real data); faults at ${clock(plan.store.at)} store writes ${STORE_FAULT_S} s, ${clock(plan.slow.at)} slow consumer ${Math.round(plan.slow.for / 1000)} s, ${clock(plan.flood.at)} flood ${FLOOD_S} s, ${clock(plan.restart.at)} SIGTERM + restart`,
    );
    printMetrics(rows);
    console.log(JSON.stringify(result));
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await cleanup();
    // The app's output is kept (both instances): .tmp/soak/<start>.log.
    mkdirSync(LOGS, { recursive: true });
    const log = join(LOGS, `${new Date(spawnedAt).toISOString().replace(/[:.]/g, '-')}.log`);
    copyFileSync(settings.logFile, log);
    console.error(`soak: the app's log: ${log}`);
    if (failed || args['keep-dir']) console.error(`soak: kept ${dir} (the database)`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
