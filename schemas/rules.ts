// Semantic rules per record type: what a value must satisfy beyond its Avro shape.
// Each rule returns readable problems; the engine routes a record with any to the DLQ.
import type { Bar, DeadLetter, Features, News, Prediction, Quote } from './generated.js';

export const SYMBOL_PATTERN = /^[A-Z][A-Z0-9.^=-]{0,14}$/;

function symbol(s: string): string[] {
  return SYMBOL_PATTERN.test(s) ? [] : [`symbol: ${JSON.stringify(s)} is not a ticker (A-Z, digits, . ^ = -)`];
}
function time(name: string, v: number): string[] {
  return Number.isSafeInteger(v) && v > 0 ? [] : [`${name}: ${v} is not an epoch-ms time`];
}
function positive(name: string, v: number | null): string[] {
  if (v === null) return [];
  return Number.isFinite(v) && v > 0 ? [] : [`${name}: ${v} must be a finite price > 0`];
}
function nonNegative(name: string, v: number | null): string[] {
  if (v === null) return [];
  return Number.isFinite(v) && v >= 0 ? [] : [`${name}: ${v} must be finite and >= 0`];
}

export function validateQuote(q: Quote): string[] {
  const p = [
    ...symbol(q.symbol),
    ...time('ts', q.ts),
    ...positive('price', q.price),
    ...positive('dayOpen', q.dayOpen),
    ...positive('dayHigh', q.dayHigh),
    ...positive('dayLow', q.dayLow),
    ...nonNegative('dayVolume', q.dayVolume),
  ];
  if (q.dayHigh !== null && q.dayLow !== null && q.dayHigh < q.dayLow) {
    p.push(`dayHigh ${q.dayHigh} < dayLow ${q.dayLow}`);
  }
  return p;
}

export function validateBar(b: Bar): string[] {
  const p = [
    ...symbol(b.symbol),
    ...time('ts', b.ts),
    ...positive('open', b.open),
    ...positive('high', b.high),
    ...positive('low', b.low),
    ...positive('close', b.close),
    ...nonNegative('volume', b.volume),
  ];
  if (b.high < b.low) p.push(`high ${b.high} < low ${b.low}`);
  return p;
}

export function validateFeatures(f: Features): string[] {
  const p = [...symbol(f.symbol), ...time('ts', f.ts), ...positive('close', f.close)];
  // NaN means "still warming up"; an infinity is always a bug upstream.
  const inf = f.values.findIndex((v) => v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY);
  if (inf >= 0) p.push(`values[${inf}] is infinite`);
  return p;
}

export function validatePrediction(x: Prediction): string[] {
  const p = [
    ...symbol(x.symbol),
    ...time('ts', x.ts),
    ...time('targetTs', x.targetTs),
    ...positive('lastClose', x.lastClose),
    ...positive('predictedClose', x.predictedClose),
    ...positive('lower', x.lower),
    ...positive('upper', x.upper),
  ];
  if (!Number.isInteger(x.horizon) || x.horizon < 1) p.push(`horizon ${x.horizon} must be an integer >= 1`);
  if (!(x.lower <= x.predictedClose && x.predictedClose <= x.upper)) {
    p.push(`interval [${x.lower}, ${x.upper}] does not contain predictedClose ${x.predictedClose}`);
  }
  return p;
}

export function validateNews(n: News): string[] {
  const p = [...symbol(n.symbol), ...time('ts', n.ts)];
  if (n.headline.trim() === '') p.push('headline is empty');
  return p;
}

export function validateDeadLetter(d: DeadLetter): string[] {
  return d.reason ? [] : ['reason is empty'];
}
