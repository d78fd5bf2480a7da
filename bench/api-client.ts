// Load generator for `npm run bench:api` and `npm run soak`, run as a child process
// (child_process.fork, `client-process.ts`) so the clients never share an event loop with the
// server they measure. Commands come over IPC.
import { Agent, request } from 'node:http';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export type ClientCommand =
  /** `timeoutMs`: a request without an answer by then counts as an error (default: none). */
  | { cmd: 'read'; url: string; symbols: string[]; rps: number; seconds: number; timeoutMs?: number }
  /** `retry`: each client reconnects and resubscribes after a close (soak), with capped backoff. */
  | { cmd: 'subscribe'; url: string; clients: number; symbols: string[][]; retry?: boolean }
  /** Connection state of the subscribed clients; `since`: first (re)connection at or after it, per client. */
  | { cmd: 'status'; since?: number }
  /** Requests beyond the rate limit, from another client address (the limit is per client IP). */
  | { cmd: 'flood'; url: string; localAddress: string; symbols: string[]; rps: number; seconds: number }
  /** A subscriber that stops reading for `pauseSeconds`, then reads again and leaves. */
  | { cmd: 'slow'; url: string; symbols: string[]; subscriptions: number; pauseSeconds: number }
  | { cmd: 'collect'; round: number; expected: number; timeoutMs: number }
  | { cmd: 'close' }
  | { cmd: 'churn'; url: string; seconds: number; concurrency: number; symbols: string[][] }
  | { cmd: 'exit' };

export type ClientReply =
  | { type: 'read'; latencies: number[]; errors: number; elapsedMs: number; errorTimes: number[] }
  | { type: 'subscribed'; clients: number; errors: number; failures: Record<string, number> }
  | { type: 'receipts'; round: number; times: number[] }
  | { type: 'closed' }
  | { type: 'churned'; cycles: number; errors: number }
  | {
      type: 'status';
      clients: number;
      connected: number;
      /** Messages received by all clients so far. */
      messages: number;
      errors: number;
      failures: Record<string, number>;
      /** Why connected clients were closed (they reconnect), counted. */
      closes: Record<string, number>;
      /** Per client that (re)connected at or after `since`: when it first did (wall-clock ms). */
      connectedSince: number[];
    }
  | { type: 'flood'; sent: number; ok: number; refused: number; failed: number; elapsedMs: number }
  | {
      type: 'slow';
      subscriptions: number;
      framesBeforePause: number;
      framesAfterResume: number;
      errors: number;
      closedByServer: boolean;
    };

const send = (reply: ClientReply) => process.send?.(reply);
/** Wall-clock ms with sub-ms precision, comparable across processes on one machine. */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const PREDICTION_QUERY =
  'query($s: String!) { prediction(symbol: $s) { symbol predictedClose modelVersion inputTime } }';
const SUBSCRIPTION =
  'subscription($s: [String!]!) { predictions(symbols: $s, horizon: 1) { symbol predictedClose interval { lower upper } modelVersion inputTime } }';
const DAY = 86_400_000;

