// How every bench prints its figures: a metric / value / target table (the JSON line comes last,
// printed by each bench), and the rounding the figures share.

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Rows of [metric, value, target]; the metric column is as wide as its longest name. */
export function printMetrics(rows: ReadonlyArray<readonly [string, string, string]>): void {
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'metric'.padEnd(w)}  ${'value'.padStart(10)}  target`);
  for (const [k, v, target] of rows) console.log(`${k.padEnd(w)}  ${v.padStart(10)}  ${target}`);
}
