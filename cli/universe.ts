// The live source's universe (TICKCAST_SYMBOLS): a comma-separated list of tickers, or a file of
// them (a CSV with a `symbol` column, such as data/universe/sp500-constituents.csv, or one ticker
// a line). Tickers are upper-cased and checked like every record's symbol (schemas/rules.ts);
// Yahoo spells share classes with a dash (BRK-B), so a dot is turned into one (BRK.B → BRK-B).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { SYMBOL_PATTERN } from '../schemas/rules.js';
import { ConfigError } from './config.js';

/** Looks like a file name rather than a ticker list: a path separator or a file extension. */
function looksLikeFile(value: string): boolean {
  return /[/\\]/.test(value) || /\.(csv|txt|tsv|list)$/i.test(value);
}

/** The universe named by `value` (TICKCAST_SYMBOLS or --symbols); a bad one is a ConfigError naming `variable`. */
export function loadUniverse(value: string, variable = 'TICKCAST_SYMBOLS'): string[] {
  const bad = (why: string) => new ConfigError([`${variable}=${JSON.stringify(value)}: ${why}`]);
  let raw: string[];
  if (existsSync(value) && statSync(value).isFile()) {
    const text = readFileSync(value, 'utf8');
    const rows = parse(text, { skip_empty_lines: true, trim: true, bom: true, relax_column_count: true }) as string[][];
    const column = rows[0]?.findIndex((h) => /^(symbol|ticker)$/i.test(h)) ?? -1;
    raw = column >= 0 ? rows.slice(1).map((r) => r[column] ?? '') : rows.map((r) => r[0] ?? '');
  } else if (looksLikeFile(value)) {
    throw bad('no such file (a file of tickers, or a comma-separated list such as AAPL,MSFT)');
  } else {
    raw = value.split(',');
  }
  const symbols: string[] = [];
  const problems: string[] = [];
  for (const r of raw) {
    const s = r
      .trim()
      .toUpperCase()
      .replace(/^([A-Z]+)\.([A-Z])$/, '$1-$2');
    if (s === '') continue;
    if (!SYMBOL_PATTERN.test(s)) problems.push(JSON.stringify(r.trim()));
    else if (!symbols.includes(s)) symbols.push(s);
  }
  if (problems.length > 0) {
    throw bad(
      `not tickers: ${problems.slice(0, 5).join(', ')}${problems.length > 5 ? ` and ${problems.length - 5} more` : ''}`,
    );
  }
  if (symbols.length === 0) throw bad('no tickers in it');
  return symbols;
}
