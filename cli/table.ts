// Plain-text tables for the terminal: columns padded to their widest cell.
export function printTable(
  header: string[],
  rows: string[][],
  out: (line: string) => void = (l) => console.log(l),
): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  out(fmt(header));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) out(fmt(r));
}
