// Per-ticker daily OHLCV CSVs (`date,open,high,low,close,volume[,Name]`, ticker from Name or
// from the file name without `_data`): parsed once here for the replay source and training.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { type Bar, type Quote, schemas } from '../schemas/index.js';

/** Quotes are stamped 21:00 UTC: at or after the 16:00 New York close in both EST and EDT. */
export const CLOSE_OFFSET_MS = 21 * 3_600_000;
const NUMERIC = ['open', 'high', 'low', 'close', 'volume'] as const;

export interface DailyRow {
  /** The trading day, 00:00 UTC. */
  day: number;
  quote: Quote;
}

/** The .csv files of a folder, sorted; an error naming the folder when there are none. */
export async function listCsvFiles(dir: string, who: string): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.toLowerCase().endsWith('.csv')).sort();
  if (files.length === 0) throw new Error(`${who}: no .csv files in ${dir}`);
  return files;
}

/**
 * Parses one ticker's CSV. Rows that cannot become a valid quote are reported through
 * `reject` (line number, reason, raw text) and skipped; the rest are returned.
 */
export function parseDailyCsv(
  text: string,
  fallbackTicker: string,
  reject: (line: number, reason: string, raw: string) => void,
): DailyRow[] {
  const records = parse(text, {
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
    raw: true,
  }) as unknown as Array<{
    record: string[];
    info: { lines: number };
    raw: string;
  }>;
  const header = records.shift()?.record.map((h) => h.trim().toLowerCase()) ?? [];
  const col = Object.fromEntries(header.map((h, i) => [h, i]));
  const missing = ['date', ...NUMERIC].filter((c) => col[c] === undefined);
  if (missing.length > 0) {
    reject(
      1,
      `header lacks ${missing.join(', ')} (need date,open,high,low,close,volume[,Name])`,
      text.split('\n')[0] ?? '',
    );
    return [];
  }
  const rows: DailyRow[] = [];
  for (const { record, info, raw } of records) {
    const line = info.lines;
    const rawLine = raw.replace(/\r?\n$/, '');
    if (record.length !== header.length) {
      reject(line, `has ${record.length} fields, expected ${header.length}`, rawLine);
      continue;
    }
    const day = Date.parse(`${record[col.date!]}T00:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(record[col.date!] ?? '') || Number.isNaN(day)) {
      reject(line, `date ${JSON.stringify(record[col.date!])} is not YYYY-MM-DD`, rawLine);
      continue;
    }
    const values: { [k: string]: number } = {};
    const problems: string[] = [];
    for (const c of NUMERIC) {
      const cell = (record[col[c]!] ?? '').trim();
      values[c] = cell === '' ? Number.NaN : Number(cell);
      if (cell === '') problems.push(`${c} is empty`);
      else if (Number.isNaN(values[c])) problems.push(`${c} ${JSON.stringify(cell)} is not a number`);
    }
    if (problems.length > 0) {
      reject(line, problems.join('; '), rawLine);
      continue;
    }
    const symbol = (col.name !== undefined ? record[col.name]?.trim() : '') || fallbackTicker;
    const quote: Quote = {
      symbol,
      ts: day + CLOSE_OFFSET_MS,
      price: values.close!,
      dayOpen: values.open!,
      dayHigh: values.high!,
      dayLow: values.low!,
      dayVolume: values.volume!,
      source: 'replay',
    };
    const invalid = schemas.Quote.validate(quote);
    if (invalid.length > 0) {
      reject(line, invalid.join('; '), rawLine);
      continue;
    }
    rows.push({ day, quote });
  }
  return rows;
}

/** AAPL_data.csv → AAPL; msft.csv → MSFT. */
export function tickerFromFileName(file: string): string {
  return basename(file, '.csv')
    .replace(/_data$/i, '')
    .toUpperCase();
}

/** A daily bar from a parsed row (a replayed row becomes exactly this bar in the pipeline). */
export function barOf(row: DailyRow): Bar {
  const q = row.quote;
  return {
    symbol: q.symbol,
    ts: row.day,
    interval: '1d',
    open: q.dayOpen ?? q.price,
    high: Math.max(q.price, q.dayHigh ?? q.price),
    low: Math.min(q.price, q.dayLow ?? q.price),
    close: q.price,
    volume: q.dayVolume ?? 0,
    quotes: 1,
    source: q.source,
  };
}

/**
 * Every ticker's daily bars, oldest first, from a folder of CSVs. Broken rows are skipped (and
 * counted in `rejected`), duplicates of a day keep the first row, as the replay does.
 */
export async function loadDailyBars(
  dir: string,
  opts: { symbols?: readonly string[]; onFile?: (done: number, total: number) => void } = {},
): Promise<{ bars: Map<string, Bar[]>; rejected: number }> {
  const files = await listCsvFiles(dir, 'load');
  const wanted = opts.symbols ? new Set(opts.symbols) : null;
  const bars = new Map<string, Bar[]>();
  let rejected = 0;
  for (const [i, file] of files.entries()) {
    const fallback = tickerFromFileName(file);
    if (!wanted || wanted.has(fallback)) {
      const rows = parseDailyCsv(await readFile(join(dir, file), 'utf8'), fallback, () => rejected++);
      for (const row of rows) {
        const list = bars.get(row.quote.symbol) ?? [];
        if (list.length === 0) bars.set(row.quote.symbol, list);
        list.push(barOf(row));
      }
    }
    opts.onFile?.(i + 1, files.length);
  }
  for (const [symbol, list] of bars) {
    list.sort((a, b) => a.ts - b.ts);
    bars.set(
      symbol,
      list.filter((b, i) => i === 0 || b.ts !== list[i - 1]!.ts),
    );
  }
  return { bars, rejected };
}
