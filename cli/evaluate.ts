// `tickcast evaluate`: every candidate model against the baselines (persistence, drift,
// constantDrift; always-up for the hit rate) on held-out days, overall and split by normal and
// earnings days, with rank IC t-statistics and IC per year; with --json, one JSON line last.

import { constantDriftModel, driftModel, medianLogReturns, persistenceModel } from '../models/baselines.js';
import { loadDailyBars } from '../models/daily-csv.js';
import { buildDataset, targetRows } from '../models/dataset.js';
import { type EarningsCalendar, emptyEarningsCalendar, loadEarningsCalendar } from '../models/earnings-calendar.js';
import {
  beforeTestWindow,
  type Evaluation,
  earningsCoverage,
  evaluateModel,
  type IcDetail,
  SEGMENTS,
  testExamples,
  type Versus,
  versusBaselines,
} from '../models/evaluate.js';
import type { Metrics } from '../models/metrics.js';
import type { Model } from '../models/model.js';
import { loadLatestArtifacts, loadShipped, routedModel } from '../models/shipped.js';
import { isoDay } from '../models/trading-calendar.js';
import { type Config, ConfigError, dataOptionProblems } from './config.js';
import { consoleOutput, type Output } from './io.js';
import { taskProgress } from './progress.js';
import { printTable } from './table.js';

export interface EvaluateArgs {
  data?: string;
  earnings?: string;
  from?: string;
  to?: string;
  horizon?: string;
  json?: boolean;
  /** Trained nets and shipped.json (default models/artifacts): e.g. what `tickcast train --artifacts` wrote. */
  artifacts?: string;
}

export const HORIZONS = [1, 5, 21];

export const EVALUATION_HEADER = [
  'model',
  'days',
  'n',
  'MAE %',
  'MAE/persist',
  'MAE/best',
  'hit rate',
  'rank IC',
  'IC t',
  'cov80',
  'pinball',
];

/**
 * Table rows for evaluations, all / normal / earnings days each; `shipped` is marked. MAE/best is
 * the MAE ÷ the best baseline's on the same rows ('-' for an evaluation without `versus`).
 */
export function evaluationRows(results: readonly Evaluation[], shipped: string): string[][] {
  return results.flatMap((r) =>
    SEGMENTS.map((segment) => {
      const m = r[segment];
      return [
        modelLabel(r, shipped),
        segment,
        m.n.toLocaleString('en-US'),
        fixed(m.mae, 3),
        fixed(m.maeRatio, 3),
        fixed(r.versus?.[segment].skillVsBest ?? Number.NaN, 3),
        percent(m.hitRate),
        fixed(m.rankIc, 4),
        fixed(m.rankIcT, 2),
        percent(m.coverage80),
        fixed(m.pinball, 3),
      ];
    }),
  );
}

const modelLabel = (r: Evaluation, shipped: string) =>
  `${r.model}@${r.version}${r.model === shipped ? ' (shipped)' : ''}`;

/**
 * Rank IC beyond the mean, all and normal days (earnings days rarely have 5 symbols on a date):
 * over every h-th date with its t (h > 1), then per year, "IC (t)".
 */
export function icRows(results: readonly Evaluation[], shipped: string): { header: string[]; rows: string[][] } {
  const years = [...new Set(results.flatMap((r) => r.ic.all.byYear.map((y) => y.year)))].sort();
  const h = results[0]?.horizon ?? 1;
  const header = ['model', 'days', ...(h > 1 ? [`IC 1 date in ${h}`, 't', 'dates'] : []), ...years.map(String)];
  // Baselines that forecast the same return for every symbol have no cross-section: left out.
  const ranked = results.filter((r) => r.ic.all.byYear.some((y) => y.dates > 0));
  const rows = ranked.flatMap((r) =>
    (['all', 'normal'] as const).map((segment) => {
      const d: IcDetail = r.ic[segment];
      const byYear = new Map(d.byYear.map((y) => [y.year, y]));
      return [
        modelLabel(r, shipped),
        segment,
        ...(h > 1 ? [fixed(d.nonOverlapping.ic, 4), fixed(d.nonOverlapping.t, 2), String(d.nonOverlapping.dates)] : []),
        ...years.map((y) => {
          const s = byYear.get(y);
          return s ? `${fixed(s.ic, 4)} (${fixed(s.t, 2)})` : '-';
        }),
      ];
    }),
  );
  return { header, rows };
}

