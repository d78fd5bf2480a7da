// `tickcast doctor`: what this machine and configuration can run, and what to fix. Checks the
// Node version, the optional Kafka client (a plain `npm install` skips it silently when it cannot
// build), the tfjs backend, the API port, and every server the configuration names (reachable,
// version). Exit 1 when something the configuration needs is missing.
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import semver from 'semver';
import { KAFKA_PACKAGE } from '../engine/transports/kafka/kafka-client.js';
import type { Config, Setting } from './config.js';
import { printTable } from './table.js';

export interface Check {
  what: string;
  ok: boolean;
  /** Found (a version, an address), or what is wrong. */
  detail: string;
  /** What to do about it, when not ok. */
  fix?: string;
  /** Needed by this configuration: a failure makes doctor exit 1. */
  needed: boolean;
}

/** The Node versions package.json promises (`engines.node`, which a test keeps true). */
const NODE_RANGE = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }
).engines.node;

/**
 * The checks, on `config` as readConfig reads it: each bad setting in `problems` is a failed check
 * of its own (doctor says what to fix, it does not stop at the first), and what depends on it
 * (the port at its default, say) is not checked.
 */
export async function doctorChecks(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  problems: Partial<Record<Setting, string>> = {},
): Promise<Check[]> {
  const bad = (...settings: Setting[]) => settings.some((s) => problems[s] !== undefined);
  const checks: Check[] = [];
  for (const [setting, problem] of Object.entries(problems)) {
    // The line reads SETTING="value": what is allowed.
    checks.push({
      what: setting,
      ok: false,
      detail: problem.slice(setting.length + 1),
      fix: `set ${setting} to what is allowed, or unset it for the default`,
      needed: true,
    });
  }
  const kafka = config.TICKCAST_TRANSPORT === 'kafka';
  checks.push({
    what: 'Node.js',
    ok: semver.satisfies(process.versions.node, NODE_RANGE),
    detail: process.versions.node,
    fix: `install a Node.js that package.json supports: ${NODE_RANGE} (e.g. the current LTS from nodejs.org, or nvm install --lts)`,
    needed: true,
  });
  checks.push(await kafkaClient(kafka));
  checks.push(await tfBackend());
  if (config.TICKCAST_PORT !== 0 && !bad('TICKCAST_PORT', 'TICKCAST_HOST'))
    checks.push(await portFree(config.TICKCAST_HOST, config.TICKCAST_PORT));
  if (kafka) {
    if (!bad('KAFKA_BROKERS'))
      for (const broker of config.KAFKA_BROKERS.split(','))
        checks.push(await tcp('Kafka broker', broker, 'KAFKA_BROKERS'));
    if (!bad('SCHEMA_REGISTRY_URL'))
      checks.push(
        await http(
          'schema registry',
          `${config.SCHEMA_REGISTRY_URL.replace(/\/$/, '')}/subjects`,
          'SCHEMA_REGISTRY_URL',
        ),
      );
  }
  if (config.TICKCAST_STORE === 'questdb' && !bad('QUESTDB_URL')) {
    checks.push(
      await http('QuestDB', `${config.QUESTDB_URL.replace(/\/$/, '')}/ping`, 'QUESTDB_URL', { acceptStatus: [204] }),
    );
  }
  const chroma = env.CHROMA_URL;
  if (chroma && !bad('CHROMA_URL'))
    checks.push(await http('Chroma', `${chroma.replace(/\/$/, '')}/api/v2/heartbeat`, 'CHROMA_URL'));
  const ollama = env.OLLAMA_HOST;
  if (ollama && !bad('OLLAMA_HOST'))
    checks.push(await http('Ollama', `${ollama.replace(/\/$/, '')}/api/version`, 'OLLAMA_HOST'));
  return checks;
}

