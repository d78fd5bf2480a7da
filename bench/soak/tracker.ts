// Events lost: a tracking subscriber counts the predictions it receives for a few symbols, and
// what the app published is read back from the store (through the API before the restart, from
// the database file after the run). Both sides key a publication by its id and createdAt: a
// restarted replay publishes the same ids again with new createdAt, and each publication counts.
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface Publication {
  id: string;
  /** When the app made it (wall-clock ms): which instance, and whether it fell in the restart window. */
  createdAt: number;
  /** The input bar's day (epoch ms). */
  inputTime: number;
}

export interface Receipt extends Publication {
  receivedAt: number;
}

const key = (p: Publication) => `${p.id}@${p.createdAt}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const TRACK = 'subscription($s: [String!]!) { predictions(symbols: $s) { id createdAt inputTime } }';

/** A graphql-ws subscriber to every horizon of `symbols` that reconnects (0.5 s, then 1 s apart) after any close. */
export class Tracker {
  readonly receipts: Receipt[] = [];
  /** When it was (re)connected (connection acknowledged), wall-clock ms. */
  readonly connects: number[] = [];
  errors = 0;
  private readonly client: Client;

  constructor(url: string, symbols: readonly string[]) {
    this.client = createClient({
      url: `${url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      retryWait: async (retries) => {
        await sleep(retries === 0 ? 500 : 1000);
      },
      on: { connected: () => this.connects.push(Date.now()) },
    });
    this.client.subscribe<{ predictions: Array<{ id: string; createdAt: string; inputTime: string }> }>(
      { query: TRACK, variables: { s: symbols } },
      {
        next: (msg) => {
          if (msg.errors) {
            this.errors++;
            process.stderr.write(`\nsoak: tracking subscriber refused: ${JSON.stringify(msg.errors).slice(0, 200)}\n`);
          }
          const receivedAt = Date.now();
          for (const p of msg.data?.predictions ?? []) {
            this.receipts.push({
              id: p.id,
              createdAt: Date.parse(p.createdAt),
              inputTime: Date.parse(p.inputTime),
              receivedAt,
            });
          }
        },
        error: (err) => {
          this.errors++;
          process.stderr.write(
            `\nsoak: tracking subscriber failed: ${String(err instanceof Error ? err.message : JSON.stringify(err)).slice(0, 200)}\n`,
          );
        },
        complete: () => {},
      },
    );
  }

  /** The first (re)connection at or after `t`, or null. */
  connectedAfter(t: number): number | null {
    return this.connects.find((c) => c >= t) ?? null;
  }

  close(): Promise<void> {
    return Promise.resolve(this.client.dispose());
  }
}

const HISTORY =
  'query($s: String!, $after: String) { predictionHistory(symbol: $s, first: 500, after: $after) { edges { node { prediction { id createdAt inputTime } } } pageInfo { hasNextPage endCursor } } }';

/** Every stored prediction of `symbols`, all horizons, through the API's predictionHistory. */
export async function storedThroughApi(url: string, symbols: readonly string[]): Promise<Publication[]> {
  const out: Publication[] = [];
  for (const s of symbols) {
    let after: string | null = null;
    for (;;) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: HISTORY, variables: { s, after } }),
        signal: AbortSignal.timeout(30_000),
      });
      type Page = {
        edges: Array<{ node: { prediction: { id: string; createdAt: string; inputTime: string } } }>;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
      const body = (await res.json()) as { data?: { predictionHistory: Page }; errors?: unknown };
      if (!body.data) throw new Error(`predictionHistory(${s}): HTTP ${res.status} ${JSON.stringify(body.errors)}`);
      const page = body.data.predictionHistory;
      for (const e of page.edges) {
        const p = e.node.prediction;
        out.push({ id: p.id, createdAt: Date.parse(p.createdAt), inputTime: Date.parse(p.inputTime) });
      }
      if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) break;
      after = page.pageInfo.endCursor;
    }
  }
  return out;
}

