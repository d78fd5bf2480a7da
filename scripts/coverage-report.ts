// Prints the merged coverage (scripts/test-coverage.sh) per folder — lines and branches — then the
// total against the targets, and last one JSON line. Exit 1 below target with --enforce.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { printTable } from '../cli/table.js';

const TARGET = { lines: 80, branches: 70 };
const ROOT = new URL('..', import.meta.url).pathname;

interface Totals {
  total: number;
  covered: number;
}
type Summary = Record<string, { lines: Totals; branches: Totals }>;

const summary = JSON.parse(readFileSync(`${ROOT}.tmp/coverage/coverage-summary.json`, 'utf8')) as Summary;
const folders = new Map<string, { lines: Totals; branches: Totals; files: number }>();
const add = (a: Totals, b: Totals) => {
  a.total += b.total;
  a.covered += b.covered;
};
for (const [file, s] of Object.entries(summary)) {
  if (file === 'total') continue;
  const parts = relative(ROOT, file).split('/');
  const folder = parts[0] === 'ui' ? 'ui/src/lib' : (parts[0] ?? '?');
  const f = folders.get(folder) ?? { lines: { total: 0, covered: 0 }, branches: { total: 0, covered: 0 }, files: 0 };
  add(f.lines, s.lines);
  add(f.branches, s.branches);
  f.files++;
  folders.set(folder, f);
}
const pct = (t: Totals) => (t.total === 0 ? 100 : (100 * t.covered) / t.total);
const total = summary.total!;
printTable(
  ['folder', 'files', 'lines', 'lines %', 'branches', 'branches %'],
  [
    ...[...folders.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, f]) => [
        name,
        String(f.files),
        `${f.lines.covered}/${f.lines.total}`,
        pct(f.lines).toFixed(1),
        `${f.branches.covered}/${f.branches.total}`,
        pct(f.branches).toFixed(1),
      ]),
    [
      'total',
      String(Object.keys(summary).length - 1),
      `${total.lines.covered}/${total.lines.total}`,
      pct(total.lines).toFixed(1),
      `${total.branches.covered}/${total.branches.total}`,
      pct(total.branches).toFixed(1),
    ],
  ],
);
const lines = Math.round(pct(total.lines) * 10) / 10;
const branches = Math.round(pct(total.branches) * 10) / 10;
const met = lines >= TARGET.lines && branches >= TARGET.branches;
console.log(`target: ≥ ${TARGET.lines}% lines, ≥ ${TARGET.branches}% branches: ${met ? 'met' : 'NOT met'}`);
console.log(JSON.stringify({ lines, branches, target: TARGET, met }));
if (!met && process.argv.includes('--enforce')) process.exitCode = 1;