/** Share of scored symbols with an earnings date in the period below which the table warns. */
export const EARNINGS_COVERAGE_WARNING = 0.9;

/** The settings evaluate reads: a bad one it does not read (the API port) does not stop it. */
export const EVALUATE_SETTINGS = ['TICKCAST_DATA_DIR', 'TICKCAST_EARNINGS_FILE', 'TICKCAST_MODEL'] as const;
type EvaluateConfig = Pick<Config, (typeof EVALUATE_SETTINGS)[number]>;

/** The options, read, with what is wrong with them (and with the folders they or the settings name). */
function evaluateOptions(config: EvaluateConfig, args: EvaluateArgs) {
  const horizon = Number(args.horizon ?? 1);
  const problems: string[] = [];
  if (!HORIZONS.includes(horizon)) problems.push(`--horizon ${args.horizon}: one of ${HORIZONS.join(', ')}`);
  const from = parseDay(args.from ?? '2017-02-08', '--from', problems);
  const to = args.to === undefined ? Number.POSITIVE_INFINITY : parseDay(args.to, '--to', problems) + 86_400_000;
  problems.push(...windowOrderProblems(args, from, to));
  problems.push(...dataOptionProblems(config, args));
  return { horizon, from, to, problems };
}

/** What is wrong with evaluate's options: for loadConfig's `also`, beside the settings' problems. */
export function evaluateProblems(config: EvaluateConfig, args: EvaluateArgs): string[] {
  return evaluateOptions(config, args).problems;
}