// node:http with keep-alive rather than fetch: fetch's own overhead would be most of what a
// client process can send per second on a 2-core machine, and the server is what is measured.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(
  url: string,
  body: string,
  opts: { agent?: Agent; localAddress?: string; timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/graphql`,
      {
        method: 'POST',
        agent: opts.agent ?? agent,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`no answer in ${opts.timeoutMs} ms`)));
    req.end(body);
  });
}

/** Open loop: requests start on schedule whatever the answers do, so slow answers show as latency. */
async function read(c: Extract<ClientCommand, { cmd: 'read' }>) {
  const latencies: number[] = [];
  const errorTimes: number[] = [];
  const failed = () => {
    errorTimes.push(now());
  };
  const total = Math.round(c.rps * c.seconds);
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / c.rps;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const symbol = c.symbols[i % c.symbols.length]!;
    const t = performance.now();
    inflight.push(
      post(c.url, JSON.stringify({ query: PREDICTION_QUERY, variables: { s: symbol } }), { timeoutMs: c.timeoutMs })
        .then((res) => {
          latencies.push(performance.now() - t);
          const body = JSON.parse(res.body) as { errors?: unknown; data?: { prediction: unknown } };
          if (res.status !== 200 || body.errors || !body.data?.prediction) failed();
        })
        .catch(() => {
          failed();
        }),
    );
  }
  await Promise.all(inflight);
  send({ type: 'read', latencies, errors: errorTimes.length, elapsedMs: performance.now() - started, errorTimes });
}

const clients: Client[] = [];
/** Receipt times per round (the round is the prediction's input day). */
const receipts = new Map<number, number[]>();

/** Why subscriptions failed (close code and reason, or the error), counted: the bench prints them. */
const failures = new Map<string, number>();
function describeFailure(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) {
    const e = err as { code: unknown; reason?: unknown };
    return `close ${String(e.code)} ${String(e.reason ?? '')}`.trim();
  }
  if (Array.isArray(err)) return `graphql: ${JSON.stringify(err[0]).slice(0, 120)}`;
  // ws's ErrorEvent (connection refused or reset) carries the socket error.
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return err instanceof Error ? err.message : String(err);
}

/** A reconnecting client's state (soak): connected now, and when it (re)connected. */
interface ClientState {
  connected: boolean;
  connects: number[];
}
const states: ClientState[] = [];
let messages = 0;
let subscriptionErrors = 0;
/** Why connected reconnecting clients were closed (close code and reason), counted. */
const closes = new Map<string, number>();

/**
 * How a reconnecting client waits before its next attempt: 0.5 s doubling up to 5 s, plus up to
 * 0.5 s of jitter, so the clients of a restarted server do not all come back at once.
 */
const cappedBackoff = async (retries: number): Promise<void> => {
  await sleep(Math.min(5000, 500 * 2 ** retries) + Math.random() * 500);
};

function connect(
  url: string,
  symbols: string[],
  onError: () => void,
  onData?: (round: number) => void,
  onSettled?: () => void,
  /** Given: the client reconnects and resubscribes after any close or error, and keeps its state here. */
  state?: ClientState,
): Client {
  let settled = false;
  const settle = () => {
    if (!settled) {
      settled = true;
      onSettled?.();
    }
  };
  const client = createClient({
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: state ? Number.POSITIVE_INFINITY : 0,
    // Connection refused (a server restarting) is an error event, not a close: retried too.
    ...(state ? { shouldRetry: () => true, retryWait: cappedBackoff } : {}),
    on: {
      connected: () => {
        settle();
        if (state) {
          state.connected = true;
          state.connects.push(now());
        }
      },
      closed: (event) => {
        if (!state) return;
        if (state.connected) {
          const why = describeFailure(event);
          closes.set(why, (closes.get(why) ?? 0) + 1);
        }
        state.connected = false;
      },
    },
  });
  client.subscribe<{ predictions: Array<{ inputTime: string }> }>(
    { query: SUBSCRIPTION, variables: { s: symbols } },
    {
      next: (msg) => {
        messages++;
        // A refused subscription (an unknown symbol, say) is one result with errors, then complete.
        if (msg.errors) {
          const why = describeFailure(msg.errors);
          failures.set(why, (failures.get(why) ?? 0) + 1);
          onError();
        }
        const first = msg.data?.predictions[0];
        if (first && onData) onData(Math.round(Date.parse(first.inputTime) / DAY));
      },
      error: (err) => {
        const why = describeFailure(err);
        failures.set(why, (failures.get(why) ?? 0) + 1);
        onError();
        settle();
      },
      complete: () => {},
    },
  );
  return client;
}

async function subscribe(c: Extract<ClientCommand, { cmd: 'subscribe' }>) {
  let errors = 0;
  // Connect in waves, each acknowledged (or failed) before the next starts: a fixed pace
  // overran the server's accept queue on a busy machine and lost a few percent of the clients,
  // and what is measured here is the fan-out, not a connection storm.
  const WAVE = 100;
  for (let i = 0; i < c.clients; i += WAVE) {
    const end = Math.min(c.clients, i + WAVE);
    let pending = end - i;
    let settled = () => {};
    const waveDone = new Promise<void>((resolve) => {
      settled = () => {
        if (--pending === 0) resolve();
      };
    });
    for (let j = i; j < end; j++) {
      const state = c.retry ? { connected: false, connects: [] } : undefined;
      if (state) states.push(state);
      clients.push(
        connect(
          c.url,
          c.symbols[j]!,
          () => {
            errors++;
            subscriptionErrors++;
          },
          (round) => {
            const t = now();
            let list = receipts.get(round);
            if (!list) {
              list = [];
              receipts.set(round, list);
            }
            list.push(t);
          },
          () => settled(),
          state,
        ),
      );
    }
    await Promise.race([waveDone, sleep(30_000)]);
  }
  send({ type: 'subscribed', clients: clients.length, errors, failures: Object.fromEntries(failures) });
}

async function collect(c: Extract<ClientCommand, { cmd: 'collect' }>) {
  const until = performance.now() + c.timeoutMs;
  while ((receipts.get(c.round)?.length ?? 0) < c.expected && performance.now() < until) await sleep(10);
  send({ type: 'receipts', round: c.round, times: receipts.get(c.round) ?? [] });
}

function status(c: Extract<ClientCommand, { cmd: 'status' }>) {
  const since = c.since;
  const connectedSince =
    since === undefined
      ? []
      : states.flatMap((s) => {
          const t = s.connects.find((x) => x >= since);
          return t === undefined ? [] : [t];
        });
  send({
    type: 'status',
    clients: clients.length,
    connected: states.filter((s) => s.connected).length,
    messages,
    errors: subscriptionErrors,
    failures: Object.fromEntries(failures),
    closes: Object.fromEntries(closes),
    connectedSince,
  });
}

/** Open loop at `rps` from `localAddress`: answers counted by kind (429 = refused by the rate limit). */
async function flood(c: Extract<ClientCommand, { cmd: 'flood' }>) {
  const floodAgent = new Agent({ keepAlive: true, maxSockets: 256 });
  let ok = 0;
  let refused = 0;
  let failed = 0;
  const total = Math.round(c.rps * c.seconds);
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / c.rps - performance.now();
    if (wait > 1) await sleep(wait);
    const body = JSON.stringify({ query: PREDICTION_QUERY, variables: { s: c.symbols[i % c.symbols.length]! } });
    inflight.push(
      post(c.url, body, { agent: floodAgent, localAddress: c.localAddress, timeoutMs: 10_000 })
        .then((res) => {
          if (res.status === 429) refused++;
          else if (res.status === 200) ok++;
          else failed++;
        })
        .catch(() => {
          failed++;
        }),
    );
  }
  await Promise.all(inflight);
  floodAgent.destroy();
  send({ type: 'flood', sent: total, ok, refused, failed, elapsedMs: performance.now() - started });
}

const SLOW_SUBSCRIPTION =
  'subscription($s: [String!]!) { predictions(symbols: $s) { id symbol horizon createdAt inputTime targetTime lastClose predictedClose predictedReturn interval { lower upper level } model modelVersion regime } }';

/**
 * A raw graphql-ws client that subscribes, then stops reading its socket (the kernel's buffers
 * fill, then the server's slow-client policy applies), reads again after `pauseSeconds`, and leaves.
 */
async function slow(c: Extract<ClientCommand, { cmd: 'slow' }>) {
  const socket = new WebSocket(`${c.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  let frames = 0;
  let errors = 0;
  let resumed = false;
  let framesAfterResume = 0;
  let closing = false;
  let closedByServer = false;
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    socket.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string };
      if (m.type === 'connection_ack') resolve();
      else if (m.type === 'next') {
        frames++;
        if (resumed) framesAfterResume++;
      } else if (m.type === 'error') errors++;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (!closing) closedByServer = true;
      reject(new Error('closed before connection_ack'));
    });
  });
  for (let i = 1; i <= c.subscriptions; i++) {
    const payload = { query: SLOW_SUBSCRIPTION, variables: { s: c.symbols } };
    socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload }));
  }
  await sleep(2000);
  const framesBeforePause = frames;
  socket.pause();
  await sleep(c.pauseSeconds * 1000);
  resumed = true;
  socket.resume();
  await sleep(3000);
  closing = true;
  socket.close();
  send({
    type: 'slow',
    subscriptions: c.subscriptions,
    framesBeforePause,
    framesAfterResume,
    errors,
    closedByServer,
  });
}

