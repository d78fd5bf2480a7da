// The monitoring files (services/prometheus/, services/grafana/) as the tests read them, and what
// PromQL names: shared by test/monitoring.test.ts and test/services/prometheus.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const PROMETHEUS_DIR = join(ROOT, 'services/prometheus');
export const GRAFANA_DIR = join(ROOT, 'services/grafana');

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
}
export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ refId: string; expr: string; datasource?: { type: string; uid: string } }>;
  panels?: Panel[];
}

export const dashboard = JSON.parse(readFileSync(join(GRAFANA_DIR, 'dashboards/tickcast.json'), 'utf8')) as Dashboard;
export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export const alertRules = (
  parse(readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: AlertRule[] }> }
).groups.flatMap((g) => g.rules);

/** Every panel, those inside collapsed rows too. */
export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** The queries of the panels, Grafana's interval variables replaced by what they stand for. */
export function dashboardQueries(d: Dashboard): Array<{ panel: string; expr: string }> {
  return allPanels(d).flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      panel: p.title,
      expr: t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s'),
    })),
  );
}

/** Series Prometheus makes itself (not on /metrics): target health and alert state. */
export const PROMETHEUS_OWN = new Set(['up', 'ALERTS']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or']);
const OPERATORS = new Set(['unless', 'offset', 'inf', 'nan', 'Inf', 'NaN']);

/**
 * The metric names a PromQL expression selects: what is left once strings, label matchers, ranges,
 * label lists (by, on, …), function names and keywords are taken out.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...stripped.matchAll(/(?<![\w.])[a-zA-Z_:][\w:]*\b(?!\s*\()/g)].map((m) => m[0]);
  return [...new Set(names.filter((n) => !KEYWORDS.has(n) && !OPERATORS.has(n)))];
}

/** The series names /metrics text exposes: each family of a `# TYPE` line (histograms as their three series). */
export function exposedNames(metricsText: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of metricsText.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(`${name}${suffix}`);
    else names.add(name!);
  }
  return names;
}
