// Forecast quality, all in terms a trader reads: MAE in % of price, against persistence
// (tomorrow = today), direction hit rate, cross-sectional rank IC, interval coverage, pinball loss.

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
  /** Mean over days of the Spearman correlation of predicted and actual returns across symbols; NaN if undefined. */
  rankIc: number;
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
  let covered = 0;
  let loss = 0;
  for (const r of rows) {
    mae += Math.abs(pct(r.predicted) - pct(r.actual));
    maeP += Math.abs(pct(r.actual));
    if (r.predicted !== 0 && r.actual !== 0) {
      directional++;
      if (Math.sign(r.predicted) === Math.sign(r.actual)) hits++;
    }
    if (r.lower <= r.actual && r.actual <= r.upper) covered++;
    loss +=
      (pinball(r.actual, r.lower, 0.1) + pinball(r.actual, r.predicted, 0.5) + pinball(r.actual, r.upper, 0.9)) / 3;
  }
  const n = rows.length;
  return {
    n,
    mae: mae / n,
    maePersistence: maeP / n,
    maeRatio: mae / maeP,
    hitRate: directional ? hits / directional : Number.NaN,
    rankIc: rankIc(rows),
    coverage80: covered / n,
    pinball: loss / n,
  };
}

/** Mean daily Spearman correlation; days with fewer than 5 symbols or no spread are skipped. */
export function rankIc(rows: readonly Scored[]): number {
  const byDay = new Map<number, Scored[]>();
  for (const r of rows) {
    const list = byDay.get(r.ts);
    if (list) list.push(r);
    else byDay.set(r.ts, [r]);
  }
  let sum = 0;
  let days = 0;
  for (const list of byDay.values()) {
    if (list.length < 5) continue;
    const ic = pearson(ranks(list.map((r) => r.predicted)), ranks(list.map((r) => r.actual)));
    if (Number.isFinite(ic)) {
      sum += ic;
      days++;
    }
  }
  return days ? sum / days : Number.NaN;
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
