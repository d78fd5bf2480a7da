// The monitoring a user switches on with `docker compose --profile monitoring up -d`
// (services/README.md): the Prometheus configs and alert rules pass promtool (Debian's prometheus
// package), and the Grafana dashboard — Grafana is not packaged here — is checked structurally:
// its layout, its data source, and every panel's query naming only metrics that /metrics of a real
// running app exposes. The app runs in-process with the yahoo source against the Yahoo fixture
// server (a TEST DOUBLE of Yahoo: recorded responses, test/support/yahoo-fixture-server.ts), so its
// /metrics has the engine's, the API's, the scoring sink's and the Yahoo source's series at once.
// That the queries are valid PromQL and that the alerts fire in a real Prometheus:
// test/services/prometheus.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ApiServer } from '../api/server.js';
import { type App, buildApp, serve, startPipeline } from '../cli/app.js';
import { loadConfig } from '../cli/config.js';
import type { RunningPipeline } from '../engine/index.js';
import {
  alertRules,
  allPanels,
  dashboard,
  dashboardQueries,
  exposedNames,
  GRAFANA_DIR,
  metricNames,
  PROMETHEUS_DIR,
  PROMETHEUS_OWN,
} from './support/monitoring.js';
import { startYahooFixtureServer, type YahooFixtureServer } from './support/yahoo-fixture-server.js';

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('promtool not installed (apt-get install prometheus): the Prometheus configs were not checked');
    return false;
  }
}

describe('metricNames', () => {
  it('finds the selected series, not functions, labels, ranges or keywords', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, node) (rate(tickcast_event_to_sink_seconds_bucket{job="x"}[5m])))',
      ),
    ).toEqual(['tickcast_event_to_sink_seconds_bucket']);
    expect(metricNames('time() - max by (node) (tickcast_watermark_seconds)')).toEqual(['tickcast_watermark_seconds']);
    expect(metricNames('a > 1000 and on (job) sum(b) > 0 or vector(0)')).toEqual(['a', 'b']);
    expect(metricNames('count(ALERTS{alertstate="firing", alertname=~"Tickcast.*"}) or vector(0)')).toEqual(['ALERTS']);
  });
});