async function close() {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
  states.length = 0;
  receipts.clear();
  send({ type: 'closed' });
}

/** `concurrency` loops of: connect, subscribe to 10 symbols, stay 100–500 ms, leave. */
async function churn(c: Extract<ClientCommand, { cmd: 'churn' }>) {
  let cycles = 0;
  let errors = 0;
  const end = performance.now() + c.seconds * 1000;
  const loop = async (k: number) => {
    for (let n = 0; performance.now() < end; n++) {
      const client = connect(c.url, c.symbols[(k + n * c.concurrency) % c.symbols.length]!, () => errors++);
      await sleep(100 + Math.random() * 400);
      await client.dispose();
      cycles++;
    }
  };
  await Promise.all(Array.from({ length: c.concurrency }, (_, k) => loop(k)));
  send({ type: 'churned', cycles, errors });
}

process.on('message', (message: ClientCommand) => {
  const run = async () => {
    switch (message.cmd) {
      case 'read':
        return read(message);
      case 'subscribe':
        return subscribe(message);
      case 'collect':
        return collect(message);
      case 'close':
        return close();
      case 'churn':
        return churn(message);
      case 'status':
        return status(message);
      case 'flood':
        return flood(message);
      case 'slow':
        return slow(message);
      case 'exit':
        process.exit(0);
    }
  };
  run().catch((err: unknown) => {
    console.error(`api bench client: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
});
// Dies with the bench: no orphaned load generators.
process.on('disconnect', () => process.exit(0));
