// @vitest-environment happy-dom
// The watchlist's symbols survive a reload in localStorage; anything unreadable there reads as no
// list (the view then starts from its default symbols), and a storage that refuses writes is not
// an error.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import type { Prediction } from './types';
import {
  addErrorText,
  change,
  chunks,
  errorText,
  type Filter,
  holdOrder,
  loadWatchlist,
  matches,
  nextSort,
  nextSpark,
  parseSymbols,
  type RowState,
  refreshErrorText,
  rowWindow,
  type SortKey,
  SPARK_POINTS,
  saveWatchlist,
  sortValue,
  visibleRows,
  width,
} from './watchlist';

const KEY = 'tickcast.watchlist';

describe('watchlist', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    localStorage.clear();
  });

  it('has no list before one is saved', () => {
    expect(loadWatchlist()).toBeNull();
  });

  it('reads back what was saved', () => {
    saveWatchlist(['KO', 'AAPL']);
    expect(localStorage.getItem(KEY)).toBe('["KO","AAPL"]');
    expect(loadWatchlist()).toEqual(['KO', 'AAPL']);
    saveWatchlist([]);
    expect(loadWatchlist()).toEqual([]);
  });

  it('keeps only the strings of a stored array, and ignores anything else stored', () => {
    localStorage.setItem(KEY, '["KO", 3, null, "MSFT"]');
    expect(loadWatchlist()).toEqual(['KO', 'MSFT']);
    localStorage.setItem(KEY, '{"KO": true}');
    expect(loadWatchlist()).toBeNull();
    localStorage.setItem(KEY, 'not json');
    expect(loadWatchlist()).toBeNull();
  });

  it('works on when storage is unavailable (private mode, full quota)', () => {
    const refusing = {
      getItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      setItem: () => {
        throw new DOMException('quota exceeded', 'QuotaExceededError');
      },
    };
    vi.stubGlobal('localStorage', refusing);
    expect(() => saveWatchlist(['KO'])).not.toThrow();
    expect(loadWatchlist()).toBeNull();
  });
});

const prediction = (symbol: string, over: Partial<Prediction> = {}): Prediction => ({
  id: `${symbol}-1`,
  symbol,
  horizon: 1,
  inputTime: '2017-01-03T21:00:00.000Z',
  targetTime: '2017-01-04T21:00:00.000Z',
  lastClose: 100,
  predictedClose: 101,
  predictedReturn: 0.00995,
  interval: { lower: 98, upper: 104, level: 0.8 },
  model: 'mlp',
  modelVersion: 'v1',
  regime: 'normal',
  createdAt: '2017-01-03T21:00:01.000Z',
  rankScore: null,
  ...over,
});

const row = (symbol: string, p: Partial<Prediction> | null, receivedAt: number | null = null): RowState => ({
  symbol,
  prediction: p === null ? null : prediction(symbol, p),
  receivedAt,
});

const view = { search: '', filter: 'all' as Filter, sortKey: 'symbol' as SortKey, sortDir: 1 as const, held: null };
const symbols = (rows: readonly RowState[]) => rows.map((r) => r.symbol);

