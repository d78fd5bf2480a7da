// `tickcast evaluate`: every candidate model against persistence and drift on held-out days,
// overall and split by normal and earnings days; with --json, one JSON line last.

import { driftModel, persistenceModel } from '../models/baselines.js';
import { loadDailyBars } from '../models/daily-csv.js';
import { buildDataset } from '../models/dataset.js';
import { emptyEarningsCalendar, loadEarningsCalendar } from '../models/earnings-calendar.js';
import { type Evaluation, evaluateModel } from '../models/evaluate.js';
import type { Metrics } from '../models/metrics.js';
import type { Model } from '../models/model.js';
import { loadLatestArtifacts, loadShipped, routedModel } from '../models/shipped.js';
import { type Config, ConfigError } from './config.js';
import { taskProgress } from './progress.js';
import { printTable } from './table.js';

export interface EvaluateArgs {
  data?: string;
  earnings?: string;
  from?: string;
  to?: string;
  horizon?: string;
  json?: boolean;
}

export const HORIZONS = [1, 5, 21];

export const EVALUATION_HEADER = [
  'model',
  'days',
  'n',
  'MAE %',
  'MAE/persist',
  'hit rate',
  'rank IC',
  'cov80',
  'pinball',
];

/** Table rows for evaluations, all / normal / earnings days each; `shipped` is marked. */
export function evaluationRows(results: readonly Evaluation[], shipped: string): string[][] {
  return results.flatMap((r) =>
    (['all', 'normal', 'earnings'] as const).map((segment) => {
      const m = r[segment];
      return [
        `${r.model}@${r.version}${r.model === shipped ? ' (shipped)' : ''}`,
        segment,
        m.n.toLocaleString('en-US'),
        fixed(m.mae, 3),
        fixed(m.maeRatio, 3),
        percent(m.hitRate),
        fixed(m.rankIc, 4),
        percent(m.coverage80),
        fixed(m.pinball, 3),
      ];
    }),
  );
}

export async function evaluateCommand(config: Config, args: EvaluateArgs): Promise<void> {
  const horizon = Number(args.horizon ?? 1);
  const problems: string[] = [];
  if (!HORIZONS.includes(horizon)) problems.push(`--horizon ${args.horizon}: one of ${HORIZONS.join(', ')}`);
  const from = parseDay(args.from ?? '2017-02-08', '--from', problems);
  const to = args.to === undefined ? Number.POSITIVE_INFINITY : parseDay(args.to, '--to', problems) + 86_400_000;
  if (problems.length > 0) throw new ConfigError(problems);

  const dir = args.data ?? config.TICKCAST_DATA_DIR;
  const earningsFile = args.earnings ?? config.TICKCAST_EARNINGS_FILE;
  const loading = taskProgress('loading prices', 'files');
  const { bars, rejected } = await loadDailyBars(dir, { onFile: (d, t) => loading.update(d, t) });
  loading.stop();
  const calendar = earningsFile === 'none' ? emptyEarningsCalendar() : await loadEarningsCalendar(earningsFile);
  const data = buildDataset(bars, { horizons: HORIZONS, calendar });
  console.error(
    `evaluate: ${bars.size} symbols, ${data.examples.length.toLocaleString('en-US')} examples (${rejected} broken rows skipped), horizon ${horizon}, from ${isoDay(from)}${Number.isFinite(to) ? ` to ${isoDay(to - 86_400_000)}` : ''}`,
  );

  // Candidates: the baselines, every trained net's latest artifact, and the shipped pair routed
  // by the earnings calendar exactly as the pipeline routes it.
  const candidates: Model[] = [persistenceModel({ horizons: HORIZONS }), driftModel({ horizons: HORIZONS })];
  candidates.push(...(await loadLatestArtifacts()));
  const shippedModels = await loadShipped();
  let shippedName: string = config.TICKCAST_MODEL;
  if (shippedModels && config.TICKCAST_MODEL === 'shipped') {
    const routed = routedModel(shippedModels.normal, shippedModels.earnings, calendar);
    candidates.push(routed);
    shippedName = routed.name;
  }
  const results: Evaluation[] = [];
  for (const model of candidates) {
    const bar = taskProgress(`evaluating ${model.name}`, 'examples');
    results.push(await evaluateModel(model, data, { horizon, from, to, onProgress: (d, t) => bar.update(d, t) }));
    bar.stop();
  }

  const rows = evaluationRows(results, shippedName);
  console.log(`\nhorizon ${horizon} trading day(s); MAE and pinball in % of price; coverage of the 80% interval`);
  printTable(EVALUATION_HEADER, rows);
  if (args.json) {
    const r = results.find((x) => x.model === shippedName) ?? results[0]!;
    // Top level: normal days (the issue's targets); earnings and all days beside it.
    console.log(
      JSON.stringify({
        model: `${r.model}@${r.version}`,
        horizon,
        ...json(r.normal),
        earnings: json(r.earnings),
        all: json(r.all),
      }),
    );
  }
}

function json(m: Metrics) {
  const num = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(6)) : null);
  return {
    n: m.n,
    mae: num(m.mae),
    maePersistence: num(m.maePersistence),
    maeRatio: num(m.maeRatio),
    hitRate: num(m.hitRate),
    rankIc: num(m.rankIc),
    coverage80: num(m.coverage80),
    pinball: num(m.pinball),
  };
}

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const percent = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-');
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function parseDay(text: string, option: string, problems: string[]): number {
  const ms = Date.parse(`${text}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(ms))
    problems.push(`${option} ${JSON.stringify(text)}: a date YYYY-MM-DD`);
  return ms;
}
