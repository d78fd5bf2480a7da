// replay: real daily OHLCV from per-ticker CSV files, in event-time order, at full speed
// or at a given pace. Each CSV row becomes one quote carrying the whole trading day.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { defineOperator } from '../../engine/index.js';
import { type Quote, schemas } from '../../schemas/index.js';

export interface ReplayOptions {
  /** Folder of CSVs `date,open,high,low,close,volume[,Name]` (ticker from Name or the file name). */
  dir: string;
  /** Only these tickers (default: every file). */
  symbols?: readonly string[];
  /** Wall-clock ms per trading day; 0 (default) replays at full speed. */
  paceMs?: number;
  /** First and last trading day to replay (epoch ms, inclusive). */
  from?: number;
  to?: number;
}

const DAY_MS = 86_400_000;
/** Quotes are stamped 21:00 UTC: at or after the 16:00 New York close in both EST and EDT. */
export const CLOSE_OFFSET_MS = 21 * 3_600_000;
const NUMERIC = ['open', 'high', 'low', 'close', 'volume'] as const;

interface Row {
  day: number;
  quote: Quote;
}

export function replay(opts: ReplayOptions) {
  return defineOperator({
    kind: 'source',
    name: 'replay',
    outputs: { quotes: schemas.Quote },
    async run(ctx) {
      const files = (await readdir(opts.dir)).filter((f) => f.toLowerCase().endsWith('.csv')).sort();
      if (files.length === 0) throw new Error(`replay: no .csv files in ${opts.dir}`);
      const wanted = opts.symbols ? new Set(opts.symbols) : null;
      const byDay = new Map<number, Quote[]>();
      for (const file of files) {
        const fallback = tickerFromFileName(file);
        if (wanted && !wanted.has(fallback)) continue;
        const text = await readFile(join(opts.dir, file), 'utf8');
        for (const r of parseReplayCsv(text, fallback, (line, reason, raw) =>
          ctx.deadLetter('quotes', `${file}:${line}: ${reason}`, raw),
        )) {
          if (wanted && !wanted.has(r.quote.symbol)) continue;
          if ((opts.from !== undefined && r.day < opts.from) || (opts.to !== undefined && r.day > opts.to)) continue;
          const list = byDay.get(r.day);
          if (list) list.push(r.quote);
          else byDay.set(r.day, [r.quote]);
        }
      }
      const days = [...byDay.keys()].sort((a, b) => a - b);
      const paceMs = opts.paceMs ?? 0;
      // Progress counts quotes, so a consumer can compare it with records processed downstream.
      let total = 0;
      for (const list of byDay.values()) total += new Set(list.map((q) => q.symbol)).size;
      let emitted = 0;
      for (const day of days) {
        if (ctx.signal.aborted) return;
        const started = Date.now();
        const seen = new Set<string>();
        for (const q of byDay.get(day)!.sort((a, b) => (a.symbol < b.symbol ? -1 : 1))) {
          // Policy: a second row for the same ticker and day is not replayed twice.
          if (seen.has(q.symbol)) {
            ctx.deadLetter(
              'quotes',
              `duplicate row for ${q.symbol} on ${isoDay(day)}: the first one was replayed`,
              JSON.stringify(q),
            );
            continue;
          }
          seen.add(q.symbol);
          await ctx.emit('quotes', q, { timestamp: q.ts });
          emitted++;
        }
        // Daily data: once a day is replayed, that day is complete.
        await ctx.watermark(day + DAY_MS);
        ctx.progress(emitted, total);
        if (paceMs > 0) await sleep(paceMs - (Date.now() - started), ctx.signal);
      }
    },
  });
}

/**
 * Parses one ticker's CSV. Rows that cannot become a valid quote are reported through
 * `reject` (line number, reason, raw text) and skipped; the rest are returned.
 */
export function parseReplayCsv(
  text: string,
  fallbackTicker: string,
  reject: (line: number, reason: string, raw: string) => void,
): Row[] {
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
  const rows: Row[] = [];
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

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  // timers/promises removes its abort listener when the timer fires: no listener build-up.
  await delay(ms, undefined, { signal }).catch(() => undefined);
}
