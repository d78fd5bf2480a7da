// Forecast quality, all in terms a trader reads: MAE in % of price, against persistence
// (tomorrow = today), direction hit rate beside always-up's, cross-sectional rank IC with its
// t-statistic (overall, over non-overlapping dates, per year), interval coverage, pinball loss.

export interface Scored {
  ts: number;
  /** Realised log return. */
  actual: number;
  /** Predicted median log return and the 0.1 / 0.9 quantiles. */
  predicted: number;
  lower: number;
  upper: number;
}

export interface Metrics {
  n: number;
  /** Mean |predicted close − actual close| as % of the last close. */
  mae: number;
  /** The same for persistence (predicted close = last close). */
  maePersistence: number;
  maeRatio: number;
  /** Share of rows where the predicted direction was right (rows predicting no move left out); NaN if none. */
  hitRate: number;
  /** The hit rate of always forecasting "up": the share of rows that moved whose actual return was up. */
  hitRateAlwaysUp: number;
  /** Mean over days of the Spearman correlation of predicted and actual returns across symbols; NaN if undefined. */
  rankIc: number;
  /** rankIc ÷ (σ of the daily ICs ÷ √days): above 2, the daily ICs are unlikely to average 0 by chance. */
  rankIcT: number;
  /** Share of actual returns inside [lower, upper] (nominal 80%). */
  coverage80: number;
  /** Mean pinball loss over the 0.1, 0.5, 0.9 quantiles, in % of price. */
  pinball: number;
}

const pct = (logReturn: number) => Math.expm1(logReturn) * 100;

function pinball(actual: number, q: number, tau: number): number {
  const d = pct(actual) - pct(q);
  return d >= 0 ? tau * d : (tau - 1) * d;
}

export function score(rows: readonly Scored[]): Metrics {
  let mae = 0;
  let maeP = 0;
  let hits = 0;
  let directional = 0;
  let ups = 0;
  let moved = 0;
  let covered = 0;
  let loss = 0;
  for (const r of rows) {
    mae += Math.abs(pct(r.predicted) - pct(r.actual));
    maeP += Math.abs(pct(r.actual));
    if (r.actual !== 0) {
      moved++;
      if (r.actual > 0) ups++;
      if (r.predicted !== 0) {
        directional++;
        if (Math.sign(r.predicted) === Math.sign(r.actual)) hits++;
      }
    }
    if (r.lower <= r.actual && r.actual <= r.upper) covered++;
    loss +=
      (pinball(r.actual, r.lower, 0.1) + pinball(r.actual, r.predicted, 0.5) + pinball(r.actual, r.upper, 0.9)) / 3;
  }
  const n = rows.length;
  const ic = icStats(dailyRankIcs(rows));
  return {
    n,
    mae: mae / n,
    maePersistence: maeP / n,
    maeRatio: mae / maeP,
    hitRate: directional ? hits / directional : Number.NaN,
    hitRateAlwaysUp: moved ? ups / moved : Number.NaN,
    rankIc: ic.ic,
    rankIcT: ic.t,
    coverage80: covered / n,
    pinball: loss / n,
  };
}

/** Mean daily Spearman correlation; days with fewer than 5 symbols or no spread are skipped. */
export function rankIc(rows: readonly Scored[]): number {
  return icStats(dailyRankIcs(rows)).ic;
}

/** One day's cross-sectional Spearman correlation of predicted and actual returns. */
export interface DailyIc {
  ts: number;
  ic: number;
}

/**
 * The rank IC of every day in `rows`, oldest first: NaN on a day with fewer than 5 symbols or no
 * spread in either ranking (kept, so that sampling every h-th date counts dates, not valid ICs).
 */
export function dailyRankIcs(rows: readonly Scored[]): DailyIc[] {
  const byDay = new Map<number, Scored[]>();
  for (const r of rows) {
    const list = byDay.get(r.ts);
    if (list) list.push(r);
    else byDay.set(r.ts, [r]);
  }
  return [...byDay]
    .sort((a, b) => a[0] - b[0])
    .map(([ts, list]) => ({
      ts,
      ic: list.length < 5 ? Number.NaN : pearson(ranks(list.map((r) => r.predicted)), ranks(list.map((r) => r.actual))),
    }));
}

export interface IcStats {
  /** Mean of the daily ICs that are defined; NaN if none. */
  ic: number;
  /** ic ÷ (sample σ of the daily ICs ÷ √dates); NaN with fewer than 2 dates or no spread. */
  t: number;
  /** Dates with a defined IC. */
  dates: number;
}

/**
 * Mean and t-statistic of daily ICs. `every` > 1 keeps every `every`-th date (the first, the
 * (every+1)-th, …): h-day returns of consecutive dates overlap by h − 1 days, so their ICs are
 * correlated and a t over all dates overstates the evidence (by up to about √h); every h-th date
 * gives independent targets.
 */
export function icStats(daily: readonly DailyIc[], every = 1): IcStats {
  if (!(Number.isInteger(every) && every >= 1))
    throw new RangeError(`icStats: every must be an integer >= 1, got ${every}`);
  const ics = daily.filter((_, i) => i % every === 0 && Number.isFinite(daily[i]!.ic)).map((d) => d.ic);
  const n = ics.length;
  if (n === 0) return { ic: Number.NaN, t: Number.NaN, dates: 0 };
  const mean = ics.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(ics.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : Number.NaN;
  return { ic: mean, t: sd > 0 ? mean / (sd / Math.sqrt(n)) : Number.NaN, dates: n };
}

/** icStats per calendar year (UTC), oldest first; `every` samples the whole series first, as icStats does. */
export function icByYear(daily: readonly DailyIc[], every = 1): Array<{ year: number } & IcStats> {
  const years = new Map<number, DailyIc[]>();
  for (const d of daily.filter((_, i) => i % every === 0)) {
    const year = new Date(d.ts).getUTCFullYear();
    const list = years.get(year);
    if (list) list.push(d);
    else years.set(year, [d]);
  }
  return [...years].sort((a, b) => a[0] - b[0]).map(([year, list]) => ({ year, ...icStats(list) }));
}

/** Average ranks (ties share their mean rank). */
export function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) out[order[k]![1]] = (i + j) / 2;
    i = j + 1;
  }
  return out;
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    cov += (a[i]! - ma) * (b[i]! - mb);
    va += (a[i]! - ma) ** 2;
    vb += (b[i]! - mb) ** 2;
  }
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : Number.NaN;
}