export interface Accounting {
  /** Publications made in the tracked period outside the restart window. */
  published: number;
  /** Of those, not received by the tracking subscriber (target 0). */
  lost: number;
  /** The first 20 of them (to see where they fell). */
  lostSamples: Publication[];
  /** Publications made in the restart window: from SIGTERM until the tracker had resubscribed. */
  publishedInRestartWindow: number;
  lostInRestartWindow: number;
  /** Receipts (in the verifiable periods) of publications the store does not hold. */
  receivedNotStored: number;
  /** Ids received more than once (a restarted replay publishes the days it had published again). */
  redelivered: number;
  /** Receipts of the first instance made after the snapshot before the restart: the store's copy may be overwritten. */
  unverified: number;
}

/**
 * Published vs received. `published`: the store's rows (the snapshot before the restart and the
 * final store, merged); only publications made in [from, to) count. The restart window is
 * [killAt, resubscribedAt). Receipts made by the first instance between the snapshot and the
 * second instance's start cannot be checked against the store (the second may overwrite their ids).
 */
export function account(opts: {
  published: readonly Publication[];
  receipts: readonly Receipt[];
  from: number;
  to: number;
  restart: { snapshotAt: number; killAt: number; secondStartedAt: number; resubscribedAt: number } | null;
}): Accounting {
  const received = new Set(opts.receipts.map(key));
  const stored = new Set(opts.published.map(key));
  const r = opts.restart;
  const seen = new Set<string>();
  const result: Accounting = {
    published: 0,
    lost: 0,
    lostSamples: [],
    publishedInRestartWindow: 0,
    lostInRestartWindow: 0,
    receivedNotStored: 0,
    redelivered: 0,
    unverified: 0,
  };
  for (const p of opts.published) {
    const k = key(p);
    if (seen.has(k) || p.createdAt < opts.from || p.createdAt >= opts.to) continue;
    seen.add(k);
    const inWindow = r !== null && p.createdAt >= r.killAt && p.createdAt < r.resubscribedAt;
    if (inWindow) {
      result.publishedInRestartWindow++;
      if (!received.has(k)) result.lostInRestartWindow++;
    } else {
      result.published++;
      if (!received.has(k)) {
        result.lost++;
        if (result.lostSamples.length < 20) result.lostSamples.push(p);
      }
    }
  }
  const counted = new Set<string>();
  const byId = new Map<string, Set<number>>();
  for (const p of opts.receipts) {
    const k = key(p);
    if (counted.has(k) || p.createdAt < opts.from || p.createdAt >= opts.to) continue;
    counted.add(k);
    const times = byId.get(p.id) ?? new Set<number>();
    times.add(p.createdAt);
    byId.set(p.id, times);
    if (r && p.createdAt >= r.snapshotAt && p.createdAt < r.secondStartedAt) {
      if (!stored.has(k)) result.unverified++;
    } else if (!stored.has(k)) result.receivedNotStored++;
  }
  for (const times of byId.values()) if (times.size > 1) result.redelivered++;
  return result;
}

/**
 * Catch-up after the restart: the newest input day received before SIGTERM, and when (seconds
 * after SIGTERM) the tracker first received a newer one; null when it did not within the soak.
 */
export function catchUp(
  receipts: readonly Receipt[],
  killAt: number,
): { newestBefore: number | null; seconds: number | null } {
  let newestBefore: number | null = null;
  for (const p of receipts)
    if (p.receivedAt < killAt && (newestBefore === null || p.inputTime > newestBefore)) newestBefore = p.inputTime;
  if (newestBefore === null) return { newestBefore, seconds: null };
  const first = receipts.find((p) => p.receivedAt >= killAt && p.inputTime > newestBefore!);
  return { newestBefore, seconds: first ? (first.receivedAt - killAt) / 1000 : null };
}
