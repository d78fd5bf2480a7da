// `tickcast calibration`: the online interval calibration (models/conformal.ts, the steps of the
// `calibrate` operator) replayed over a data set from its start, with the shipped models routed
// as the pipeline routes them. Prints the 80% interval's coverage per horizon and regime over the
// evaluation window, the models' own beside the calibrated, and per quarter; --json, one line last.

import { type CalibrationRow, COVERAGE_TARGET, DEFAULT_ETA, replayCalibration } from '../models/conformal.js';
import { loadDailyBars } from '../models/daily-csv.js';
import { buildDataset } from '../models/dataset.js';
import { emptyEarningsCalendar, loadEarningsCalendar } from '../models/earnings-calendar.js';
import { scoreModel } from '../models/evaluate.js';
import { earningsInWindow, loadShipped, routedModel } from '../models/shipped.js';
import { isoDay } from '../models/trading-calendar.js';
import { type Config, ConfigError, dataOptionProblems } from './config.js';
import { dataRange, emptyWindowProblem, parseDay, windowOrderProblems } from './evaluate.js';
import { consoleOutput, type Output } from './io.js';
import { taskProgress } from './progress.js';
import { printTable } from './table.js';

export interface CalibrationArgs {
  data?: string;
  earnings?: string;
  from?: string;
  to?: string;
  eta?: string;
  json?: boolean;
}

const HORIZONS = [1, 5, 21];
/** The bands the calibrated coverage must stay in over a window (issue 13). */
export const BANDS: Record<string, [number, number]> = { normal: [0.78, 0.82], earnings: [0.75, 0.85] };

export interface CoverageCell {
  horizon: number;
  regime: string;
  n: number;
  /** The models' own intervals, and as the online calibration issued them. */
  raw: number;
  calibrated: number;
  inBand: boolean;
}

/** Coverage per horizon and regime of the rows with input day in [from, to). */
export function coverageTable(
  rows: readonly CalibrationRow[],
  issued: ReadonlyArray<{ inside: boolean }>,
  window: { from: number; to: number },
): CoverageCell[] {
  const cells = new Map<string, { horizon: number; regime: string; n: number; raw: number; cal: number }>();
  rows.forEach((r, i) => {
    if (r.ts < window.from || r.ts >= window.to) return;
    const key = `${r.horizon}:${r.regime}`;
    const c = cells.get(key) ?? { horizon: r.horizon, regime: r.regime, n: 0, raw: 0, cal: 0 };
    cells.set(key, c);
    c.n++;
    if (r.actual >= r.lower && r.actual <= r.upper) c.raw++;
    if (issued[i]!.inside) c.cal++;
  });
  return [...cells.values()]
    .sort((a, b) => a.horizon - b.horizon || a.regime.localeCompare(b.regime))
    .map((c) => {
      const calibrated = c.cal / c.n;
      const [lo, hi] = BANDS[c.regime] ?? [0, 1];
      return {
        horizon: c.horizon,
        regime: c.regime,
        n: c.n,
        raw: c.raw / c.n,
        calibrated,
        inBand: calibrated >= lo && calibrated <= hi,
      };
    });
}

/** The settings calibration reads: a bad one it does not read (the API port) does not stop it. */
export const CALIBRATION_SETTINGS = ['TICKCAST_DATA_DIR', 'TICKCAST_EARNINGS_FILE'] as const;
type CalibrationConfig = Pick<Config, (typeof CALIBRATION_SETTINGS)[number]>;

/** The options, read, with what is wrong with them (and with the folders they or the settings name). */
function calibrationOptions(config: CalibrationConfig, args: CalibrationArgs) {
  const problems: string[] = [];
  const from = parseDay(args.from ?? '2017-02-08', '--from', problems);
  const to = args.to === undefined ? Number.POSITIVE_INFINITY : parseDay(args.to, '--to', problems) + 86_400_000;
  const eta = args.eta === undefined ? DEFAULT_ETA : Number(args.eta);
  if (!(eta >= 0 && eta <= 10)) problems.push(`--eta ${JSON.stringify(args.eta)}: a step size from 0 (off) to 10`);
  problems.push(...windowOrderProblems(args, from, to));
  problems.push(...dataOptionProblems(config, args));
  return { from, to, eta, problems };
}

/** What is wrong with calibration's options: for loadConfig's `also`, beside the settings' problems. */
export function calibrationProblems(config: CalibrationConfig, args: CalibrationArgs): string[] {
  return calibrationOptions(config, args).problems;
}

/**
 * Replays the calibration and prints its coverage. Returns the exit code: 0 when every horizon and
 * regime is in its band, 1 (with the cells out of band on stderr, after the JSON line) otherwise, so
 * CI fails on a calibration that drifted.
 */
