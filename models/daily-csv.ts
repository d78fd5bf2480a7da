// Per-ticker daily OHLCV CSVs (`date,open,high,low,close,volume[,Name]`, ticker from Name or
// from the file name without `_data`): parsed once here for the replay source and training.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type Bar, type Quote, schemas } from '../schemas/index.js';
import {
  csvRecords,
  decodeUtf8,
  parseIsoDay,
  splitCsvLine,
  stripCr,
  textProblem,
  unreadableFile,
} from './csv-lines.js';

/** Quotes are stamped 21:00 UTC: at or after the 16:00 New York close in both EST and EDT. */
export const CLOSE_OFFSET_MS = 21 * 3_600_000;
const NUMERIC = ['open', 'high', 'low', 'close', 'volume'] as const;

export interface DailyRow {
  /** The trading day, 00:00 UTC. */
  day: number;
  quote: Quote;
}

/** A row as read from a file: where it is (1-based line) and the line as written (a dead letter's payload). */
export interface CsvDailyRow extends DailyRow {
  line: number;
  raw: string;
}

/** The .csv files of a folder, sorted; an error naming the folder when there are none. */
export async function listCsvFiles(dir: string, who: string): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.toLowerCase().endsWith('.csv')).sort();
  if (files.length === 0) throw new Error(`${who}: no .csv files in ${dir}`);
  return files;
}

/** What a file-level or row-level problem is reported with: 1-based line, reason, the raw line (or bytes). */
export type RejectRow = (line: number, reason: string, raw: string | Buffer) => void;

/**
 * A listed CSV's bytes, or null once `reject` has been told (line 1) why it cannot be read: a
 * folder named `X.csv`, no read permission, a dangling link, gone since the listing. The other
 * files are still read; an error that is not about this one file (e.g. out of memory) is thrown.
 */
export async function readCsvFile(path: string, reject: RejectRow): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (e) {
    const reason = unreadableReason(e);
    if (reason === undefined) throw e;
    reject(1, reason, Buffer.alloc(0));
    return null;
  }
}

const UNREADABLE: Record<string, string> = {
  EISDIR: 'is a directory, not a file',
  EACCES: 'cannot be read: permission denied',
  EPERM: 'cannot be read: operation not permitted',
  ENOENT: 'cannot be read: it does not exist (a dangling link, or removed while the folder was read)',
  ELOOP: 'cannot be read: too many levels of symbolic links',
  EIO: 'cannot be read: I/O error',
  ENXIO: 'cannot be read: no such device',
  ETIMEDOUT: 'cannot be read: timed out',
};

function unreadableReason(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const reason = code === undefined ? undefined : UNREADABLE[code];
  return reason === undefined ? undefined : `${reason} (${code})`;
}

/** How many bytes of an unreadable file its one dead letter carries. */
const UNREADABLE_PAYLOAD_BYTES = 4096;

/**
 * Parses one ticker's CSV, record by record: a row that cannot become a valid quote (a stray
 * quote, a wrong field count, an empty cell, an impossible date, a non-number, bytes that are
 * not UTF-8) is reported through `reject` (line number, reason, raw line) and skipped, and the
 * rest of the file is read. A file that is not CSV text at all (empty, binary) or whose header
 * lacks a column is one rejection (line 1) and gives no rows. Never throws on bad content.
 */
export function parseDailyCsv(content: Buffer | string, fallbackTicker: string, reject: RejectRow): CsvDailyRow[] {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const unreadable = unreadableFile(bytes);
  if (unreadable) {
    reject(1, unreadable, bytes.subarray(0, UNREADABLE_PAYLOAD_BYTES));
    return [];
  }
  const lines = decodeUtf8(bytes).split('\n');
  const headerLine = stripCr(lines[0]!);
  const headerFields = splitCsvLine(headerLine);
  const header = typeof headerFields === 'string' ? [] : headerFields.map((h) => h.trim().toLowerCase());
  const col = Object.fromEntries(header.map((h, i) => [h, i]));
  const missing = ['date', ...NUMERIC].filter((c) => col[c] === undefined);
  if (missing.length > 0) {
    reject(1, `header lacks ${missing.join(', ')} (need date,open,high,low,close,volume[,Name])`, headerLine);
    return [];
  }
  const rows: CsvDailyRow[] = [];
  // Prices hold no line breaks: a quote left open is a stray one, the record is its line.
  for (const { line, raw, fields } of csvRecords(lines, { start: 1, fields: header.length, maxContinuation: 0 })) {
    const row = readRow(fields, line, raw, header.length, col, fallbackTicker);
    if (typeof row === 'string') reject(line, row, raw);
    else rows.push(row);
  }
  return rows;
}

/** One record → its row, or the reasons it is bad (joined by `; `). */
function readRow(
  fields: string[] | string,
  line: number,
  raw: string,
  width: number,
  col: { [name: string]: number },
  fallbackTicker: string,
): CsvDailyRow | string {
  if (typeof fields === 'string') return fields;
  if (fields.length !== width) return `has ${fields.length} fields, expected ${width}`;
  const garbage = textProblem(raw);
  if (garbage) return garbage;
  const day = parseIsoDay((fields[col.date!] ?? '').trim());
  if (typeof day === 'string') return day;
  const values: { [k: string]: number } = {};
  const problems: string[] = [];
  for (const c of NUMERIC) {
    const cell = (fields[col[c]!] ?? '').trim();
    values[c] = cell === '' ? Number.NaN : Number(cell);
    if (cell === '') problems.push(`${c} is empty`);
    else if (Number.isNaN(values[c])) problems.push(`${c} ${JSON.stringify(cell)} is not a number`);
  }
  if (problems.length > 0) return problems.join('; ');
  const symbol = (col.name !== undefined ? fields[col.name]?.trim() : '') || fallbackTicker;
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
  if (invalid.length > 0) return invalid.join('; ');
  return { day, quote, line, raw };
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
      const bytes = await readCsvFile(join(dir, file), () => rejected++);
      const rows = bytes ? parseDailyCsv(bytes, fallback, () => rejected++) : [];
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
