// Semantic rules per record type: what a value must satisfy beyond its Avro shape.
// Each rule returns readable problems; the engine routes a record with any to the DLQ.
import type {
  Bar,
  Calibration,
  DeadLetter,
  Document,
  Earnings,
  FactSheet,
  Features,
  News,
  Prediction,
  Quote,
  Score,
  SmaSignal,
} from './generated.js';

export const SYMBOL_PATTERN = /^[A-Z][A-Z0-9.^=-]{0,14}$/;

// Every record of every hop is checked, so the checks push into one array instead of
// building a small array per field; good symbols are remembered (a bounded set).
const knownSymbols = new Set<string>();

function symbol(p: string[], s: string): void {
  if (knownSymbols.has(s)) return;
  if (!SYMBOL_PATTERN.test(s)) {
    p.push(`symbol: ${JSON.stringify(s)} is not a ticker (A-Z, digits, . ^ = -)`);
    return;
  }
  if (knownSymbols.size >= 100_000) knownSymbols.clear();
  knownSymbols.add(s);
}
function time(p: string[], name: string, v: number): void {
  if (!(Number.isSafeInteger(v) && v > 0)) p.push(`${name}: ${v} is not an epoch-ms time`);
}
function positive(p: string[], name: string, v: number | null): void {
  if (v !== null && !(Number.isFinite(v) && v > 0)) p.push(`${name}: ${v} must be a finite price > 0`);
}
function nonNegative(p: string[], name: string, v: number | null): void {
  if (v !== null && !(Number.isFinite(v) && v >= 0)) p.push(`${name}: ${v} must be finite and >= 0`);
}

export function validateQuote(q: Quote): string[] {
  const p: string[] = [];
  symbol(p, q.symbol);
  time(p, 'ts', q.ts);
  positive(p, 'price', q.price);
  positive(p, 'dayOpen', q.dayOpen);
  positive(p, 'dayHigh', q.dayHigh);
  positive(p, 'dayLow', q.dayLow);
  nonNegative(p, 'dayVolume', q.dayVolume);
  if (q.dayHigh !== null && q.dayLow !== null && q.dayHigh < q.dayLow) {
    p.push(`dayHigh ${q.dayHigh} < dayLow ${q.dayLow}`);
  }
  return p;
}

export function validateBar(b: Bar): string[] {
  const p: string[] = [];
  symbol(p, b.symbol);
  time(p, 'ts', b.ts);
  positive(p, 'open', b.open);
  positive(p, 'high', b.high);
  positive(p, 'low', b.low);
  positive(p, 'close', b.close);
  nonNegative(p, 'volume', b.volume);
  if (b.high < b.low) p.push(`high ${b.high} < low ${b.low}`);
  return p;
}

export function validateFeatures(f: Features): string[] {
  const p: string[] = [];
  symbol(p, f.symbol);
  time(p, 'ts', f.ts);
  positive(p, 'close', f.close);
  // NaN means "still warming up"; an infinity is always a bug upstream.
  const inf = f.values.findIndex((v) => v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY);
  if (inf >= 0) p.push(`values[${inf}] is infinite`);
  return p;
}

export function validatePrediction(x: Prediction): string[] {
  const p: string[] = [];
  symbol(p, x.symbol);
  time(p, 'ts', x.ts);
  time(p, 'targetTs', x.targetTs);
  positive(p, 'lastClose', x.lastClose);
  positive(p, 'predictedClose', x.predictedClose);
  positive(p, 'lower', x.lower);
  positive(p, 'upper', x.upper);
  if (!Number.isInteger(x.horizon) || x.horizon < 1) p.push(`horizon ${x.horizon} must be an integer >= 1`);
  if (!(x.lower <= x.predictedClose && x.predictedClose <= x.upper)) {
    p.push(`interval [${x.lower}, ${x.upper}] does not contain predictedClose ${x.predictedClose}`);
  }
  if (x.rankScore != null && !Number.isFinite(x.rankScore)) p.push(`rankScore ${x.rankScore} must be finite or null`);
  return p;
}

export function validateNews(n: News): string[] {
  const p: string[] = [];
  symbol(p, n.symbol);
  time(p, 'ts', n.ts);
  if (n.headline.trim() === '') p.push('headline is empty');
  return p;
}

