// Rank IC experiments (issue 13 §4): small quantile nets trained on the bundled tickers with
// cross-sectional transforms, scored by rank IC at h1 (and h5 over non-overlapping dates) on the
// bundled test window and on the shared 404 tickers over the same window (symbols never trained on).
// `npx tsx scripts/rank-ic-experiments.ts [--kind linear|mlp] [--only name,name] [--seeds 1]`
// One config at a time; two shared cores make every net slow, so the set is small.
import { parseArgs } from 'node:util';
import { loadDailyBars } from '../models/daily-csv.js';
import { buildDataset, type Dataset, type Example } from '../models/dataset.js';
import { loadEarningsCalendar } from '../models/earnings-calendar.js';
import { demeanByDay, toMatrix } from '../models/matrix.js';
import { dailyRankIcs, icStats, type Scored } from '../models/metrics.js';
import { predictMean, type QuantileNet, trainQuantileNet } from '../models/quantile-net.js';

const HORIZONS = [1, 5, 21];
const EARNINGS = 'data/earnings/earnings_dates_eps_2013-2018-02-07_daniel-bassett.csv';
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
// The windows of `tickcast train` (training targets end before validation) and `tickcast evaluate`.
const TRAIN_UNTIL = day('2016-06-03');
const VALID = { from: day('2016-07-05'), to: day('2017-01-03') };
const TEST_FROM = day('2017-02-08');

const { values: args } = parseArgs({
  options: {
    kind: { type: 'string', default: 'mlp' },
    only: { type: 'string' },
    seeds: { type: 'string', default: '1' },
  },
});

/** Per day, each column's cross-sectional rank mapped to [−1.73, 1.73] (Qlib's CSRankNorm: uniform, σ 1); NaN stays. */
function rankNormByDay(rows: readonly Example[], x: Float32Array, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  forEachDay(rows, (start, end) => {
    const idx: number[] = [];
    for (let c = 0; c < cols; c++) {
      idx.length = 0;
      for (let r = start; r < end; r++) {
        if (Number.isFinite(x[r * cols + c]!)) idx.push(r);
        else out[r * cols + c] = Number.NaN;
      }
      idx.sort((a, b) => x[a * cols + c]! - x[b * cols + c]!);
      const n = idx.length;
      idx.forEach((r, i) => {
        out[r * cols + c] = n > 1 ? (i / (n - 1) - 0.5) * 3.46 : 0;
      });
    }
  });
  return out;
}

/** Targets replaced by their cross-sectional rank per day and horizon (same map as above): a ranking target. */
function rankTargetsByDay(rows: readonly Example[], y: Float32Array, H: number): Float32Array {
  return rankNormByDay(rows, y, H);
}

function forEachDay(rows: readonly Example[], f: (start: number, end: number) => void) {
  for (let start = 0; start < rows.length; ) {
    let end = start;
    while (end < rows.length && rows[end]!.ts === rows[start]!.ts) end++;
    f(start, end);
    start = end;
  }
}

interface Config {
  name: string;
  features: 'raw' | 'rank';
  targets: 'raw' | 'demean' | 'rank';
}

const CONFIGS: Config[] = [
  { name: 'raw', features: 'raw', targets: 'raw' },
  { name: 'demean', features: 'raw', targets: 'demean' },
  { name: 'rankTarget', features: 'raw', targets: 'rank' },
  { name: 'rankFeat', features: 'rank', targets: 'raw' },
  { name: 'rankFeat+demean', features: 'rank', targets: 'demean' },
  { name: 'rankFeat+rankTarget', features: 'rank', targets: 'rank' },
];

function matrices(rows: readonly Example[], c: Config) {
  const m = toMatrix(rows);
  if (c.features === 'rank') m.x = rankNormByDay(rows, m.x, m.cols);
  if (c.targets === 'demean') m.y = demeanByDay(rows, m.y, m.horizons);
  if (c.targets === 'rank') m.y = rankTargetsByDay(rows, m.y, m.horizons);
  return m;
}