describe('Prometheus configuration (promtool)', () => {
  it.each(['prometheus.yml', 'prometheus.compose.yml'])('%s and its rules pass promtool check config', (file) => {
    if (!hasPromtool()) return;
    const out = execFileSync('promtool', ['check', 'config', file], { cwd: PROMETHEUS_DIR, encoding: 'utf8' });
    expect(out).toContain(`SUCCESS: ${file} is valid prometheus config file syntax`);
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('every alert has a summary, a severity, and a promtool unit test in alerts.test.yml', () => {
    const tests = parse(readFileSync(join(PROMETHEUS_DIR, 'alerts.test.yml'), 'utf8')) as {
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of alertRules) {
      expect(rule.labels?.severity, rule.alert).toMatch(/^(critical|warning|info)$/);
      expect(rule.annotations, rule.alert).toHaveProperty('summary');
      // A case where it fires and one where it does not.
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${rule.alert} fires in a test`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${rule.alert} stays quiet in a test`,
      ).toBe(true);
    }
    // The cases themselves run in operators/sinks/score-metrics.test.ts (promtool test rules).
  });
});

describe('the Grafana dashboard, structurally', () => {
  const datasource = (
    parse(readFileSync(join(GRAFANA_DIR, 'provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: Array<{ uid: string; type: string }>;
    }
  ).datasources[0]!;
  const panels = allPanels(dashboard);
  const graphs = panels.filter((p) => p.type !== 'row');

  it('is a dashboard Grafana loads: a uid, a title, a schema version, panels with unique ids', () => {
    expect(dashboard.uid).toBe('tickcast');
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(graphs.length).toBeGreaterThan(10);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(['row', 'timeseries', 'stat', 'table', 'gauge', 'bargauge']).toContain(p.type);
      expect(p.title, `panel ${p.id}`).toBeTruthy();
    }
  });

  it('lays the panels out on the 24-column grid without overlaps', () => {
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      expect([x, y, w, h].every(Number.isInteger), p.title).toBe(true);
      expect(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 24, p.title).toBe(true);
    }
    for (const [i, a] of panels.entries()) {
      for (const b of panels.slice(i + 1)) {
        const overlap =
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });

  it('queries the provisioned Prometheus data source in every panel, each query with its own refId', () => {
    for (const p of graphs) {
      expect(p.datasource, p.title).toEqual({ type: datasource.type, uid: datasource.uid });
      expect(p.description, p.title).toBeTruthy();
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
      for (const t of p.targets!) {
        expect(t.expr.trim(), p.title).not.toBe('');
        if (t.datasource) expect(t.datasource, p.title).toEqual(p.datasource);
      }
    }
  });

  it('shows what the issue asks: throughput, lag, DLQ, end-to-end and API latency, subscribers, model error and coverage', () => {
    const used = new Set(dashboardQueries(dashboard).flatMap((q) => metricNames(q.expr)));
    for (const name of [
      'tickcast_records_in_total',
      'tickcast_consumer_lag',
      'tickcast_dead_letters_total',
      'tickcast_event_to_sink_seconds_bucket',
      'tickcast_api_request_duration_seconds_bucket',
      'tickcast_api_websocket_connections',
      'tickcast_score_mae_percent',
      'tickcast_score_coverage',
      'tickcast_yahoo_breaker_state',
    ]) {
      expect(used, name).toContain(name);
    }
  });
});

describe('against the /metrics of a running app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-monitoring-'));
  let yahoo: YahooFixtureServer;
  let app: App | undefined;
  let running: RunningPipeline | undefined;
  let server: ApiServer | undefined;
  let exposed: Set<string>;

  beforeAll(async () => {
    yahoo = await startYahooFixtureServer();
    const config = loadConfig({
      TICKCAST_SOURCE: 'yahoo',
      YAHOO_BASE_URL: yahoo.url,
      YAHOO_RATE: '0',
      TICKCAST_SYMBOLS: 'AAPL,MSFT',
      TICKCAST_BACKFILL_FROM: 'none',
      TICKCAST_DB: join(dir, 'store.duckdb'),
      TICKCAST_MODEL: 'persistence',
      TICKCAST_NEWS: 'none',
      TICKCAST_EXPLAIN: 'off',
      TICKCAST_PORT: '0',
    });
    app = await buildApp(config);
    running = await startPipeline(app);
    server = await serve(app, running);
    // One request before the scrape, as Prometheus' would be: the latency histogram has a sample.
    expect((await fetch(`${server.url}/healthz`)).status).toBeLessThan(600);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    exposed = exposedNames(await res.text());
  }, 120_000);

  afterAll(async () => {
    await running?.stop().catch(() => undefined);
    await server?.close();
    await running?.transport.close();
    await app?.store.close();
    await yahoo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exposes the engine, API, scoring and Yahoo series', () => {
    for (const name of [
      'tickcast_records_in_total',
      'tickcast_api_request_duration_seconds_bucket',
      'tickcast_score_coverage',
      'tickcast_yahoo_breaker_state',
    ]) {
      expect(exposed, name).toContain(name);
    }
  });

  it('has every dashboard query name only metrics it exposes (or Prometheus’ own up and ALERTS)', () => {
    for (const { panel, expr } of dashboardQueries(dashboard)) {
      const names = metricNames(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exposed.has(name) || PROMETHEUS_OWN.has(name), `${panel}: ${name}`).toBe(true);
    }
  });

  it('has every alert rule name only metrics it exposes (or up)', () => {
    for (const rule of alertRules) {
      const names = metricNames(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) expect(exposed.has(name) || name === 'up', `${rule.alert}: ${name}`).toBe(true);
    }
  });
});
