// Shows a long run's progress: a bar on a terminal, a status line every few seconds elsewhere.
import cliProgress from 'cli-progress';
import type { NodeStats, RunningPipeline } from '../engine/index.js';

export interface ProgressFigures {
  done: number;
  total: number | null;
  recordsPerSecond: number;
  /** Symbols seen on the live bars; null where this process has no live sink (a source of workers). */
  symbols: number | null;
  /** Predictions stored; null for a pipeline that makes none (e.g. sma-cross). */
  predictions: number | null;
  /** Headlines through the embed node, out of the news source's total (null without news). */
  headlines: { done: number; total: number | null } | null;
}

/**
 * Progress of a run: how many of the source's quotes have gone all the way through (their
 * predictions are stored), out of the source's total — not merely how far the source has read.
 * A pipeline that stores no predictions counts the quotes its first node has taken in.
 * `stop()` shows the last frame once: a run stops it at its end and again on a signal.
 */
export function startProgress(
  running: RunningPipeline,
  symbols: () => number | null,
  opts: {
    predictionsPerQuote: number;
    stream?: NodeJS.WriteStream;
    /**
     * The nodes' figures, default this process's. A source of workers (Kafka) passes the whole
     * run's (cli/cluster.ts): its own process stores no prediction.
     */
    stats?: () => NodeStats[];
  },
): { stop(): void } {
  const stream = opts.stream ?? process.stderr;
  const started = performance.now();
  let quotesDoneAt: number | undefined;
  const predicts = running.pipeline.nodes.some((n) => n.id === 'store-predictions');
  const figures = (): ProgressFigures => {
    const sources = running.sources();
    const source = sources.find((s) => s.node !== 'news') ?? sources[0];
    const news = sources.find((s) => s.node === 'news');
    const stats = opts.stats?.() ?? running.metrics.snapshot();
    const quotes = stats.find((s) => s.node === 'bars')?.recordsIn ?? 0;
    const predictions = stats.find((s) => s.node === 'store-predictions')?.recordsIn ?? 0;
    const total = source?.total ?? null;
    const through = predicts ? Math.floor(predictions / opts.predictionsPerQuote) : quotes;
    const done = total === null ? through : Math.min(total, through);
    // The rate is the replay's: it stops counting time once every quote is through.
    if (total !== null && done >= total) quotesDoneAt ??= performance.now();
    return {
      done,
      total,
      recordsPerSecond: quotes / Math.max(0.001, ((quotesDoneAt ?? performance.now()) - started) / 1000),
      symbols: symbols(),
      predictions: predicts ? predictions : null,
      headlines: news
        ? { done: stats.find((s) => s.node === 'embed-news')?.recordsIn ?? 0, total: news.total ?? null }
        : null,
    };
  };
  // The headlines are embedded after the prices at a full-speed replay: say how far that is.
  const headlines = (f: ProgressFigures) =>
    f.headlines
      ? ` | ${f.headlines.done.toLocaleString('en-US')}/${f.headlines.total?.toLocaleString('en-US') ?? '?'} headlines embedded`
      : '';
  const line = (f: ProgressFigures) =>
    `${f.done.toLocaleString('en-US')}/${f.total?.toLocaleString('en-US') ?? '?'} quotes through | ${Math.round(f.recordsPerSecond).toLocaleString('en-US')} quotes/s${symbolsText(f)}${predictionsText(f)}${headlines(f)}`;

  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format:
          'replay |{bar}| {percentage}% | {value}/{total} quotes through | {rate} quotes/s{symbols}{predictions}{headlines}',
        stream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(1, 0, { rate: 0, symbols: '', predictions: '', headlines: '' });
    const timer = setInterval(() => {
      const f = figures();
      bar.setTotal(f.total ?? Math.max(1, f.done));
      bar.update(f.done, {
        rate: Math.round(f.recordsPerSecond).toLocaleString('en-US'),
        symbols: symbolsText(f),
        predictions: predictionsText(f),
        headlines: headlines(f),
      });
    }, 200);
    let stopped = false;
    return {
      stop() {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        const f = figures();
        bar.setTotal(f.total ?? Math.max(1, f.done));
        bar.update(f.done, { predictions: predictionsText(f), headlines: headlines(f) });
        bar.stop();
      },
    };
  }
  const timer = setInterval(() => stream.write(`progress: ${line(figures())}\n`), 3000);
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      stream.write(`progress: ${line(figures())}\n`);
    },
  };
}

function predictionsText(f: ProgressFigures): string {
  return f.predictions === null ? '' : ` | ${f.predictions.toLocaleString('en-US')} predictions written`;
}

function symbolsText(f: ProgressFigures): string {
  return f.symbols === null ? '' : ` | ${f.symbols} symbols`;
}

/** A bar for one long task (loading, evaluating) on a terminal; a line every few seconds elsewhere. */
export function taskProgress(label: string, unit: string, stream: NodeJS.WriteStream = process.stderr) {
  let done = 0;
  let total = 1;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label.padEnd(24)} |{bar}| {percentage}% | {value}/{total} ${unit}`, stream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(1, 0);
    return {
      update(d: number, t: number) {
        bar.setTotal(t);
        bar.update(d);
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  const line = () => stream.write(`${label}: ${done}/${total} ${unit}\n`);
  return {
    update(d: number, t: number) {
      done = d;
      total = t;
      if (Date.now() - last > 3000) {
        last = Date.now();
        line();
      }
    },
    stop: line,
  };
}
