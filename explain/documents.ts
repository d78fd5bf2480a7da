// What gets embedded: the text of a headline or of a fact sheet, and the stored document
// around it (schemas/document.avsc). Fact sheets are embedded from a short summary, so a
// question such as "why is AAPL expected to fall" lands near the sheets that say so.
import type { FactSheet, News } from '../schemas/index.js';
import type { VectorDocument } from '../storage/vector-store.js';
import { formatDay, formatFact } from './format.js';

/** Longest text embedded: MiniLM reads 256 word pieces, about 1,000 characters. */
const MAX_TEXT = 1000;

export function newsDocument(n: News): VectorDocument {
  const text = n.body ? `${n.headline.trim()}. ${n.body.trim()}` : n.headline.trim();
  return {
    id: n.id,
    kind: 'news',
    symbol: n.symbol,
    ts: n.ts,
    text: text.slice(0, MAX_TEXT),
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

/** One line per horizon: the forecast and its two strongest drivers, then the earnings context. */
export function factSheetSummary(s: FactSheet): string {
  const byName = new Map(s.facts.map((f) => [f.name, f]));
  const parts = [`${s.symbol} on ${formatDay(s.ts)} (${s.regime === 'earnings' ? 'earnings window' : 'normal day'}).`];
  const horizons = [...new Set(s.facts.flatMap((f) => (f.horizon === null ? [] : [f.horizon])))].sort((a, b) => a - b);
  for (const h of horizons) {
    const change = byName.get(`h${h}.change`);
    if (!change || change.value === null) continue;
    const drivers = s.facts
      .filter((f) => f.horizon === h && f.name.startsWith(`h${h}.driver.`) && f.value !== null)
      .sort((a, b) => Math.abs(b.value!) - Math.abs(a.value!))
      .slice(0, 2)
      .map((f) => `${f.label} (${f.value! > 0 ? 'pushing up' : 'pushing down'})`);
    parts.push(
      `${h}-day forecast: ${change.value >= 0 ? 'up' : 'down'} ${formatFact(change, { abs: true })}` +
        (drivers.length ? `, driven by ${drivers.join(' and ')}.` : '.'),
    );
  }
  const ret5 = byName.get('ret5d');
  if (ret5?.value != null)
    parts.push(`Last 5 days: ${ret5.value >= 0 ? 'up' : 'down'} ${formatFact(ret5, { abs: true })}.`);
  const window = byName.get('earnings.window');
  if (window) parts.push('Earnings announcement next trading day.');
  return parts.join(' ').slice(0, MAX_TEXT);
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