export function validateEarnings(e: Earnings): string[] {
  const p: string[] = [];
  symbol(p, e.symbol);
  time(p, 'ts', e.ts);
  for (const d of e.days) {
    if (!Number.isInteger(d) || d % 86_400_000 !== 0) p.push(`day ${d} is not 00:00 UTC of a date`);
  }
  return p;
}

export function validateScore(x: Score): string[] {
  const p: string[] = [];
  symbol(p, x.symbol);
  time(p, 'ts', x.ts);
  time(p, 'targetTs', x.targetTs);
  if (x.targetTs <= x.ts) p.push(`targetTs ${x.targetTs} is not after ts ${x.ts}`);
  if (x.status !== 'scored' && x.status !== 'missing')
    p.push(`status ${JSON.stringify(x.status)} is not scored or missing`);
  if (x.status === 'scored' && (x.realisedClose === null || !(x.realisedClose > 0))) {
    p.push(`a scored prediction needs a positive realisedClose, got ${x.realisedClose}`);
  }
  return p;
}

export function validateCalibration(c: Calibration): string[] {
  const p: string[] = [];
  if (c.group !== `${c.horizon}:${c.regime}`)
    p.push(`group ${c.group} is not horizon:regime (${c.horizon}:${c.regime})`);
  if (!Number.isFinite(c.logScale)) p.push(`logScale ${c.logScale} is not finite`);
  for (const [k, v] of [
    ['coverage', c.coverage],
    ['recentCoverage', c.recentCoverage],
  ] as const) {
    if (!(v >= 0 && v <= 1)) p.push(`${k} ${v} is not in [0, 1]`);
  }
  return p;
}

export function validateSmaSignal(x: SmaSignal): string[] {
  const p: string[] = [];
  symbol(p, x.symbol);
  time(p, 'ts', x.ts);
  if (x.direction !== 'up' && x.direction !== 'down')
    p.push(`direction ${JSON.stringify(x.direction)} is not up or down`);
  if (!(x.fastBars >= 1 && x.slowBars > x.fastBars))
    p.push(`fastBars ${x.fastBars} must be >= 1 and below slowBars ${x.slowBars}`);
  for (const [k, v] of [
    ['close', x.close],
    ['fast', x.fast],
    ['slow', x.slow],
  ] as const) {
    if (!(Number.isFinite(v) && v > 0)) p.push(`${k} ${v} is not a positive price`);
  }
  return p;
}

const FACT_UNITS = new Set(['pct', 'usd', 'days', 'count', 'date', 'text']);

export function validateFactSheet(s: FactSheet): string[] {
  const p: string[] = [];
  symbol(p, s.symbol);
  time(p, 'ts', s.ts);
  time(p, 'asOf', s.asOf);
  if (s.asOf < s.ts) p.push(`asOf ${s.asOf} is before ts ${s.ts}`);
  const names = new Set<string>();
  for (const f of s.facts) {
    if (names.has(f.name)) p.push(`fact ${f.name}: name used twice`);
    names.add(f.name);
    if (!FACT_UNITS.has(f.unit))
      p.push(`fact ${f.name}: unit ${JSON.stringify(f.unit)} is not one of ${[...FACT_UNITS].join(', ')}`);
    if (f.value !== null && !Number.isFinite(f.value)) p.push(`fact ${f.name}: value ${f.value} is not finite`);
    if (f.value === null && f.text === null) p.push(`fact ${f.name}: has neither a value nor a text`);
  }
  return p;
}

export function validateDocument(d: Document): string[] {
  const p: string[] = [];
  symbol(p, d.symbol);
  time(p, 'ts', d.ts);
  if (d.kind !== 'news' && d.kind !== 'facts') p.push(`kind ${JSON.stringify(d.kind)} is not news or facts`);
  if (d.embedding.length === 0) p.push('embedding is empty');
  let norm = 0;
  for (const v of d.embedding) {
    if (!Number.isFinite(v)) {
      p.push('embedding has a non-finite value');
      break;
    }
    norm += v * v;
  }
  // float32 storage rounds each component: unit length within 1e-3.
  if (d.embedding.length > 0 && Math.abs(Math.sqrt(norm) - 1) > 1e-3)
    p.push(`embedding has length ${Math.sqrt(norm).toFixed(4)}, not 1`);
  return p;
}

export function validateDeadLetter(d: DeadLetter): string[] {
  return d.reason ? [] : ['reason is empty'];
}
