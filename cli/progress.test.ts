// The progress of a run and of a long task, as written where stderr is not a terminal: a status
// line every 3 s and a last one on stop, counting quotes through (predictions stored ÷ horizons).
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NodeStats, RunningPipeline } from '../engine/index.js';
import { PipelineMetrics } from '../engine/metrics.js';
import { startProgress, taskProgress } from './progress.js';

/** A stream that is not a terminal, keeping what is written. */
function pipe() {
  const lines: string[] = [];
  return { lines, stream: { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream };
}

const stat = (node: string, recordsIn: number): NodeStats => ({ ...new PipelineMetrics('p').node(node), recordsIn });

/** A running pipeline whose nodes' figures are `stats()`, with a source of `total` quotes. */
function running(
  nodes: string[],
  stats: () => NodeStats[],
  sources: Array<{ node: string; total: number | null }>,
): RunningPipeline {
  return {
    pipeline: { nodes: nodes.map((id) => ({ id })) },
    sources: () => sources,
    metrics: { snapshot: stats },
  } as unknown as RunningPipeline;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('run progress (not a terminal)', () => {
  it('counts the quotes whose predictions are stored, out of the source total, every 3 s and on stop', () => {
    vi.useFakeTimers();
    let stats = [stat('bars', 4), stat('store-predictions', 6), stat('embed-news', 1)];
    const { lines, stream } = pipe();
    const p = startProgress(
      running(['bars', 'store-predictions'], () => stats, [
        { node: 'market-data', total: 10 },
        { node: 'news', total: 5 },
      ]),
      () => 3,
      { predictionsPerQuote: 3, stream },
    );
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(3000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^progress: 2\/10 quotes through \| [\d,]+ quotes\/s \| 3 symbols \| 6 predictions written \| 1\/5 headlines embedded\n$/,
    );
    stats = [stat('bars', 10), stat('store-predictions', 30), stat('embed-news', 5)];
    p.stop();
    expect(lines[1]).toMatch(
      /^progress: 10\/10 quotes through .* 30 predictions written \| 5\/5 headlines embedded\n$/,
    );
    // Stopped: no more lines.
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(2);
  });

  it('a pipeline that stores no predictions counts the quotes its bars node took in; no symbols, no total', () => {
    const { lines, stream } = pipe();
    startProgress(
      running(['bars', 'sma-cross'], () => [stat('bars', 1234)], [{ node: 'replay', total: null }]),
      () => null,
      {
        predictionsPerQuote: 3,
        stream,
      },
    ).stop();
    expect(lines).toEqual([expect.stringMatching(/^progress: 1,234\/\? quotes through \| [\d,]+ quotes\/s\n$/)]);
  });

  it('shows the last frame once: a run stops it at its end, and again at Ctrl-C', () => {
    const { lines, stream } = pipe();
    const p = startProgress(
      running(['bars'], () => [stat('bars', 3)], [{ node: 'replay', total: 3 }]),
      () => null,
      { predictionsPerQuote: 1, stream },
    );
    p.stop();
    p.stop();
    expect(lines).toEqual([expect.stringMatching(/^progress: 3\/3 quotes through/)]);
  });

  it('takes the whole run’s figures when given them (a source process of a scaled-out run)', () => {
    const { lines, stream } = pipe();
    startProgress(
      running(['store-predictions'], () => [], [{ node: 'market-data', total: 2 }]),
      () => null,
      {
        predictionsPerQuote: 1,
        stream,
        stats: () => [stat('store-predictions', 2)],
      },
    ).stop();
    expect(lines[0]).toMatch(/^progress: 2\/2 quotes through .* 2 predictions written\n$/);
  });
});

describe('task progress (not a terminal)', () => {
  it('writes a line at once, then at most every 3 s, and the last figures on stop', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { lines, stream } = pipe();
    const task = taskProgress('loading prices', 'files', stream);
    task.update(1, 50);
    task.update(2, 50);
    expect(lines).toEqual(['loading prices: 1/50 files\n']);
    vi.advanceTimersByTime(3001);
    task.update(40, 50);
    task.stop();
    expect(lines).toEqual([
      'loading prices: 1/50 files\n',
      'loading prices: 40/50 files\n',
      'loading prices: 40/50 files\n',
    ]);
  });
});

/** A terminal: cli-progress redraws its bar in place (cursor moves, line clears, writes). */
function terminal() {
  const writes: string[] = [];
  const stream = {
    isTTY: true,
    columns: 200,
    write: (s: string) => writes.push(s),
    cursorTo: () => true,
    moveCursor: () => true,
    clearLine: () => true,
    clearScreenDown: () => true,
    on: () => stream,
    removeListener: () => stream,
  };
  return { writes, stream: stream as unknown as NodeJS.WriteStream };
}

describe('on a terminal', () => {
  it('the run is a bar redrawn in place, its last frame with the final figures', () => {
    vi.useFakeTimers();
    let stats = [stat('bars', 2), stat('store-predictions', 3)];
    const { writes, stream } = terminal();
    const p = startProgress(
      running(['bars', 'store-predictions'], () => stats, [{ node: 'market-data', total: 4 }]),
      () => 1,
      { predictionsPerQuote: 3, stream },
    );
    vi.advanceTimersByTime(1000);
    expect(writes.join('')).toMatch(
      /replay \|.*\| 25% \| 1\/4 quotes through \| [\d,]+ quotes\/s \| 1 symbols \| 3 predictions written/,
    );
    stats = [stat('bars', 4), stat('store-predictions', 12)];
    p.stop();
    expect(writes.join('')).toMatch(/100% \| 4\/4 quotes through .*12 predictions written/);
    // Stopped again (a signal after the end): the bar is not drawn again.
    const drawn = writes.length;
    p.stop();
    expect(writes).toHaveLength(drawn);
  });

  it('a task is a bar of its own', () => {
    const { writes, stream } = terminal();
    const task = taskProgress('evaluating mlp', 'examples', stream);
    task.update(5, 10);
    task.stop();
    expect(writes.join('')).toMatch(/evaluating mlp\s+\|.*\| 50% \| 5\/10 examples/);
  });
});
