// A real Prometheus (Debian's `prometheus` package: /usr/bin/prometheus) against running
// tickcasts, with the compose configuration (services/prometheus/prometheus.compose.yml) turned to
// this machine: job tickcast finds its targets in a file (file_sd) instead of Docker's DNS, job
// prometheus scrapes itself, and the alert rules (alerts.yml) are evaluated every second. First one
// `tickcast run` replays a good file: every target is up, every dashboard query evaluates, no alert
// fires. Then the condition is forced: a second `tickcast run` replays a folder with a broken file
// (192 bad rows go to the quotes dead-letter topic), joins the targets, and TickcastDeadLetters
// must fire, alone. Run by `npm run test:services` (or alone:
// TICKCAST_SERVICES=1 npx vitest run --config vitest.services.config.ts test/services/prometheus.test.ts).
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '../support/free-port.js';
import { dashboard, dashboardQueries, PROMETHEUS_DIR, ROOT } from '../support/monitoring.js';
import { type Proc, startProcess, startTickcast, until } from './processes.js';

const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';
const dir = mkdtempSync(join(tmpdir(), 'tickcast-prometheus-'));
const TARGETS_FILE = join(dir, 'tickcast-targets.json');
const procs: Proc[] = [];
let prometheus: Proc;
let promUrl: string;
/** host:port of the healthy tickcast, and of the one replaying the broken file. */
let healthy: string;
let broken: string | undefined;

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

/** `tickcast run` replaying `csv` (a folder), its API on a free port; resolves with its host:port. */
async function startReplay(name: string, csv: string): Promise<string> {
  const p = startTickcast(name, [], {
    ...process.env,
    CI: 'true',
    TICKCAST_DATA_DIR: csv,
    TICKCAST_DB: join(dir, `${name}.duckdb`),
    TICKCAST_MODEL: 'persistence',
    TICKCAST_NEWS: 'none',
    TICKCAST_EXPLAIN: 'off',
  });
  procs.push(p);
  return until(
    `${name} to serve`,
    60_000,
    async () => {
      if (p.child.exitCode !== null) throw new Error(`${name} exited ${p.child.exitCode}`);
      return p.output.join('\n').match(/GraphQL on http:\/\/([\d.]+:\d+)\/graphql/)?.[1];
    },
    procs,
  );
}

/** Job tickcast's targets (file_sd: Prometheus sees the file change). Written whole, then renamed. */
function writeTargets(addresses: string[]): void {
  // role: what the compose relabelling takes from the service name; these processes run every role.
  writeFileSync(`${TARGETS_FILE}.tmp`, JSON.stringify([{ targets: addresses, labels: { role: 'all' } }]));
  renameSync(`${TARGETS_FILE}.tmp`, TARGETS_FILE);
}

