// What the services tests compare: every stored prediction of the simulated symbols, as a count,
// the number of distinct keys, and a checksum over keys and values in key order. Equal digests
// mean the same predictions, each exactly once.
import { createHash } from 'node:crypto';
import { simulatedSymbol } from '../../operators/sources/simulator.js';
import type { Prediction } from '../../schemas/index.js';
import type { TimeSeriesStore } from '../../storage/timeseries-store.js';

export interface PredictionDigest {
  count: number;
  distinct: number;
  sha256: string;
}

export async function predictionsIn(store: TimeSeriesStore, symbols: number): Promise<Prediction[]> {
  const rows: Prediction[] = [];
  for (let i = 0; i < symbols; i++) rows.push(...(await store.predictions(simulatedSymbol(i), { limit: 1_000_000 })));
  return rows;
}

export function digest(rows: readonly Prediction[]): PredictionDigest {
  const lines = rows
    .map((p) =>
      [p.symbol, p.ts, p.horizon, p.targetTs, p.lastClose, p.predictedClose, p.lower, p.upper, p.model]
        .map((v) => (typeof v === 'number' ? Number(v.toPrecision(12)) : v))
        .join('|'),
    )
    .sort();
  return {
    count: rows.length,
    distinct: new Set(rows.map((p) => `${p.symbol}|${p.ts}|${p.horizon}`)).size,
    sha256: createHash('sha256').update(lines.join('\n')).digest('hex'),
  };
}

export async function digestOf(store: TimeSeriesStore, symbols: number): Promise<PredictionDigest> {
  return digest(await predictionsIn(store, symbols));
}