async function kafkaClient(needed: boolean): Promise<Check> {
  const what = 'Kafka client (@confluentinc/kafka-javascript)';
  try {
    // By name at run time: the package is optional, and a plain `npm install` may lack it (then
    // a literal import would fail the type check too).
    const mod = (await import(KAFKA_PACKAGE)) as {
      librdkafkaVersion?: string;
      default?: { librdkafkaVersion?: string };
    };
    const version = mod.librdkafkaVersion ?? mod.default?.librdkafkaVersion;
    return { what, ok: true, detail: `installed${version ? ` (librdkafka ${version})` : ''}`, needed };
  } catch (err) {
    return {
      what,
      ok: false,
      detail: `not installed or not built: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      fix: 'apt-get install libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev, then CKJS_LINKING=dynamic npm install (README, "Scaling out")',
      needed,
    };
  }
}

async function tfBackend(): Promise<Check> {
  for (const pkg of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
    try {
      await import(pkg);
      return { what: 'TensorFlow.js backend', ok: true, detail: `native (${pkg})`, needed: false };
    } catch {
      // not installed: the wasm backend serves
    }
  }
  return {
    what: 'TensorFlow.js backend',
    ok: true,
    detail: 'wasm (works; `npm i @tensorflow/tfjs-node` for more speed)',
    needed: false,
  };
}

function portFree(host: string, port: number): Promise<Check> {
  return new Promise((resolve) => {
    const server = createServer();
    const what = `API port ${host}:${port} (TICKCAST_PORT)`;
    server.once('error', (err: NodeJS.ErrnoException) =>
      resolve({
        what,
        ok: false,
        detail: err.code === 'EADDRINUSE' ? 'in use (another tickcast?)' : err.message,
        fix: 'stop what holds it, or set TICKCAST_PORT (0: any free port)',
        needed: true,
      }),
    );
    server.listen(port, host, () => server.close(() => resolve({ what, ok: true, detail: 'free', needed: true })));
  });
}

function tcp(name: string, address: string, setting: string): Promise<Check> {
  const [host = '127.0.0.1', port = '9092'] = address.trim().split(':');
  return new Promise((resolve) => {
    const socket = createConnection({ host, port: Number(port), timeout: 3000 });
    const done = (ok: boolean, detail: string) => {
      socket.destroy();
      resolve({
        what: `${name} ${address}`,
        ok,
        detail,
        fix: `start it (npm run services:up) or point ${setting} at a running one`,
        needed: true,
      });
    };
    socket.once('connect', () => done(true, 'reachable'));
    socket.once('timeout', () => done(false, 'no answer in 3 s'));
    socket.once('error', (err) => done(false, err.message));
  });
}

async function http(
  name: string,
  url: string,
  setting: string,
  opts: { acceptStatus?: number[] } = {},
): Promise<Check> {
  const fix = `start it (npm run services:up) or point ${setting} at a running one`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    const ok = res.ok || (opts.acceptStatus ?? []).includes(res.status);
    const body = (await res.text()).slice(0, 80).replace(/\s+/g, ' ');
    const version = res.headers.get('x-influxdb-version') ?? /"version"\s*:\s*"([^"]+)"/.exec(body)?.[1] ?? null;
    return {
      what: `${name} ${url}`,
      ok,
      detail: ok
        ? `answers (HTTP ${res.status}${version ? `, version ${version}` : ''})`
        : `HTTP ${res.status}: ${body}`,
      fix,
      needed: true,
    };
  } catch (err) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, a timeout) is its cause.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
    return { what: `${name} ${url}`, ok: false, detail, fix, needed: true };
  }
}

/** Prints the checks; true when everything the configuration needs is there. */
export function printChecks(checks: readonly Check[], out: (line: string) => void = (l) => console.log(l)): boolean {
  printTable(
    ['', 'check', 'found'],
    checks.map((c) => [c.ok ? 'ok' : c.needed ? 'FAIL' : 'warn', c.what, c.detail]),
    out,
  );
  const fixes = checks.filter((c) => !c.ok && c.fix);
  if (fixes.length > 0) {
    out('');
    for (const c of fixes) out(`to fix ${c.what}: ${c.fix}`);
  }
  return checks.every((c) => c.ok || !c.needed);
}
