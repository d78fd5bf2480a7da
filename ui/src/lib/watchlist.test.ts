// @vitest-environment happy-dom
// The watchlist's symbols survive a reload in localStorage; anything unreadable there reads as no
// list (the view then starts from its default symbols), and a storage that refuses writes is not
// an error.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadWatchlist, saveWatchlist } from './watchlist';

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
