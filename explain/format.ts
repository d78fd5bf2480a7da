// How explanations print facts. One module for the writers (template, prompts) and the
// grounding checker, so "what a printed number may mean" is defined once.
import type { Fact } from '../schemas/index.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** A UTC calendar day as `Feb 8, 2018`. */
export function formatDay(ts: number): string {
  const d = new Date(ts);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
}

/** The month index (0-based) of an English month name or abbreviation, else -1. */
export function monthIndex(name: string): number {
  return MONTHS.findIndex((m) => name.slice(0, 3).toLowerCase() === m.toLowerCase());
}

/** `1,234.57` style: fixed decimals with thousands separators. */
export function formatNumber(v: number, digits: number): string {
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Decimals a fact of this unit is printed with. */
export function digitsFor(unit: string, value: number): number {
  switch (unit) {
    case 'usd':
      return 2;
    case 'pct':
      return Number.isInteger(value) ? 0 : Math.abs(value) >= 10 ? 1 : 2;
    default:
      return Number.isInteger(value) ? 0 : 1;
  }
}

/**
 * A fact's value as text: `$160.12`, `0.43%`, `6 days`, `Feb 8, 2018`. `abs` prints the
 * magnitude only (the prose says up or down).
 */
export function formatFact(f: Pick<Fact, 'unit' | 'value' | 'text'>, opts: { abs?: boolean } = {}): string {
  if (f.value === null) return f.text ?? '';
  const v = opts.abs ? Math.abs(f.value) : f.value;
  switch (f.unit) {
    case 'usd':
      return `$${formatNumber(v, 2)}`;
    case 'pct':
      return `${formatNumber(v, digitsFor('pct', v))}%`;
    case 'days': {
      const n = formatNumber(v, digitsFor('days', v));
      return `${n} ${v === 1 ? 'day' : 'days'}`;
    }
    case 'date':
      return formatDay(v);
    case 'count':
      return formatNumber(v, 0);
    default:
      return f.text ?? formatNumber(v, digitsFor(f.unit, v));
  }
}

/** Percentage change of a price for a log return: (e^r − 1) · 100. */
export function pctFromLogReturn(r: number): number {
  return Math.expm1(r) * 100;
}

/** The New York calendar day of an instant (00:00 UTC of that date): how headlines are dated. */
export { newYorkDay } from '../models/market-calendar.js';

const SOURCE_NAMES: Record<string, string> = {
  finviz: 'Finviz',
  reuters: 'Reuters',
  benzinga: 'Benzinga',
  yahoo: 'Yahoo Finance',
};

/** A headline source as readers know it: `reuters` → Reuters. */
export function sourceName(source: string): string {
  return SOURCE_NAMES[source] ?? source;
}
