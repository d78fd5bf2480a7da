// The three headline CSV formats the news source reads, told apart by their header:
//   finviz    `date,text,ticker`                                 date only (precision day)
//   reuters   `ticker name,Company name,date,title,Content,`     YYYYMMDD (day), latin-1 bytes
//   benzinga  `,title,date,stock`                                `2016-05-12 08:41:00-04:00` (minute)
// A file is read row by row (models/csv-lines.ts), a row being one line unless a quoted field
// spans lines, so a bad row (a stray quote, a wrong field count, an impossible date) costs that row only.
import { createHash } from 'node:crypto';
import { csvRecords, isCalendarDay, splitCsvLine, stripCr, textProblem } from '../../models/csv-lines.js';
import { newYorkOffset, newYorkTime } from '../../models/market-calendar.js';
import { type News, SYMBOL_PATTERN } from '../../schemas/index.js';

export type NewsPrecision = 'day' | 'minute';

export interface NewsFormat {
  /** `News.source` of its rows, and the first part of their ids. */
  readonly source: 'finviz' | 'reuters' | 'benzinga';
  /** The header row as published (compared trimmed and case-insensitively). */
  readonly header: readonly string[];
  /** How to decode a file of this format that is not valid UTF-8 (null: its bad rows go to the DLQ). */
  readonly fallbackEncoding: 'latin1' | null;
  /** The ticker's field, read first so rows of unwanted tickers skip every other check. */
  readonly tickerField: number;
  /** A row with the header's field count → the headline's fields, or the reasons it is bad. */
  readonly read: (fields: readonly string[]) => RowFields | string[];
}

interface RowFields {
  /** The publication date as the source gives it (New York date for day precision), YYYY-MM-DD. */
  date: string;
  ts: number;
  precision: NewsPrecision;
  headline: string;
  body: string | null;
}

export interface NewsRow {
  news: News;
  /** The headline's date at 00:00 UTC (what `from`/`to` filter on). */
  day: number;
  /** 1-based line in the file, and the line as read. */
  line: number;
  raw: string;
}

export interface ParsedNewsFile {
  /** null when the header matched no format (one dead letter says so). */
  format: NewsFormat | null;
  encoding: 'utf-8' | 'latin1';
  rows: NewsRow[];
}

/** How many more lines a quoted field may span (a headline with a stray line break). */
const MAX_CONTINUATION_LINES = 3;

export const NEWS_FORMATS: readonly NewsFormat[] = [
  {
    source: 'finviz',
    header: ['date', 'text', 'ticker'],
    fallbackEncoding: null,
    tickerField: 2,
    read: ([date, text]) => dayRow(date!, /^(\d{4})-(\d{2})-(\d{2})$/, 'YYYY-MM-DD', text!, null),
  },
  {
    source: 'reuters',
    header: ['ticker name', 'Company name', 'date', 'title', 'Content', ''],
    // The published file (kanwu10) is latin-1.
    fallbackEncoding: 'latin1',
    tickerField: 0,
    read: ([, , date, title, content]) => dayRow(date!, /^(\d{4})(\d{2})(\d{2})$/, 'YYYYMMDD', title!, content!),
  },
  {
    source: 'benzinga',
    header: ['', 'title', 'date', 'stock'],
    fallbackEncoding: null,
    tickerField: 3,
    read: ([, title, date]) => {
      const problems: string[] = [];
      const at = parseOffsetDateTime(date!);
      if (typeof at === 'string') problems.push(at);
      const headline = oneLine(title!);
      if (headline === '') problems.push('headline is empty');
      if (problems.length > 0 || typeof at === 'string') return problems;
      return { date: at.date, ts: at.ts, precision: 'minute', headline, body: null };
    },
  },
];

/**
 * Parses one headline file. Rows that cannot become a `News` are reported through `reject`
 * (line, reason, raw line) and skipped; rows whose ticker is not in `wanted` are skipped
 * before any other check.
 */
export function parseNewsFile(
  bytes: Buffer,
  opts: {
    wanted?: ReadonlySet<string> | null;
    reject: (line: number, reason: string, raw: string) => void;
  },
): ParsedNewsFile {
  const { text, encoding } = decodeNews(bytes);
  const lines = text.split('\n');
  const headerLine = stripCr(lines[0] ?? '');
  const headerFields = splitCsvLine(headerLine);
  const format = typeof headerFields === 'string' ? undefined : detectFormat(headerFields);
  if (!format) {
    opts.reject(
      1,
      `unknown header ${JSON.stringify(headerLine.slice(0, 120))}: expected one of ${NEWS_FORMATS.map(
        (f) => `${f.source} "${f.header.join(',')}"`,
      ).join(', ')}`,
      headerLine,
    );
    return { format: null, encoding, rows: [] };
  }
  const rows: NewsRow[] = [];
  const records = csvRecords(lines, {
    start: 1,
    fields: format.header.length,
    maxContinuation: MAX_CONTINUATION_LINES,
  });
  for (const { line, raw, fields } of records) {
    const row = readRow(format, fields, raw, opts.wanted ?? null);
    if (row === null) continue;
    if (typeof row === 'string') opts.reject(line, row, raw);
    else rows.push({ ...row, line, raw });
  }
  return { format, encoding, rows };
}

