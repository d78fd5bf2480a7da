// replay: real daily OHLCV from per-ticker CSV files, in event-time order, at full speed
// or at a given pace. Each CSV row becomes one quote carrying the whole trading day.
// With a `clock`, it advances that clock past each day it has replayed (and ends it when it
// stops), so other replayed sources (news) can emit in step with the prices.

import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { defineOperator, type ReplayClock, type SourceContext } from '../../engine/index.js';
import { listCsvFiles, parseDailyCsv, readCsvFile, tickerFromFileName } from '../../models/daily-csv.js';
import { isoDay } from '../../models/trading-calendar.js';
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
  /** Advanced to the end of each replayed day (`day + 1 day`), ended when the replay stops. */
  clock?: ReplayClock;
  /**
   * Before each day after the first, waits for the pipeline's feedback to catch up with the
   * watermark given last (e.g. `WatermarkGate.wait` on the calibration table's node): at full
   * speed, each day's intervals are then issued with the calibration of the days before, as live.
   */
  feedback?: (time: number, signal: AbortSignal) => Promise<void>;
}

const DAY_MS = 86_400_000;

export function replay(opts: ReplayOptions) {
  return defineOperator({
    kind: 'source',
    name: 'replay',
    outputs: { quotes: schemas.Quote },
    async run(ctx) {
      try {
        await replayDays(opts, ctx);
      } finally {
        // Finished, aborted or failed: nobody waiting on the clock may wait forever.
        opts.clock?.end();
      }
    },
  });
}

async function replayDays(opts: ReplayOptions, ctx: SourceContext<{ quotes: typeof schemas.Quote }>): Promise<void> {
  const files = await listCsvFiles(opts.dir, 'replay');
  const wanted = opts.symbols ? new Set(opts.symbols) : null;
  const byDay = new Map<number, Quote[]>();
  // Policy: a second row for the same ticker and day (in any file) is not replayed; the first read is.
  const firstAt = new Map<string, string>();
  for (const file of files) {
    const fallback = tickerFromFileName(file);
    if (wanted && !wanted.has(fallback)) continue;
    const reject = (line: number, reason: string, raw: string | Buffer) =>
      ctx.deadLetter('quotes', `${file}:${line}: ${reason}`, raw);
    // An entry that cannot be read (a folder named X.csv, no permission) is one dead letter.
    const bytes = await readCsvFile(join(opts.dir, file), reject);
    if (!bytes) continue;
    for (const r of parseDailyCsv(bytes, fallback, reject)) {
      if (wanted && !wanted.has(r.quote.symbol)) continue;
      if ((opts.from !== undefined && r.day < opts.from) || (opts.to !== undefined && r.day > opts.to)) continue;
      const id = `${r.quote.symbol} ${r.day}`;
      const first = firstAt.get(id);
      if (first !== undefined) {
        reject(
          r.line,
          `duplicate row: ${r.quote.symbol} on ${isoDay(r.day)} was read at ${first} (that one is replayed)`,
          r.raw,
        );
        continue;
      }
      firstAt.set(id, `${file}:${r.line}`);
      const list = byDay.get(r.day);
      if (list) list.push(r.quote);
      else byDay.set(r.day, [r.quote]);
    }
  }
  const days = [...byDay.keys()].sort((a, b) => a - b);
  const paceMs = opts.paceMs ?? 0;
  // Progress counts quotes, so a consumer can compare it with records processed downstream.
  let total = 0;
  for (const list of byDay.values()) total += list.length;
  let emitted = 0;
  let given = Number.NEGATIVE_INFINITY;
  for (const day of days) {
    if (ctx.signal.aborted) return;
    if (opts.feedback && given > Number.NEGATIVE_INFINITY) await opts.feedback(given, ctx.signal);
    const started = Date.now();
    for (const q of byDay.get(day)!.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0))) {
      await ctx.emit('quotes', q, { timestamp: q.ts });
      emitted++;
    }
    // Daily data: once a day is replayed, that day is complete.
    await ctx.watermark(day + DAY_MS);
    given = day + DAY_MS;
    opts.clock?.advance(day + DAY_MS);
    ctx.progress(emitted, total);
    if (paceMs > 0) await sleep(paceMs - (Date.now() - started), ctx.signal);
  }
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  // timers/promises removes its abort listener when the timer fires: no listener build-up.
  await delay(ms, undefined, { signal }).catch(() => undefined);
}
