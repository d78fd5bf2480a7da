import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TestDriver } from '../../engine/index.js';
import { scoreOf } from '../../models/scores.js';
import type { Score } from '../../schemas/index.js';
import { scoreMetrics } from './score-metrics.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2017, 2, 1);

/** A 1-day forecast of `symbol` made on day `i`: last close 100, predicted `predicted`, interval ±1. */
function scored(symbol: string, i: number, predicted: number, realised: number): Score {
  return scoreOf(
    {
      id: `${symbol}:${T0 + i * DAY}:1`,
      symbol,
      ts: T0 + i * DAY,
      targetTs: T0 + (i + 1) * DAY,
      horizon: 1,
      model: 'net',
      modelVersion: 'v1',
      regime: 'normal',
      lastClose: 100,
      predictedClose: predicted,
      lower: predicted - 1,
      upper: predicted + 1,
    },
    realised,
  );
}

const value = async (registry: Registry, name: string, labels: Record<string, string> = {}) => {
  const metric = registry.getSingleMetric(name);
  const values = (await metric!.get()).values as Array<{ labels: Record<string, string | number>; value: number }>;
  return values.find((v) => Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x))?.value;
};

describe('score-metrics', () => {
  it('exports rolling MAE, its ratio to persistence and to a constant drift, and coverage', async () => {
    const registry = new Registry();
    const d = await TestDriver.forOperator(scoreMetrics({ registry, window: 4 }));
    // Day 0: realised returns of +2% teach the constant drift (the median, +1.98% in log terms).
    await d.pipe('input', [scored('A', 0, 100, 102), scored('B', 0, 100, 102)]);
    await d.run();
    // Day 1: the model predicted 101.5 for both; persistence says 100; the drift says ≈102.
    await d.pipe('input', [scored('A', 1, 101.5, 102), scored('B', 1, 101.5, 103)]);
    await d.run();
    const labels = { model: 'net', version: 'v1', horizon: '1', regime: 'normal' };
    // The window holds the last 4: |102−100|,|102−100|,|102−101.5|,|103−101.5| = 2, 2, 0.5, 1.5 → 1.5%.
    expect(await value(registry, 'tickcast_score_mae_percent', labels)).toBeCloseTo(1.5, 10);
    // Persistence on the same four: 2, 2, 2, 3 → 2.25.
    expect(await value(registry, 'tickcast_score_mae_ratio', { ...labels, baseline: 'persistence' })).toBeCloseTo(
      1.5 / 2.25,
      10,
    );
    // The drift before day 0 was 0 (none seen): 2, 2; on day 1 ≈102: ≈0, ≈1 → ≈5/4.
    const drift = (await value(registry, 'tickcast_score_mae_ratio', { ...labels, baseline: 'constantDrift' }))!;
    expect(drift).toBeCloseTo(1.5 / ((2 + 2 + 0 + 1) / 4), 2);
    // Inside ±1: day 0 no (102 vs 100±1), day 1 yes (102 in [100.5, 102.5]), no (103).
    expect(await value(registry, 'tickcast_score_coverage', labels)).toBe(0.25);
    expect(await value(registry, 'tickcast_scores_total', { horizon: '1', status: 'scored' })).toBe(4);
  });

  it('backs the alert rules, which pass their own unit tests (promtool, from Debian’s prometheus package)', () => {
    // Every series the prediction rules' expressions name is one this sink exports (a rename fails
    // here; the other groups' series are checked against a running app's /metrics, test/monitoring.test.ts).
    const rules = parse(
      readFileSync(fileURLToPath(new URL('../../services/prometheus/alerts.yml', import.meta.url)), 'utf8'),
    ) as { groups: Array<{ name: string; rules: Array<{ expr: string }> }> };
    const group = rules.groups.find((g) => g.name === 'tickcast-predictions')!;
    const code = group.rules.map((r) => r.expr).join('\n');
    const registry = new Registry();
    scoreMetrics({ registry });
    const exported = registry.getMetricsAsArray().map((m) => m.name);
    const named = [...new Set(code.match(/tickcast_[a-z_]+/g) ?? [])];
    expect(named.length).toBeGreaterThan(0);
    for (const series of named) expect(exported).toContain(series);
    let promtool = true;
    try {
      execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    } catch {
      promtool = false;
    }
    if (!promtool) {
      console.warn('promtool not installed (apt-get install prometheus): the rules unit tests did not run here');
      return;
    }
    const dir = fileURLToPath(new URL('../../services/prometheus/', import.meta.url));
    const out = execFileSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: dir, encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });
});
