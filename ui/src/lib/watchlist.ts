// The watchlist's symbols, kept in localStorage (per browser; no account needed).
const KEY = 'tickcast.watchlist';

export function loadWatchlist(): string[] | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (raw === null) return null;
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === 'string') : null;
  } catch {
    return null;
  }
}

export function saveWatchlist(symbols: readonly string[]): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(symbols));
  } catch {
    // Private mode or a full quota: the list still works for this session.
  }
}