beforeAll(async () => {
  const csv = join(dir, 'good');
  mkdirSync(csv);
  writeFileSync(join(csv, 'AAPL_data.csv'), readFileSync(join(ROOT, 'data/sp500-daily/AAPL_data.csv')));
  healthy = await startReplay('tickcast-good', csv);
  writeTargets([healthy]);

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
  const discovery: Record<string, Record<string, unknown>> = {
    tickcast: { file_sd_configs: [{ files: [TARGETS_FILE], refresh_interval: '1s' }] },
    prometheus: { static_configs: [{ targets: [`127.0.0.1:${port}`] }] },
  };
  config.scrape_configs = config.scrape_configs.map(({ job_name, ...rest }) => {
    const found = discovery[job_name];
    if (!found) throw new Error(`job ${job_name} of prometheus.compose.yml: this test does not know where it runs`);
    const { dns_sd_configs: _dns, static_configs: _static, relabel_configs: _relabel, ...kept } = rest;
    return { job_name, ...kept, ...found };
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
  for (const p of procs) await stop(p);
  rmSync(dir, { recursive: true, force: true });
});

async function activeTargets(): Promise<Target[]> {
  return (await api<{ activeTargets: Target[] }>('/api/v1/targets?state=active')).activeTargets;
}
async function alerts(): Promise<Alert[]> {
  return (await api<{ alerts: Alert[] }>('/api/v1/alerts')).alerts;
}

describe('a real Prometheus on the compose configuration, against running tickcasts', () => {
  it('scrapes every target: the tickcast process and itself', async () => {
    const active = await until(
      'every target up',
      60_000,
      async () => {
        const targets = await activeTargets();
        return targets.length === 2 && targets.every((t) => t.health === 'up') && targets;
      },
      procs,
    );
    expect(active.map((t) => t.scrapeUrl).sort()).toEqual([`http://${healthy}/metrics`, `${promUrl}/metrics`].sort());
    expect(active.find((t) => t.labels.job === 'tickcast')!.labels).toMatchObject({ role: 'all' });
    // And the scraped series are there to query.
    const up = await api<{ result: Array<{ value: [number, string] }> }>(
      `/api/v1/query?query=${encodeURIComponent('up{job="tickcast"}')}`,
    );
    expect(up.result.map((r) => r.value[1])).toEqual(['1']);
    const nodes = await until('the engine series in Prometheus', 30_000, async () => {
      const { result } = await api<{ result: unknown[] }>(
        `/api/v1/query?query=${encodeURIComponent('tickcast_records_in_total')}`,
      );
      return result.length > 5 && result;
    });
    expect(nodes.length).toBeGreaterThan(5);
  });

  it('evaluates every query of the Grafana dashboard', async () => {
    for (const { panel, expr } of dashboardQueries(dashboard)) {
      await expect(api(`/api/v1/query?query=${encodeURIComponent(expr)}`), `${panel}: ${expr}`).resolves.toBeDefined();
    }
  });

  it('fires no alert while the pipeline is healthy', async () => {
    // Rules evaluated after the healthy process's series were in: what they say is about it.
    const after = Date.now();
    await until('the rules evaluated on the scraped series', 30_000, async () => {
      const { groups } = await api<{ groups: Array<{ name: string; lastEvaluation: string }> }>('/api/v1/rules');
      const group = groups.find((g) => g.name === 'tickcast-pipeline');
      return group !== undefined && Date.parse(group.lastEvaluation) > after + 1000;
    });
    expect((await alerts()).filter((a) => a.state === 'firing')).toEqual([]);
    expect((await alerts()).map((a) => a.labels.alertname)).not.toContain('TickcastDeadLetters');
  });

  it('fires TickcastDeadLetters, and nothing else, once a replay sends a broken file’s rows to the dead-letter topic', async () => {
    // AAPL's real file, with open emptied on every 5th day from day 300 on: 192 dead letters.
    const csv = join(dir, 'broken');
    mkdirSync(csv);
    const lines = readFileSync(join(ROOT, 'data/sp500-daily/AAPL_data.csv'), 'utf8').split('\n');
    const rows = lines.map((line, i) =>
      i >= 300 && i % 5 === 0 && line ? line.replace(/^([^,]*),[^,]*,/, '$1,,') : line,
    );
    writeFileSync(join(csv, 'AAPL_data.csv'), rows.join('\n'));
    broken = await startReplay('tickcast-broken', csv);
    writeTargets([healthy, broken]);
    await until(
      'the new target up',
      60_000,
      async () => (await activeTargets()).some((t) => t.scrapeUrl === `http://${broken}/metrics` && t.health === 'up'),
      procs,
    );
    const fired = await until(
      'TickcastDeadLetters firing',
      120_000,
      async () => (await alerts()).find((a) => a.labels.alertname === 'TickcastDeadLetters' && a.state === 'firing'),
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
    // The count as the broken process's own /metrics has it, and as the alert says it (once all are scraped).
    const metrics = await (await fetch(`http://${broken}/metrics`)).text();
    expect(metrics).toMatch(/^tickcast_dead_letters_total\{node="market-data",topic="quotes",kind="source"\} 192$/m);
    expect(fired.annotations.summary).toMatch(
      /^market-data sent \d+ records of quotes to its dead-letter topic in 5 minutes \(source\)$/,
    );
    expect(fired.annotations.description).toContain('deadLetters(topic: "quotes")');
    await until('the alert to count all 192', 30_000, async () =>
      (await alerts())
        .find((a) => a.labels.alertname === 'TickcastDeadLetters')
        ?.annotations.summary?.includes(' 192 '),
    );
    expect((await alerts()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname)).toEqual([
      'TickcastDeadLetters',
    ]);
  });
});
