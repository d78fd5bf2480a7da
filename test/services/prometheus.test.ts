// A real Prometheus (Debian's `prometheus` package: /usr/bin/prometheus) against a running
// tickcast, with the compose configuration (services/prometheus/prometheus.compose.yml) turned to
// this machine: its jobs pointed at a `tickcast run` child process and at Prometheus itself, its
// alert rules (alerts.yml) evaluated every second. The replayed folder has a file with a bad row
// every few days, so 192 records go to the quotes dead-letter topic: TickcastDeadLetters must fire
// (and no other alert). Every dashboard query must be PromQL that this Prometheus evaluates.
// Run by `npm run test:services` (or alone: npm run test:services -- test/services/prometheus.test.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { dashboard, dashboardQueries, PROMETHEUS_DIR, ROOT } from '../support/monitoring.js';
import { type Proc, startTickcast, until } from './processes.js';

const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';
const dir = mkdtempSync(join(tmpdir(), 'tickcast-prometheus-'));
const procs: Proc[] = [];
let tickcast: Proc;
let prometheus: Proc;
let promUrl: string;
let tickcastAddress: string;

/** A port nothing listens on now (Prometheus takes no port 0). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function startProcess(name: string, command: string, args: string[]): Proc {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    if (output.length > 400) output.splice(0, output.length - 400);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', (err) => {
      output.push(String(err));
      resolve(-1);
    });
  });
  return { name, child, output, exited };
}

/** SIGTERM, then SIGKILL if it has not exited within `ms`. */
async function stop(p: Proc | undefined, ms = 15_000): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  await p.exited;
  clearTimeout(timer);
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${promUrl}${path}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
  return body.data;
}

interface Target {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}
interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
}

beforeAll(async () => {
  // AAPL's real file, with open emptied on every 5th day from day 300 on: 192 dead letters.
  const csv = join(dir, 'csv');
  mkdirSync(csv);
  const lines = readFileSync(join(ROOT, 'data/sp500-daily/AAPL_data.csv'), 'utf8').split('\n');
  const broken = lines.map((line, i) =>
    i >= 300 && i % 5 === 0 && line ? line.replace(/^([^,]*),[^,]*,/, '$1,,') : line,
  );
  writeFileSync(join(csv, 'AAPL_data.csv'), broken.join('\n'));
  tickcast = startTickcast('tickcast', [], {
    ...process.env,
    CI: 'true',
    TICKCAST_DATA_DIR: csv,
    TICKCAST_DB: join(dir, 'store.duckdb'),
    TICKCAST_MODEL: 'persistence',
    TICKCAST_NEWS: 'none',
    TICKCAST_EXPLAIN: 'off',
  });
  procs.push(tickcast);
  const url = await until(
    'tickcast to serve',
    60_000,
    async () => {
      if (tickcast.child.exitCode !== null) throw new Error(`tickcast exited ${tickcast.child.exitCode}`);
      return tickcast.output.join('\n').match(/GraphQL on http:\/\/([\d.]+:\d+)\/graphql/)?.[1];
    },
    procs,
  );
  tickcastAddress = url;

  // The compose configuration, its targets replaced by this machine's, scraping and evaluating every second.
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.compose.yml'), 'utf8')) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: Array<Record<string, unknown> & { job_name: string }>;
  };
  config.global = { scrape_interval: '1s', evaluation_interval: '1s' };
  config.rule_files = config.rule_files.map((f) => join(PROMETHEUS_DIR, f));
  const targets: Record<string, Record<string, unknown>> = {
    // role: what the compose relabelling takes from the service name; this process runs them all.
    tickcast: { targets: [tickcastAddress], labels: { role: 'all' } },
    prometheus: { targets: [`127.0.0.1:${port}`] },
  };
  config.scrape_configs = config.scrape_configs.map(({ job_name, ...rest }) => {
    const target = targets[job_name];
    if (!target) throw new Error(`job ${job_name} of prometheus.compose.yml: this test does not know where it runs`);
    const { dns_sd_configs: _dns, static_configs: _static, relabel_configs: _relabel, ...kept } = rest;
    return { job_name, ...kept, static_configs: [target] };
  });
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  prometheus = startProcess('prometheus', PROMETHEUS, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  procs.push(prometheus);
  await until(
    'Prometheus to be ready',
    60_000,
    async () => {
      if (prometheus.child.exitCode !== null) throw new Error(`prometheus exited ${prometheus.child.exitCode}`);
      return (await fetch(`${promUrl}/-/ready`)).ok;
    },
    procs,
  );
}, 150_000);

