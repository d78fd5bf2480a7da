// CSV files read record by record, so one bad line costs that line only: a record is one line
// unless a quoted field spans lines (bounded, and never across a line that is a whole record on
// its own, which makes the quote a stray one). Used by the price files (daily-csv.ts) and the
// headline files (operators/sources/news-formats.ts); both report bad records as `FILE:LINE: …`.
import { parse } from 'csv-parse/sync';

export const UNCLOSED_QUOTE = 'has a quote that is never closed';

/** One record: its 1-based first line, its text as read, and its fields or why it is not one. */
export interface CsvRecord {
  line: number;
  raw: string;
  fields: string[] | string;
}

/**
 * One CSV line → its fields, or why it is not one record. Lines without a quote character are
 * split on commas (what any CSV parser returns for them, and much faster); the others go
 * through csv-parse, with quotes inside unquoted fields taken literally.
 */
export function splitCsvLine(line: string): string[] | string {
  if (!line.includes('"')) return line.split(',');
  try {
    const records = parse(line, { relax_quotes: true, relax_column_count: true }) as string[][];
    if (records.length !== 1) return `is ${records.length} CSV records, not one`;
    return records[0]!;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'CSV_QUOTE_NOT_CLOSED') return UNCLOSED_QUOTE;
    return `is not valid CSV: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * The records of `lines` from index `start` (0-based; 1 skips a header), blank lines skipped.
 * `fields`: how many a record has (the header's count): a line whose quote stays open continues
 * on at most `maxContinuation` more lines while none of them is a whole record of that many fields.
 */
export function* csvRecords(
  lines: readonly string[],
  opts: { start: number; fields: number; maxContinuation: number },
): Generator<CsvRecord> {
  for (let i = opts.start; i < lines.length; ) {
    const first = stripCr(lines[i]!);
    const line = i + 1;
    i++;
    if (first.trim() === '') continue;
    let fields = splitCsvLine(first);
    let raw = first;
    if (fields === UNCLOSED_QUOTE) {
      const record = continuedRecord(first, lines, i, opts.fields, opts.maxContinuation);
      if (record) {
        ({ fields, raw } = record);
        i += record.lines - 1;
      }
    }
    yield { line, raw, fields };
  }
}

function continuedRecord(
  first: string,
  lines: readonly string[],
  next: number,
  expected: number,
  max: number,
): { fields: string[]; raw: string; lines: number } | null {
  let raw = first;
  for (let j = next; j < lines.length && j < next + max; j++) {
    const line = stripCr(lines[j]!);
    const alone = splitCsvLine(line);
    if (typeof alone !== 'string' && alone.length === expected) return null;
    raw = `${raw}\n${line}`;
    const fields = splitCsvLine(raw);
    if (fields === UNCLOSED_QUOTE) continue;
    return typeof fields !== 'string' && fields.length === expected ? { fields, raw, lines: j - next + 2 } : null;
  }
  return null;
}

/**
 * Why a file's bytes are not CSV text at all (one dead letter for the whole file), else null:
 * empty, or NUL bytes in its first 8 KiB (binary data, or UTF-16 text; git's test for binary).
 */
export function unreadableFile(bytes: Buffer): string | null {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // a UTF-8 byte-order mark
  let text = start;
  while (text < bytes.length && WHITE_SPACE.has(bytes[text]!)) text++;
  if (text === bytes.length) return 'is empty: no header';
  if (bytes.subarray(0, 8192).includes(0)) {
    return `is not a text file: it holds NUL bytes (binary data, or UTF-16 text), ${bytes.length.toLocaleString('en-US')} bytes`;
  }
  return null;
}

const WHITE_SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** UTF-8 text without a byte-order mark; invalid sequences become U+FFFD (see `textProblem`). */
export function decodeUtf8(bytes: Buffer): string {
  return new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
}

/** Why a record's text is not clean text (bytes that were not UTF-8, control characters), else null. */
export function textProblem(raw: string): string | null {
  const garbage = /\uFFFD|[^\P{Cc}\t\n]/u.exec(raw);
  if (!garbage) return null;
  return garbage[0] === '\uFFFD'
    ? 'is not valid UTF-8'
    : `holds control character U+${garbage[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} (wrong encoding?)`;
}

/** True when y-m-d (month 1-based) is a day of the Gregorian calendar: no 2015-02-30, no month 13. */
export function isCalendarDay(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return y >= 1000 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * A `YYYY-MM-DD` cell → 00:00 UTC of that day, or why not: strictly that shape and a real
 * calendar day (Date.parse would roll 2015-02-30 over to 2015-03-02).
 */
export function parseIsoDay(cell: string): number | string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(cell);
  if (!m) return `date ${JSON.stringify(cell)} is not YYYY-MM-DD`;
  const [y, mo, d] = [+m[1]!, +m[2]!, +m[3]!];
  if (!isCalendarDay(y, mo, d)) return `date ${JSON.stringify(cell)} is not a calendar day`;
  return Date.UTC(y, mo - 1, d);
}

export function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