/** Rank IC and t at h1 over every date, and at h5 over every 5th date, of the nets' mean median. */
function score(nets: readonly QuantileNet[], rows: readonly Example[], c: Config) {
  const m = matrices(rows, { ...c, targets: 'raw' });
  const q = predictMean(nets, m.x, m.rows);
  const H = HORIZONS.length;
  const at = (hi: number, every: number) => {
    const scored: Scored[] = [];
    rows.forEach((e, r) => {
      const actual = e.targets[hi]!;
      if (!Number.isFinite(actual) || e.earnings) return;
      const predicted = q[(r * H + hi) * 3 + 1]!;
      scored.push({ ts: e.ts, actual, predicted, lower: predicted, upper: predicted });
    });
    return icStats(dailyRankIcs(scored), every);
  };
  return { h1: at(0, 1), h5: at(1, 5) };
}

async function dataset(dir: string, window?: { from: number; to: number }): Promise<Dataset> {
  const { bars } = await loadDailyBars(dir);
  const calendar = await loadEarningsCalendar(EARNINGS);
  return buildDataset(bars, { horizons: HORIZONS, calendar, ...(window && { window }) });
}

const bundled = await dataset('data/sp500-daily');
const shared = await dataset('/work/shared/data/sp500-daily-2013-2018', {
  from: TEST_FROM,
  to: Number.POSITIVE_INFINITY,
});
const inWindow = (from: number, to: number) => (e: Example) => e.ts >= from && e.ts < to;
const trainRows = bundled.examples.filter(inWindow(0, TRAIN_UNTIL));
const validRows = bundled.examples.filter(inWindow(VALID.from, VALID.to));
const testRows = bundled.examples.filter(inWindow(TEST_FROM, Number.POSITIVE_INFINITY));
// Only the shared tickers outside the bundled 50: symbols the nets never saw.
const seen = new Set(bundled.examples.map((e) => e.symbol));
const sharedRows = shared.examples.filter((e) => !seen.has(e.symbol));
console.error(
  `train ${trainRows.length}, validation ${validRows.length}, test ${testRows.length}, shared test ${sharedRows.length}`,
);

const seeds = Array.from({ length: Number(args.seeds) }, (_, i) => 42 + i);
const fmt = (s: { ic: number; t: number }) => `${s.ic.toFixed(4)} (${s.t.toFixed(2)})`;
console.log(
  `| kind | config | seeds | validation h1 IC (t) | bundled test h1 | shared test h1 | bundled h5 (1 in 5) | shared h5 (1 in 5) |`,
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const c of CONFIGS.filter((c) => !args.only || args.only.split(',').includes(c.name))) {
  const train = matrices(trainRows, c);
  const valid = matrices(validRows, c);
  const nets: QuantileNet[] = [];
  for (const seed of seeds) {
    const spec =
      args.kind === 'linear'
        ? { kind: 'linear' as const, l2: 1e-3, epochs: 12, batchSize: 2048, learningRate: 0.01 }
        : { kind: 'mlp' as const, hidden: [32, 16], dropout: 0.1, l2: 1e-4, epochs: 12, batchSize: 2048 };
    nets.push(
      await trainQuantileNet(
        train.x,
        train.rows,
        train.cols,
        train.y,
        { ...spec, horizons: HORIZONS, seed },
        {
          validation: { x: valid.x, rows: valid.rows, y: valid.y },
          earlyStoppingPatience: 3,
        },
      ),
    );
  }
  const v = score(nets, validRows, c);
  const b = score(nets, testRows, c);
  const s = score(nets, sharedRows, c);
  console.log(
    `| ${args.kind} | ${c.name} | ${seeds.length} | ${fmt(v.h1)} | ${fmt(b.h1)} | ${fmt(s.h1)} | ${fmt(b.h5)} | ${fmt(s.h5)} |`,
  );
}