export async function evaluateCommand(
  config: EvaluateConfig,
  args: EvaluateArgs,
  io: Output = consoleOutput,
): Promise<void> {
  const { horizon, from, to, problems } = evaluateOptions(config, args);
  if (problems.length > 0) throw new ConfigError(problems);

  const earningsFile = args.earnings ?? config.TICKCAST_EARNINGS_FILE;
  const calendar = earningsFile === 'none' ? emptyEarningsCalendar() : await loadEarningsCalendar(earningsFile);
  const dir = args.data ?? config.TICKCAST_DATA_DIR;
  const { data, symbols, rejected, medians, training, range } = await loadDataset(dir, calendar, { from, to }, horizon);
  io.err(
    `evaluate: ${symbols} symbols, ${data.examples.length.toLocaleString('en-US')} examples (${rejected} broken rows skipped), horizon ${horizon}, from ${isoDay(from)}${Number.isFinite(to) ? ` to ${isoDay(to - 86_400_000)}` : ''}`,
  );

  if (testExamples(data, { horizon, from, to }).length === 0) {
    throw new ConfigError([emptyWindowProblem(dir, range, { from, to, horizon })]);
  }
  if (!medians.has(horizon)) {
    throw new ConfigError([
      `--from ${isoDay(from)}: no ${horizon}-day return is realised before it (constantDrift's training window)`,
    ]);
  }
  const coverage = earningsCoverage(data, calendar, { horizon, from, to });

  // Candidates: the baselines, every trained net's latest artifact, and the shipped pair routed
  // by the earnings calendar exactly as the pipeline routes it.
  const baselines: Model[] = [
    persistenceModel({ horizons: HORIZONS }),
    driftModel({ horizons: HORIZONS }),
    constantDriftModel(medians),
  ];
  const candidates: Model[] = [...baselines];
  candidates.push(...(await loadLatestArtifacts(args.artifacts)));
  const shippedModels = await loadShipped(args.artifacts, { calendar });
  let shippedName: string = config.TICKCAST_MODEL;
  let rankingName: string | null = null;
  if (shippedModels && config.TICKCAST_MODEL === 'shipped') {
    // Where the shipped median is a constant, the net behind it still ranks: scored beside it.
    const ranking = shippedModels.ranking;
    if (ranking) {
      rankingName = `${ranking.name}@${ranking.version}`;
      if (!candidates.some((m) => m.name === ranking.name && m.version === ranking.version)) candidates.push(ranking);
    }
    const routed = routedModel(shippedModels.normal, shippedModels.earnings, calendar);
    candidates.push(routed);
    shippedName = routed.name;
  }
  const scoredOnly: Evaluation[] = [];
  for (const model of candidates) {
    const bar = taskProgress(`evaluating ${model.name}`, 'examples');
    scoredOnly.push(await evaluateModel(model, data, { horizon, from, to, onProgress: (d, t) => bar.update(d, t) }));
    bar.stop();
  }
  const baselineResults = scoredOnly.slice(0, baselines.length);
  const results = scoredOnly.map((r) => versusBaselines(r, baselineResults));

  io.out(
    `\nhorizon ${horizon} trading day(s); MAE and pinball in % of price; MAE/best: ÷ the best baseline's MAE on the same rows; coverage of the 80% interval`,
  );
  printTable(EVALUATION_HEADER, evaluationRows(results, shippedName), io.out);
  const best = results[0]!.versus!;
  io.out(
    `best baseline by MAE: ${SEGMENTS.map((s) => `${best[s].best} (${s})`).join(', ')}; always-up hit rate ${SEGMENTS.map((s) => `${percent(best[s].alwaysUpHitRate)} (${s})`).join(', ')}`,
  );
  io.out(
    `constantDrift: median ${horizon}-day log return ${signedPct(medians.get(horizon)!)} of ${training.n.toLocaleString('en-US')} training examples (${isoDay(training.from)} to ${isoDay(training.to)}: before ${isoDay(from)}, targets realised before it)`,
  );
  io.out(
    `${coverage < EARNINGS_COVERAGE_WARNING ? 'warning: ' : ''}earnings coverage ${percent(coverage)}: share of the scored symbols with an earnings date in the evaluated period${coverage < EARNINGS_COVERAGE_WARNING ? "; the others' earnings days are scored as normal days" : ''}`,
  );
  const ic = icRows(results, shippedName);
  io.out(
    `\nrank IC ${horizon > 1 ? `over 1 date in ${horizon} (non-overlapping targets), and ` : ''}per year over every date, "IC (t)"`,
  );
  printTable(ic.header, ic.rows, io.out);
  if (args.json) {
    const r = results.find((x) => x.model === shippedName) ?? results[0]!;
    const ranking = results.find((x) => `${x.model}@${x.version}` === rankingName);
    // Top level: normal days (the issue's targets); earnings and all days beside it.
    io.out(
      JSON.stringify({
        model: `${r.model}@${r.version}`,
        horizon,
        ...json(r, 'normal', medians.get(horizon)!),
        earnings: json(r, 'earnings', medians.get(horizon)!),
        all: json(r, 'all', medians.get(horizon)!),
        // A constant shipped median has no cross-section: the net behind it ranks (normal days).
        ...(ranking && { ranking: { model: rankingName, ...icJson(ranking, 'normal') } }),
        earningsCoverage: num(coverage),
        constantDriftTraining: { from: isoDay(training.from), to: isoDay(training.to), n: training.n },
      }),
    );
  }
}

/**
 * One loaded folder as a dataset of the scored window only (memory), and constantDrift's medians
 * from its training window: the examples before `window.from` whose target is realised before it
 * (`training`: their count and first and last day at `horizon`).
 */
async function loadDataset(
  dir: string,
  calendar: EarningsCalendar,
  window: { from: number; to: number },
  horizon: number,
) {
  const loading = taskProgress('loading prices', 'files');
  const { bars, rejected } = await loadDailyBars(dir, { onFile: (d, t) => loading.update(d, t) });
  loading.stop();
  const data = buildDataset(bars, { horizons: HORIZONS, calendar, window });
  const inTraining = beforeTestWindow(data, window.from);
  const medians = medianLogReturns(targetRows(bars, HORIZONS), HORIZONS, inTraining);
  const training = { n: 0, from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY };
  for (const e of targetRows(bars, HORIZONS)) {
    if (!Number.isFinite(e.targets[HORIZONS.indexOf(horizon)]!) || !inTraining(e, horizon)) continue;
    training.n++;
    training.from = Math.min(training.from, e.ts);
    training.to = Math.max(training.to, e.ts);
  }
  return { data, symbols: bars.size, rejected, medians, training, range: dataRange(bars) };
}