/** UTF-8 when the bytes are valid UTF-8; else the format's fallback (latin-1 for Reuters). */
export function decodeNews(bytes: Buffer): { text: string; encoding: 'utf-8' | 'latin1' } {
  let text: string;
  let encoding: 'utf-8' | 'latin1' = 'utf-8';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Headers are ASCII, so the format can be read before the encoding is known.
    const end = bytes.indexOf(10);
    const header = splitCsvLine(stripCr(bytes.toString('latin1', 0, end < 0 ? bytes.length : end)));
    const format = typeof header === 'string' ? undefined : detectFormat(header);
    if (format?.fallbackEncoding === 'latin1') {
      text = bytes.toString('latin1');
      encoding = 'latin1';
    } else {
      // Invalid sequences become U+FFFD; the rows holding one go to the DLQ.
      text = new TextDecoder('utf-8').decode(bytes);
    }
  }
  return { text: text.replace(/^\uFEFF/, ''), encoding };
}

export function detectFormat(header: readonly string[]): NewsFormat | undefined {
  const cells = header.map((h) => h.trim().toLowerCase());
  return NEWS_FORMATS.find(
    (f) => f.header.length === cells.length && f.header.every((h, i) => h.toLowerCase() === cells[i]),
  );
}

/** The row's news record, null for a row of an unwanted ticker, or the reasons it is bad. */
function readRow(
  format: NewsFormat,
  fields: string[] | string,
  raw: string,
  wanted: ReadonlySet<string> | null,
): Omit<NewsRow, 'line' | 'raw'> | string | null {
  if (typeof fields === 'string') return fields;
  if (fields.length !== format.header.length) {
    return `has ${fields.length} fields, expected ${format.header.length} (${format.header.join(',')})`;
  }
  const symbol = fields[format.tickerField]!.trim();
  if (wanted && !wanted.has(symbol)) return null;
  const problems: string[] = [];
  if (!SYMBOL_PATTERN.test(symbol))
    problems.push(`ticker ${JSON.stringify(symbol)} is not a ticker (A-Z, digits, . ^ = -)`);
  const read = format.read(fields);
  if (Array.isArray(read)) problems.push(...read);
  const garbage = textProblem(raw);
  if (garbage) problems.push(garbage);
  if (problems.length > 0 || Array.isArray(read)) return problems.join('; ');
  const news: News = {
    id: newsId(format.source, symbol, read.date, read.headline),
    symbol,
    ts: read.ts,
    headline: read.headline,
    source: format.source,
    url: null,
    body: read.body,
    precision: read.precision,
  };
  return { news, day: Date.parse(`${read.date}T00:00:00Z`) };
}

/** `<source>:<SYMBOL>:<YYYY-MM-DD>:<first 12 hex of sha256 of the normalised headline>`. */
export function newsId(source: string, symbol: string, date: string, headline: string): string {
  const hash = createHash('sha256').update(normaliseHeadline(headline)).digest('hex').slice(0, 12);
  return `${source}:${symbol}:${date}:${hash}`;
}

/** Case, Unicode form and runs of white space do not make a headline different. */
export function normaliseHeadline(headline: string): string {
  return headline.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

function dayRow(
  date: string,
  pattern: RegExp,
  shape: string,
  title: string,
  content: string | null,
): RowFields | string[] {
  const problems: string[] = [];
  const m = pattern.exec(date.trim());
  let iso = '';
  if (!m) problems.push(`date ${JSON.stringify(date)} is not ${shape}`);
  else {
    iso = `${m[1]}-${m[2]}-${m[3]}`;
    if (!isCalendarDay(+m[1]!, +m[2]!, +m[3]!)) problems.push(`date ${JSON.stringify(date)} is not a calendar day`);
  }
  const headline = oneLine(title);
  if (headline === '') problems.push('headline is empty');
  if (problems.length > 0) return problems;
  const body = content === null ? null : oneLine(content) || null;
  return { date: iso, ts: endOfNewYorkDay(iso), precision: 'day', headline, body };
}

/** `2016-05-12 08:41:00-04:00` (seconds and the offset's colon optional) → the instant, exactly. */
export function parseOffsetDateTime(s: string): { ts: number; date: string } | string {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?(Z|([+-])(\d{2}):?(\d{2}))$/.exec(s.trim());
  if (!m) return `date ${JSON.stringify(s)} is not YYYY-MM-DD HH:MM[:SS]±HH:MM`;
  const [y, mo, d, h, mi, sec = 0] = [+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, m[6] === undefined ? 0 : +m[6]];
  const offsetMin = m[7] === 'Z' ? 0 : (m[8] === '-' ? -1 : 1) * (+m[9]! * 60 + +m[10]!);
  if (!isCalendarDay(y, mo, d) || h > 23 || mi > 59 || sec > 59 || +(m[9] ?? 0) > 14 || +(m[10] ?? 0) > 59) {
    return `date ${JSON.stringify(s)} is not a valid time`;
  }
  return { ts: Date.UTC(y, mo - 1, d, h, mi, sec) - offsetMin * 60_000, date: `${m[1]}-${m[2]}-${m[3]}` };
}

const dayEnds = new Map<string, number>();

/** New York's offset from UTC at an instant, in minutes (-300 EST, -240 EDT). */
export function newYorkOffsetMinutes(instant: number): number {
  return Math.round(newYorkOffset(instant) / 60_000);
}

/** 23:59:59.999 New York time on `date` (YYYY-MM-DD), as epoch ms: when a dated headline is surely known. */
export function endOfNewYorkDay(date: string): number {
  let ts = dayEnds.get(date);
  if (ts === undefined) {
    ts = newYorkTime(Date.parse(`${date}T00:00:00Z`), 23, 59) + 59_999;
    dayEnds.set(date, ts);
  }
  return ts;
}

/** Trimmed, a line break inside (a quoted field spanning lines) made a space. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
