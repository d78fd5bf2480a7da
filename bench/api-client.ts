// Load generator for `npm run bench:api`, run as a child process (child_process.fork) so the
// clients never share an event loop with the server they measure. Commands come over IPC.
import { Agent, request } from 'node:http';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export type ClientCommand =
  | { cmd: 'read'; url: string; symbols: string[]; rps: number; seconds: number }
  | { cmd: 'subscribe'; url: string; clients: number; symbols: string[][] }
  | { cmd: 'collect'; round: number; expected: number; timeoutMs: number }
  | { cmd: 'close' }
  | { cmd: 'churn'; url: string; seconds: number; concurrency: number; symbols: string[][] }
  | { cmd: 'exit' };

export type ClientReply =
  | { type: 'read'; latencies: number[]; errors: number; elapsedMs: number }
  | { type: 'subscribed'; clients: number; errors: number; failures: Record<string, number> }
  | { type: 'receipts'; round: number; times: number[] }
  | { type: 'closed' }
  | { type: 'churned'; cycles: number; errors: number };

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

function post(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/graphql`,
      {
        method: 'POST',
        agent,
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
    req.end(body);
  });
}

/** Open loop: requests start on schedule whatever the answers do, so slow answers show as latency. */
async function read(c: Extract<ClientCommand, { cmd: 'read' }>) {
  const latencies: number[] = [];
  let errors = 0;
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
      post(c.url, JSON.stringify({ query: PREDICTION_QUERY, variables: { s: symbol } }))
        .then((res) => {
          latencies.push(performance.now() - t);
          const body = JSON.parse(res.body) as { errors?: unknown; data?: { prediction: unknown } };
          if (res.status !== 200 || body.errors || !body.data?.prediction) errors++;
        })
        .catch(() => {
          errors++;
        }),
    );
  }
  await Promise.all(inflight);
  send({ type: 'read', latencies, errors, elapsedMs: performance.now() - started });
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

function connect(
  url: string,
  symbols: string[],
  onError: () => void,
  onData?: (round: number) => void,
  onSettled?: () => void,
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
    retryAttempts: 0,
    on: { connected: settle },
  });
  client.subscribe<{ predictions: Array<{ inputTime: string }> }>(
    { query: SUBSCRIPTION, variables: { s: symbols } },
    {
      next: (msg) => {
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
      clients.push(
        connect(
          c.url,
          c.symbols[j]!,
          () => errors++,
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

async function close() {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
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