describe('watchlist table logic', () => {
  const rows = [
    row('KO', { lastClose: 40, predictedClose: 41, interval: { lower: 39, upper: 43, level: 0.8 } }, 3000),
    row('AAPL', { lastClose: 100, predictedClose: 99, regime: 'earnings', modelVersion: 'v2' }, 1000),
    row('MSFT', null),
    row('PEP', { lastClose: 50, predictedClose: 50 }, 2000),
  ];

  it('computes change and interval width in %', () => {
    const p = prediction('KO', { lastClose: 40, predictedClose: 41, interval: { lower: 39, upper: 43, level: 0.8 } });
    expect(change(p)).toBeCloseTo(2.5, 10);
    expect(width(p)).toBeCloseTo((4 / 41) * 100, 10);
  });

  it('filters by a part of the symbol in any case, and by direction, earnings and waiting', () => {
    expect(symbols(visibleRows(rows, { ...view, search: ' o ' }))).toEqual(['KO']);
    expect(symbols(visibleRows(rows, { ...view, search: 'p' }))).toEqual(['AAPL', 'PEP']);
    expect(symbols(visibleRows(rows, { ...view, filter: 'up' }))).toEqual(['KO']);
    expect(symbols(visibleRows(rows, { ...view, filter: 'down' }))).toEqual(['AAPL']);
    expect(symbols(visibleRows(rows, { ...view, filter: 'earnings' }))).toEqual(['AAPL']);
    expect(symbols(visibleRows(rows, { ...view, filter: 'waiting' }))).toEqual(['MSFT']);
    expect(matches(rows[2]!, 'ms', 'up')).toBe(false);
  });

  it('sorts by every column, rows without a prediction last ascending; ties keep their order', () => {
    const by = (sortKey: SortKey, sortDir: 1 | -1 = 1) => symbols(visibleRows(rows, { ...view, sortKey, sortDir }));
    expect(by('symbol')).toEqual(['AAPL', 'KO', 'MSFT', 'PEP']);
    expect(by('symbol', -1)).toEqual(['PEP', 'MSFT', 'KO', 'AAPL']);
    expect(by('last', -1)).toEqual(['AAPL', 'PEP', 'KO', 'MSFT']);
    expect(by('predicted')).toEqual(['MSFT', 'KO', 'PEP', 'AAPL']);
    expect(by('change', -1)).toEqual(['KO', 'PEP', 'AAPL', 'MSFT']);
    expect(by('width', -1)).toEqual(['PEP', 'KO', 'AAPL', 'MSFT']);
    expect(by('model')).toEqual(['MSFT', 'KO', 'PEP', 'AAPL']);
    // Freshest first ascending; never received last.
    expect(by('age')).toEqual(['KO', 'PEP', 'AAPL', 'MSFT']);
    expect(sortValue(rows[2]!, 'age')).toBe(Number.POSITIVE_INFINITY);
  });

  it("sorts by the net's rank score, highest first, then rows without one, then rows waiting", () => {
    // The points are a constant drift's (all +1%), so only the rank score orders the cross-section.
    const ranked = [
      row('KO', { rankScore: -0.002 }),
      row('AAPL', { rankScore: 0.004 }),
      row('MSFT', null),
      row('XOM', { rankScore: null }),
      row('PEP', { rankScore: 0.001 }),
    ];
    const by = (sortDir: 1 | -1) => symbols(visibleRows(ranked, { ...view, sortKey: 'rank', sortDir }));
    expect(nextSort({ key: 'symbol', dir: 1 }, 'rank')).toEqual({ key: 'rank', dir: -1 });
    expect(by(-1)).toEqual(['AAPL', 'PEP', 'KO', 'XOM', 'MSFT']);
    expect(by(1)).toEqual(['MSFT', 'XOM', 'KO', 'PEP', 'AAPL']);
  });

  it('flips the direction on the same column; text columns start ascending, figures descending', () => {
    expect(nextSort({ key: 'symbol', dir: 1 }, 'symbol')).toEqual({ key: 'symbol', dir: -1 });
    expect(nextSort({ key: 'symbol', dir: -1 }, 'symbol')).toEqual({ key: 'symbol', dir: 1 });
    expect(nextSort({ key: 'symbol', dir: 1 }, 'change')).toEqual({ key: 'change', dir: -1 });
    expect(nextSort({ key: 'change', dir: -1 }, 'model')).toEqual({ key: 'model', dir: 1 });
  });

  it('while held, keeps the held order whatever the sort, rows it does not know last', () => {
    const held = new Map([
      ['PEP', 0],
      ['KO', 1],
      ['AAPL', 2],
    ]);
    expect(symbols(visibleRows(rows, { ...view, sortKey: 'change', held }))).toEqual(['PEP', 'KO', 'AAPL', 'MSFT']);
  });

  it('holds the visible order, with the rows on screen in the order they are shown (the DOM may lag)', () => {
    // State order A B C D; the screen still shows C before B, and a row no longer in the list.
    const held = holdOrder(['A', 'B', 'C', 'D'], ['C', 'GONE', 'B']);
    expect([...held]).toEqual([
      ['A', 0],
      ['C', 1],
      ['B', 2],
      ['D', 3],
    ]);
    expect([...holdOrder(['A', 'B'], [])]).toEqual([
      ['A', 0],
      ['B', 1],
    ]);
  });

  it('renders the rows in and near the viewport', () => {
    // Not scrolled: from the first row to a screenful plus the overscan.
    expect(rowWindow(100, 760, 500, 38, 12)).toEqual({ start: 0, end: 32 });
    // Scrolled 100 rows down.
    expect(rowWindow(-3800, 760, 500, 38, 12)).toEqual({ start: 88, end: 132 });
    // Near the end, and a short list.
    expect(rowWindow(-38 * 495, 760, 500, 38, 12)).toEqual({ start: 483, end: 500 });
    expect(rowWindow(0, 760, 3, 38, 12)).toEqual({ start: 0, end: 3 });
  });

  it('updates a row from a newer prediction, appends its close to the spark, and ignores older ones', () => {
    const first = prediction('KO', { lastClose: 40 });
    expect(nextSpark(null, [], first)).toEqual([40]);
    // The same input day again (a re-emission): the spark stays as it is.
    const spark = [39, 40];
    expect(nextSpark(first, spark, prediction('KO', { lastClose: 40 }))).toBe(spark);
    const newer = prediction('KO', { inputTime: '2017-01-04T21:00:00.000Z', lastClose: 41 });
    expect(nextSpark(first, spark, newer)).toEqual([39, 40, 41]);
    expect(nextSpark(newer, spark, first)).toBeNull();
    expect(nextSpark(first, spark, prediction('KO', { horizon: 5 }))).toBeNull();
    // At most SPARK_POINTS: the oldest close drops out.
    const full = Array.from({ length: SPARK_POINTS }, (_, i) => i);
    expect(nextSpark(first, full, newer)).toEqual([...full.slice(1), 41]);
  });

  it('splits into parts of at most n', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([], 3)).toEqual([]);
  });

  it('reads the add box: spaces or commas, any case, blanks dropped', () => {
    expect(parseSymbols(' ko, aapl  msft,,')).toEqual(['KO', 'AAPL', 'MSFT']);
    expect(parseSymbols('  ')).toEqual([]);
  });

  it('names unknown symbols when the API refuses them, else says the error', () => {
    expect(addErrorText(new ApiError('unknown', 'UNKNOWN_SYMBOL', ['ZZZ']), ['ZZZ', 'YYY'])).toBe(
      'Unknown symbol: ZZZ — tickcast has no data for it.',
    );
    expect(addErrorText(new ApiError('unknown', 'UNKNOWN_SYMBOL'), ['ZZZ', 'YYY'])).toBe(
      'Unknown symbol: ZZZ, YYY — tickcast has no data for it.',
    );
    expect(addErrorText(new ApiError('boom', 'INTERNAL'), ['ZZZ'])).toBe('boom');
    expect(addErrorText('offline', ['ZZZ'])).toBe('offline');
    expect(errorText(new Error('HTTP 502'))).toBe('HTTP 502');
    expect(errorText(42)).toBe('42');
  });
});

describe('refreshErrorText', () => {
  it('says what is stale and why, and that it keeps retrying', () => {
    expect(refreshErrorText('predictions', new ApiError('too many requests', 'RATE_LIMITED'))).toBe(
      'Could not refresh predictions: too many requests (RATE_LIMITED). Showing the last values; retrying.',
    );
    expect(refreshErrorText('sparklines', new TypeError('Failed to fetch'))).toBe(
      'Could not refresh sparklines: Failed to fetch. Showing the last values; retrying.',
    );
  });
});
