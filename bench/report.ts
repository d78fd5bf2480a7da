// How every bench prints its figures: a metric / value / target table (the JSON line comes last,
// printed by each bench), and the rounding the figures share.

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Rows of [metric, value, target]; the metric column is as wide as its longest name. */
export function printMetrics(rows: ReadonlyArray<readonly [string, string, string]>): void {
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'metric'.padEnd(w)}  ${'value'.padStart(10)}  target`);
  for (const [k, v, target] of rows) console.log(`${k.padEnd(w)}  ${v.padStart(10)}  ${target}`);
}

/**
 * A status line on stderr: rewritten in place on a terminal, else a line every `everyMs` (10 s;
 * and the last, `final`), so a CI log shows progress without thousands of lines.
 */
export function statusLine(everyMs = 10_000): (line: string, final?: boolean) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  return (line, final = false) => {
    if (tty) process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    else if (final || performance.now() - last > everyMs) {
      last = final ? 0 : performance.now();
      process.stderr.write(`${line}\n`);
    }
  };
}
