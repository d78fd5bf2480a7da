// news: real headline files (Finviz, Reuters, Benzinga CSVs; formats in news-formats.ts) →
// `News` records on the `news` port, oldest first.
//
// Time policy (no look-ahead): a headline with only a date (Finviz, Reuters) gets
// precision 'day' and ts = 23:59:59.999 New York time on that date, the moment it is surely
// known; a Benzinga headline keeps its instant (precision 'minute', its UTC offset honoured).
// With a `clock` shared with the price replay, a headline is emitted only once the replay
// has passed its ts, so news arrives while prices reach its day; without one, at full speed.
// The watermark follows the emitted headlines (once per day), and ends with the file.
//
// Dead letters (`news.dlq`, reason `FILE:LINE: …`, payload the raw line): wrong field count,
// a stray quote, an empty headline, an impossible date, a malformed ticker, bytes that are not
// text in the file's encoding; a file with an unknown header is one dead letter. The same
// headline twice (same id: source, symbol, date, headline) is emitted once, the later copy
// dead-lettered as "duplicate …". No state: the source reads its files whole, then emits.
import { basename, join } from 'node:path';
import { defineOperator, type ReplayClock, type SourceContext } from '../../engine/index.js';
import { listCsvFiles, readCsvFile } from '../../models/daily-csv.js';
import { schemas } from '../../schemas/index.js';
import { type NewsRow, parseNewsFile } from './news-formats.js';

export type NewsOptions = (
  | {
      /** Headline CSV files (any of the three formats, told apart by the header). */
      files: readonly string[];
      dir?: never;
    }
  | {
      /** A folder: every *.csv in it. */
      dir: string;
      files?: never;
    }
) & {
  /** Only these tickers (default: every one); rows of others are skipped before any check. */
  symbols?: readonly string[];
  /** Emit a headline only once the clock (advanced by the price replay) has reached its ts. */
  clock?: ReplayClock;
  /** First and last day (00:00 UTC epoch ms, inclusive) of the headlines' dates. */
  from?: number;
  to?: number;
};

type NewsPorts = { news: typeof schemas.News };

const DAY_MS = 86_400_000;

export function news(opts: NewsOptions) {
  return defineOperator({
    kind: 'source',
    name: 'news',
    outputs: { news: schemas.News },
    async run(ctx) {
      const rows = await readHeadlines(opts, ctx);
      await emitInTimeOrder(dropDuplicates(rows, ctx), opts.clock, ctx);
    },
  });
}

interface FileRow extends NewsRow {
  file: string;
  /** Order of the file in the list: ties in ts keep file order. */
  fileIndex: number;
}

/** Every headline of every file that passes the filters; bad rows to the DLQ. */
async function readHeadlines(opts: NewsOptions, ctx: SourceContext<NewsPorts>): Promise<FileRow[]> {
  const paths =
    opts.dir !== undefined ? (await listCsvFiles(opts.dir, 'news')).map((f) => join(opts.dir!, f)) : opts.files;
  const wanted = opts.symbols ? new Set(opts.symbols) : null;
  const rows: FileRow[] = [];
  for (const [fileIndex, path] of paths.entries()) {
    if (ctx.signal.aborted) break;
    const file = basename(path);
    const reject = (line: number, reason: string, raw: string | Buffer) =>
      ctx.deadLetter('news', `${file}:${line}: ${reason}`, raw);
    // An entry that cannot be read (a folder named X.csv, no permission) is one dead letter.
    const bytes = await readCsvFile(path, reject);
    if (!bytes) continue;
    const parsed = parseNewsFile(bytes, { wanted, reject });
    for (const row of parsed.rows) {
      if ((opts.from !== undefined && row.day < opts.from) || (opts.to !== undefined && row.day > opts.to)) continue;
      rows.push({ ...row, file, fileIndex });
    }
  }
  return rows.sort((a, b) => a.news.ts - b.news.ts || a.fileIndex - b.fileIndex || a.line - b.line);
}

/** Policy: a headline is emitted once; a second row with its id (the earlier one wins) → DLQ. */
function dropDuplicates(sorted: readonly FileRow[], ctx: SourceContext<NewsPorts>): FileRow[] {
  const first = new Map<string, FileRow>();
  const kept: FileRow[] = [];
  for (const row of sorted) {
    const seen = first.get(row.news.id);
    if (seen) {
      ctx.deadLetter(
        'news',
        `${row.file}:${row.line}: duplicate headline: ${row.news.id} was read at ${seen.file}:${seen.line} (that one is emitted)`,
        row.raw,
      );
      continue;
    }
    first.set(row.news.id, row);
    kept.push(row);
  }
  return kept;
}

async function emitInTimeOrder(
  rows: readonly FileRow[],
  clock: ReplayClock | undefined,
  ctx: SourceContext<NewsPorts>,
): Promise<void> {
  let watermarkDay = Number.NEGATIVE_INFINITY;
  ctx.progress(0, rows.length);
  for (const [i, { news }] of rows.entries()) {
    if (ctx.signal.aborted) return;
    const day = Math.floor(news.ts / DAY_MS);
    // Before a new day (and before waiting for the replay), say that nothing older follows:
    // this also flushes what was emitted, so it is downstream while the source waits.
    if (day > watermarkDay || (clock && clock.now < news.ts)) {
      await ctx.watermark(news.ts);
      watermarkDay = day;
    }
    if (clock && clock.now < news.ts) {
      await clock.until(news.ts, ctx.signal);
      if (ctx.signal.aborted) return;
    }
    await ctx.emit('news', news, { timestamp: news.ts });
    ctx.progress(i + 1, rows.length);
  }
}
