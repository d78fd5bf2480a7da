// What gets embedded: the text of a headline or of a fact sheet, and the stored document
// around it (schemas/document.avsc). Fact sheets are embedded from a short summary, so a
// question such as "why is AAPL expected to fall" lands near the sheets that say so.
import type { FactSheet, News } from '../schemas/index.js';
import type { VectorDocument } from '../storage/vector-store.js';
import { formatDay, formatFact } from './format.js';

/** Longest text embedded: MiniLM reads 256 word pieces, about 1,000 characters. */
const MAX_TEXT = 1000;

export function newsDocument(n: News): VectorDocument {
  // The headline only: a lead sentence made embedding 3.6× slower (54 against 194 headlines/s on
  // one core) for little gain in matching; the body stays in the payload, for explainers to read.
  return {
    id: n.id,
    kind: 'news',
    symbol: n.symbol,
    ts: n.ts,
    text: n.headline.trim().slice(0, MAX_TEXT),
    payload: JSON.stringify(n),
  };
}

export function factSheetDocument(s: FactSheet): VectorDocument {
  return {
    id: s.id,
    kind: 'facts',
    symbol: s.symbol,
    ts: s.asOf,
    text: factSheetSummary(s),
    payload: JSON.stringify(s),
  };
}

/**
 * One short line: the first horizon's forecast, its two strongest drivers and the earnings
 * context. Short on purpose: embedding cost grows with length, and this is what a query such as
 * "stocks expected to fall on momentum" should match.
 */
export function factSheetSummary(s: FactSheet): string {
  const byName = new Map(s.facts.map((f) => [f.name, f]));
  const h = Math.min(...s.facts.flatMap((f) => (f.horizon === null ? [] : [f.horizon])));
  const change = byName.get(`h${h}.change`);
  const strongest = (prefix: string) =>
    s.facts
      .filter((f) => f.horizon === h && f.name.startsWith(`h${h}.${prefix}`) && f.value !== null)
      .sort((a, b) => Math.abs(b.value!) - Math.abs(a.value!))
      .slice(0, 2);
  // A constant point has no drivers: what moved the model is its interval's width.
  const point = strongest('driver.');
  const drivers = point.length
    ? point.map((f) => `${f.label.toLowerCase()} ${f.value! > 0 ? 'up' : 'down'}`)
    : strongest('widthDriver.').map(
        (f) => `${f.label.toLowerCase()} ${f.value! > 0 ? 'widened' : 'narrowed'} the interval`,
      );
  const move =
    change?.value == null ? 'no forecast' : `${change.value >= 0 ? 'up' : 'down'} ${formatFact(change, { abs: true })}`;
  const parts = [`${s.symbol} ${formatDay(s.ts)}: ${h}-day forecast ${move}`];
  if (drivers.length) parts.push(`drivers ${drivers.join(', ')}`);
  if (byName.has('earnings.window')) parts.push('earnings next trading day');
  else if (s.regime === 'earnings') parts.push('earnings window');
  return parts.join('; ').slice(0, MAX_TEXT);
}

/** The source record of a stored document, typed by its kind. */
export function newsOf(d: Pick<VectorDocument, 'kind' | 'payload'>): News {
  if (d.kind !== 'news') throw new Error(`document of kind ${d.kind} is not news`);
  return JSON.parse(d.payload) as News;
}

export function factSheetOf(d: Pick<VectorDocument, 'kind' | 'payload'>): FactSheet {
  if (d.kind !== 'facts') throw new Error(`document of kind ${d.kind} is not a fact sheet`);
  return JSON.parse(d.payload) as FactSheet;
}