export async function calibrationCommand(
  config: CalibrationConfig,
  args: CalibrationArgs,
  io: Output = consoleOutput,
): Promise<number> {
  const { from, to, eta, problems } = calibrationOptions(config, args);
  const shipped = await loadShipped();
  if (!shipped) problems.push('no shipped model (models/artifacts/shipped.json): run `npx tickcast train`');
  if (problems.length > 0 || !shipped) throw new ConfigError(problems);

  const earningsFile = args.earnings ?? config.TICKCAST_EARNINGS_FILE;
  const calendar = earningsFile === 'none' ? emptyEarningsCalendar() : await loadEarningsCalendar(earningsFile);
  const dir = args.data ?? config.TICKCAST_DATA_DIR;
  const loading = taskProgress('loading prices', 'files');
  const { bars, rejected } = await loadDailyBars(dir, { onFile: (d, t) => loading.update(d, t) });
  loading.stop();
  const range = dataRange(bars);
  const window = { from, to };
  if (Number.isNaN(range.first) || from > range.last || to <= range.first) {
    throw new ConfigError([emptyWindowProblem(dir, range, window)]);
  }
  // From the data's start: the calibration learns from the first realised forecast on, as a replay does.
  const data = buildDataset(bars, { horizons: HORIZONS, calendar });
  // As the pipeline routes and widens: windows with an announcement after session 1 widened too.
  const model = routedModel(earningsInWindow(shipped.normal, shipped.manifest, calendar), shipped.earnings, calendar);
  const rows: CalibrationRow[] = [];
  for (const horizon of HORIZONS) {
    const bar = taskProgress(`forecasts at h${horizon}`, 'examples');
    const scored = await scoreModel(model, data, {
      horizon,
      from: Number.NEGATIVE_INFINITY,
      to,
      onProgress: (d, t) => bar.update(d, t),
    });
    bar.stop();
    for (const s of scored) {
      rows.push({ ts: s.ts, horizon, regime: s.earnings ? 'earnings' : 'normal', ...pick(s) });
    }
  }
  const issued = replayCalibration(rows, { eta });
  const cells = coverageTable(rows, issued, { from, to });
  if (cells.length === 0) throw new ConfigError([emptyWindowProblem(dir, range, window)]);
  const first = rows.reduce((m, r) => Math.min(m, r.ts), Number.POSITIVE_INFINITY);
  io.err(
    `calibration: ${bars.size} symbols (${rejected} broken rows skipped), ${rows.length.toLocaleString('en-US')} forecasts replayed from ${isoDay(first)}, scored from ${isoDay(from)}${Number.isFinite(to) ? ` to ${isoDay(to - 86_400_000)}` : ''}`,
  );
  io.out(
    `\ncoverage of the 80% interval, ${isoDay(from)} on (the calibration learns from the data's start; η = ${eta}, step ${eta}/√h)`,
  );
  printTable(
    ['horizon', 'days', 'n', "models' own", 'calibrated', 'band', ''],
    cells.map((c) => [
      `h${c.horizon}`,
      c.regime,
      c.n.toLocaleString('en-US'),
      pct(c.raw),
      pct(c.calibrated),
      BANDS[c.regime]!.map((b) => `${(b * 100).toFixed(0)}%`).join('–'),
      c.inBand ? 'ok' : 'OUT',
    ]),
    io.out,
  );
  const quarters = quarterly(rows, issued, { from, to });
  io.out('\ncalibrated coverage per quarter, normal days');
  printTable(
    ['quarter', ...HORIZONS.map((h) => `h${h}`)],
    quarters.map((q) => [q.quarter, ...HORIZONS.map((h) => pct(q.coverage.get(h) ?? Number.NaN))]),
    io.out,
  );
  if (args.json) {
    io.out(
      JSON.stringify({
        command: 'calibration',
        data: dir,
        from: isoDay(from),
        eta,
        target: COVERAGE_TARGET,
        groups: cells.map((c) => ({ ...c, raw: round(c.raw), calibrated: round(c.calibrated) })),
        allInBand: cells.every((c) => c.inBand),
      }),
    );
  }
  const out = cells.filter((c) => !c.inBand);
  if (out.length === 0) return 0;
  io.err(
    `tickcast calibration: coverage out of band in ${out.length} of ${cells.length} groups: ${out
      .map((c) => `h${c.horizon} ${c.regime} ${pct(c.calibrated)} (band ${BANDS[c.regime]!.map(pct).join('–')})`)
      .join(', ')}`,
  );
  return 1;
}

function pick(s: { actual: number; predicted: number; lower: number; upper: number }) {
  return { actual: s.actual, predicted: s.predicted, lower: s.lower, upper: s.upper };
}

/** Calibrated coverage of normal-day forecasts per calendar quarter of the input day. */
function quarterly(
  rows: readonly CalibrationRow[],
  issued: ReadonlyArray<{ inside: boolean }>,
  window: { from: number; to: number },
): Array<{ quarter: string; coverage: Map<number, number> }> {
  const byQuarter = new Map<string, Map<number, [number, number]>>();
  rows.forEach((r, i) => {
    if (r.regime !== 'normal' || r.ts < window.from || r.ts >= window.to) return;
    const d = new Date(r.ts);
    const quarter = `${d.getUTCFullYear()} Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
    const q = byQuarter.get(quarter) ?? new Map<number, [number, number]>();
    byQuarter.set(quarter, q);
    const c = q.get(r.horizon) ?? [0, 0];
    q.set(r.horizon, c);
    c[0]++;
    if (issued[i]!.inside) c[1]++;
  });
  return [...byQuarter.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([quarter, q]) => ({ quarter, coverage: new Map([...q].map(([h, [n, k]]) => [h, k / n])) }));
}

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-');
const round = (x: number) => Number(x.toFixed(4));
