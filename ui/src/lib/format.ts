// Number and time formatting shared by the views.
const price = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const fmtPrice = (x: number | null | undefined): string => (x == null ? '—' : price.format(x));
export const fmtCompact = (x: number | null | undefined): string => (x == null ? '—' : compact.format(x));
export const fmtPct = (x: number | null | undefined, digits = 2): string =>
  x == null ? '—' : `${x > 0 ? '+' : ''}${x.toFixed(digits)}%`;
/** A magnitude in %, no sign (a mean absolute error). */
export const fmtAbsPct = (x: number | null | undefined, digits = 2): string =>
  x == null ? '—' : `${x.toFixed(digits)}%`;
export const fmtMs = (x: number | null | undefined): string =>
  x == null
    ? '—'
    : x < 1
      ? `${(x * 1000).toFixed(0)} µs`
      : x < 1000
        ? `${x.toFixed(1)} ms`
        : `${(x / 1000).toFixed(1)} s`;
export const fmtDate = (iso: string): string => iso.slice(0, 10);

/** Percent change from `from` to `to`. */
export const changePct = (from: number, to: number): number => ((to - from) / from) * 100;

/** "3 s", "4 min", "2 h", "5 d": how long ago, for freshness badges. */
export function fmtAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** Freshness of a prediction by wall-clock age: live under 10 s, stale over 2 min. */
export function freshness(ageMs: number): 'live' | 'recent' | 'stale' {
  return ageMs < 10_000 ? 'live' : ageMs < 120_000 ? 'recent' : 'stale';
}