afterAll(async () => {
  await stop(prometheus);
  await stop(tickcast);
  rmSync(dir, { recursive: true, force: true });
});

describe('a real Prometheus on the compose configuration, against a running tickcast', () => {
  it('scrapes every target: the tickcast process and itself', async () => {
    const active = await until(
      'every target up',
      60_000,
      async () => {
        const { activeTargets } = await api<{ activeTargets: Target[] }>('/api/v1/targets?state=active');
        return activeTargets.length === 2 && activeTargets.every((t) => t.health === 'up') && activeTargets;
      },
      procs,
    );
    expect(active.map((t) => t.scrapeUrl).sort()).toEqual(
      [`http://${tickcastAddress}/metrics`, `${promUrl}/metrics`].sort(),
    );
    expect(active.find((t) => t.labels.job === 'tickcast')!.labels).toMatchObject({ role: 'all' });
    // And the scraped series are there to query.
    const up = await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
      `/api/v1/query?query=${encodeURIComponent('up{job="tickcast"}')}`,
    );
    expect(up.result.map((r) => r.value[1])).toEqual(['1']);
    const nodes = await until('the engine series in Prometheus', 30_000, async () => {
      const { result } = await api<{ result: unknown[] }>(
        `/api/v1/query?query=${encodeURIComponent('tickcast_records_in_total')}`,
      );
      return result.length > 0 && result;
    });
    expect(nodes.length).toBeGreaterThan(5);
  });

  it('evaluates every query of the Grafana dashboard', async () => {
    for (const { panel, expr } of dashboardQueries(dashboard)) {
      await expect(api(`/api/v1/query?query=${encodeURIComponent(expr)}`), `${panel}: ${expr}`).resolves.toBeDefined();
    }
  });

  it('fires TickcastDeadLetters when a replay sends a broken file’s rows to the dead-letter topic, and nothing else', async () => {
    const fired = await until(
      'TickcastDeadLetters firing',
      120_000,
      async () => {
        const { alerts } = await api<{ alerts: Alert[] }>('/api/v1/alerts');
        return alerts.find((a) => a.labels.alertname === 'TickcastDeadLetters' && a.state === 'firing');
      },
      procs,
    );
    expect(fired.labels).toEqual({
      alertname: 'TickcastDeadLetters',
      severity: 'warning',
      job: 'tickcast',
      node: 'market-data',
      topic: 'quotes',
      kind: 'source',
    });
    // The count as tickcast's own /metrics has it, and as the alert says it (once all are scraped).
    const metrics = await (await fetch(`http://${tickcastAddress}/metrics`)).text();
    expect(metrics).toMatch(/^tickcast_dead_letters_total\{node="market-data",topic="quotes",kind="source"\} 192$/m);
    expect(fired.annotations.summary).toMatch(
      /^market-data sent \d+ records of quotes to its dead-letter topic in 5 minutes \(source\)$/,
    );
    expect(fired.annotations.description).toContain('deadLetters(topic: "quotes")');
    const alertSays = async () => {
      const { alerts } = await api<{ alerts: Alert[] }>('/api/v1/alerts');
      return alerts.find((a) => a.labels.alertname === 'TickcastDeadLetters')?.annotations.summary?.includes(' 192 ');
    };
    await until('the alert to count all 192', 30_000, alertSays, procs);
    const { alerts } = await api<{ alerts: Alert[] }>('/api/v1/alerts');
    expect(alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname)).toEqual(['TickcastDeadLetters']);
  });
});