const DAY_MS = 86_400_000;

/** --from after --to (`to` is the day after --to: both days are scored); none while either is not a date. */
export function windowOrderProblems(args: { from?: string; to?: string }, from: number, to: number): string[] {
  if (args.to === undefined || !(from >= to)) return [];
  return [
    `--from ${args.from ?? isoDay(from)} is after --to ${args.to}: --from must come before --to (or be the same day)`,
  ];
}

/** The first and last day of a folder's bars (NaN when it has none). */
export function dataRange(bars: ReadonlyMap<string, readonly { ts: number }[]>): { first: number; last: number } {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const series of bars.values()) {
    for (const b of series) {
      if (b.ts < first) first = b.ts;
      if (b.ts > last) last = b.ts;
    }
  }
  return Number.isFinite(first) ? { first, last } : { first: Number.NaN, last: Number.NaN };
}

/**
 * Why a window [from, to) has nothing to score, naming the data's range: it lies outside the
 * data, or (with a `horizon`) no `horizon`-day return is realised in it before the data ends.
 */
export function emptyWindowProblem(
  dir: string,
  range: { first: number; last: number },
  window: { from: number; to: number; horizon?: number },
): string {
  const { from, to, horizon } = window;
  const asked = `--from ${isoDay(from)}${Number.isFinite(to) ? ` --to ${isoDay(to - DAY_MS)}` : ''}`;
  if (Number.isNaN(range.first))
    return `${asked}: ${dir} holds no valid daily bars: point --data at per-ticker daily CSVs`;
  const held = `the data in ${dir} runs from ${isoDay(range.first)} to ${isoDay(range.last)}`;
  if (from > range.last || to <= range.first) return `${asked}: outside the data (${held}): give days within it`;
  return `${asked}: no ${horizon ?? 1}-day return is realised in it (${held}): give an earlier --from${horizon !== undefined && horizon > 1 ? ' or a shorter --horizon' : ''}`;
}

const num = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(6)) : null);

/** Rank IC, its t, over non-overlapping dates and per year. */
function icJson(r: Evaluation, segment: (typeof SEGMENTS)[number]) {
  const ic = r.ic[segment];
  return {
    rankIc: num(r[segment].rankIc),
    rankIcT: num(r[segment].rankIcT),
    rankIcNonOverlapping: {
      every: ic.nonOverlapping.every,
      ic: num(ic.nonOverlapping.ic),
      t: num(ic.nonOverlapping.t),
      dates: ic.nonOverlapping.dates,
    },
    rankIcByYear: Object.fromEntries(ic.byYear.map((y) => [y.year, { ic: num(y.ic), t: num(y.t), dates: y.dates }])),
  };
}

function json(r: Evaluation, segment: (typeof SEGMENTS)[number], constantDriftMedian: number) {
  const m: Metrics = r[segment];
  const v: Versus = r.versus![segment];
  const baseline = (name: string) => v.baselines[name]!;
  return {
    n: m.n,
    mae: num(m.mae),
    maePersistence: num(m.maePersistence),
    maeRatio: num(m.maeRatio),
    hitRate: num(m.hitRate),
    ...icJson(r, segment),
    coverage80: num(m.coverage80),
    pinball: num(m.pinball),
    baselines: {
      persistence: { mae: num(baseline('persistence').mae) },
      drift: { mae: num(baseline('drift').mae), maeRatio: num(baseline('drift').maeRatio) },
      constantDrift: {
        mae: num(baseline('constantDrift').mae),
        maeRatio: num(baseline('constantDrift').maeRatio),
        hitRate: num(baseline('constantDrift').hitRate),
        median: num(constantDriftMedian),
      },
      alwaysUp: { hitRate: num(v.alwaysUpHitRate) },
    },
    bestBaseline: v.best,
    skillVsBest: num(v.skillVsBest),
  };
}

export const signedPct = (logReturn: number) => `${logReturn >= 0 ? '+' : ''}${(logReturn * 100).toFixed(3)}%`;

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const percent = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-');

export function parseDay(text: string, option: string, problems: string[]): number {
  const ms = Date.parse(`${text}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(ms))
    problems.push(`${option} ${JSON.stringify(text)}: a date YYYY-MM-DD`);
  return ms;
}
