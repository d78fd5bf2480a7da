// The live skill series (operators/sinks/score-metrics.ts) read back from the process's Prometheus
// registries for GraphQL `liveSkill`: the same numbers /metrics serves, one row per model version,
// horizon and regime.
import type { Registry } from 'prom-client';

export interface LiveSkill {
  model: string;
  modelVersion: string;
  horizon: number;
  regime: string;
  /** Scored forecasts the rolling figures cover. */
  window: number;
  mae: number;
  maeRatioPersistence: number;
  maeRatioConstantDrift: number;
  coverage: number;
}

type Labels = Partial<Record<string, string | number>>;

export async function readLiveSkill(registries: readonly Registry[]): Promise<LiveSkill[]> {
  const values = async (name: string) => {
    for (const r of registries) {
      const metric = r.getSingleMetric(name);
      if (metric) return (await metric.get()).values as Array<{ labels: Labels; value: number }>;
    }
    return [];
  };
  const key = (l: Labels) => `${l.model}|${l.version}|${l.horizon}|${l.regime}`;
  const rows = new Map<string, LiveSkill>();
  for (const { labels: l, value } of await values('tickcast_score_window')) {
    rows.set(key(l), {
      model: String(l.model),
      modelVersion: String(l.version),
      horizon: Number(l.horizon),
      regime: String(l.regime),
      window: value,
      mae: Number.NaN,
      maeRatioPersistence: Number.NaN,
      maeRatioConstantDrift: Number.NaN,
      coverage: Number.NaN,
    });
  }
  for (const { labels: l, value } of await values('tickcast_score_mae_percent')) {
    const row = rows.get(key(l));
    if (row) row.mae = value;
  }
  for (const { labels: l, value } of await values('tickcast_score_coverage')) {
    const row = rows.get(key(l));
    if (row) row.coverage = value;
  }
  for (const { labels: l, value } of await values('tickcast_score_mae_ratio')) {
    const row = rows.get(key(l));
    if (row && l.baseline === 'persistence') row.maeRatioPersistence = value;
    if (row && l.baseline === 'constantDrift') row.maeRatioConstantDrift = value;
  }
  return [...rows.values()].sort(
    (a, b) => a.horizon - b.horizon || a.regime.localeCompare(b.regime) || a.model.localeCompare(b.model),
  );
}
