// An ensemble: the mean of its members' quantiles per (symbol, time, horizon). Averaging nets
// trained differently cancels part of each one's noise, which on daily returns is most of it.
import type { Features } from '../schemas/index.js';
import type { Model, ModelOutput } from './model.js';

export function ensembleModel(members: readonly Model[], meta: { name: string; version: string }): Model {
  const first = members[0];
  if (!first) throw new Error(`ensemble ${meta.name}: no members`);
  for (const m of members) {
    if (m.spec !== first.spec)
      throw new Error(`ensemble ${meta.name}: ${m.name} uses spec ${m.spec}, ${first.name} ${first.spec}`);
    if (m.horizons.join() !== first.horizons.join()) {
      throw new Error(
        `ensemble ${meta.name}: ${m.name} forecasts horizons ${m.horizons.join(',')}, ${first.name} ${first.horizons.join(',')}`,
      );
    }
  }
  const k = members.length;
  return {
    name: meta.name,
    version: meta.version,
    spec: first.spec,
    horizons: [...first.horizons],
    async predictBatch(inputs: readonly Features[]): Promise<ModelOutput[]> {
      const outputs = await Promise.all(members.map((m) => m.predictBatch(inputs)));
      const sum = new Map<string, ModelOutput>();
      for (const out of outputs) {
        for (const o of out) {
          const key = `${o.symbol}\u0000${o.ts}\u0000${o.horizon}`;
          const s = sum.get(key);
          if (s === undefined) sum.set(key, { ...o });
          else {
            s.lowerReturn += o.lowerReturn;
            s.predictedReturn += o.predictedReturn;
            s.upperReturn += o.upperReturn;
          }
        }
      }
      // The mean of quantiles keeps lower <= median <= upper: each member's do.
      return [...sum.values()].map((s) => ({
        ...s,
        lowerReturn: s.lowerReturn / k,
        predictedReturn: s.predictedReturn / k,
        upperReturn: s.upperReturn / k,
      }));
    },
  };
}
