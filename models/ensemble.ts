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
  return {
    name: meta.name,
    version: meta.version,
    spec: first.spec,
    horizons: [...first.horizons],
    async predictBatch(inputs: readonly Features[]): Promise<ModelOutput[]> {
      const outputs = await Promise.all(members.map((m) => m.predictBatch(inputs)));
      // Members list outputs in the same (input, horizon) order as a rule: then average by
      // position (a keyed Map cost more than the three nets together at 5,000 inputs).
      const [head, ...rest] = outputs as [ModelOutput[], ...ModelOutput[][]];
      const aligned = rest.every(
        (out) =>
          out.length === head.length &&
          out.every((o, i) => o.horizon === head[i]!.horizon && o.ts === head[i]!.ts && o.symbol === head[i]!.symbol),
      );
      const groups = aligned ? head.map((o, i) => [o, ...rest.map((out) => out[i]!)]) : byKey(outputs);
      // The mean of quantiles keeps lower <= median <= upper: each member's do.
      return groups.map((g) => {
        let lower = 0;
        let median = 0;
        let upper = 0;
        for (const o of g) {
          lower += o.lowerReturn;
          median += o.predictedReturn;
          upper += o.upperReturn;
        }
        return {
          ...g[0]!,
          lowerReturn: lower / g.length,
          predictedReturn: median / g.length,
          upperReturn: upper / g.length,
        };
      });
    },
  };
}

/** Outputs grouped by (symbol, time, horizon), in first-seen order. */
function byKey(outputs: readonly (readonly ModelOutput[])[]): ModelOutput[][] {
  const groups = new Map<string, ModelOutput[]>();
  for (const out of outputs) {
    for (const o of out) {
      const key = `${o.symbol}\u0000${o.ts}\u0000${o.horizon}`;
      const g = groups.get(key);
      if (g === undefined) groups.set(key, [o]);
      else g.push(o);
    }
  }
  return [...groups.values()];
}
