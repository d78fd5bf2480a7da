// An ensemble: the mean of its members' quantiles per (symbol, time, horizon). Averaging nets
// trained differently cancels part of each one's noise, which on daily returns is most of it.
// Its attributions (of the median, and of the interval's width), when every member has them, are the mean of
// the members', and so is its rank signal (`rankReturn`, the nets' own medians; NaN when a member has none).
import type { Features } from '../schemas/index.js';
import type { Attribution, Model, ModelOutput, WidthAttribution } from './model.js';

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
      const groups = alignedGroups(await Promise.all(members.map((m) => m.predictBatch(inputs))));
      // The mean of quantiles keeps lower <= median <= upper: each member's do.
      return groups.map((g) => {
        let lower = 0;
        let median = 0;
        let upper = 0;
        let rank = 0;
        for (const o of g) {
          lower += o.lowerReturn;
          median += o.predictedReturn;
          upper += o.upperReturn;
          rank += o.rankReturn ?? Number.NaN;
        }
        return {
          ...g[0]!,
          lowerReturn: lower / g.length,
          predictedReturn: median / g.length,
          upperReturn: upper / g.length,
          rankReturn: rank / g.length,
        };
      });
    },
    // The median is the members' mean, so its attribution is the mean of theirs (when they all have one).
    ...(members.every((m) => m.attribute) && {
      async attribute(inputs: readonly Features[]): Promise<Attribution[]> {
        const groups = alignedGroups(await Promise.all(members.map((m) => m.attribute!(inputs))));
        return groups.map((g) => {
          let median = 0;
          let baseline = 0;
          const contributions = new Float32Array(g[0]!.contributions.length);
          for (const a of g) {
            median += a.predictedReturn;
            baseline += a.baselineReturn;
            for (let c = 0; c < contributions.length; c++) contributions[c] = contributions[c]! + a.contributions[c]!;
          }
          for (let c = 0; c < contributions.length; c++) contributions[c] = contributions[c]! / g.length;
          return {
            ...g[0]!,
            predictedReturn: median / g.length,
            baselineReturn: baseline / g.length,
            contributions,
            method: combinedMethod(g.map((a) => a.method)),
          };
        });
      },
    }),
    // The width is the members' mean too (their lower and upper quantiles are averaged).
    ...(members.every((m) => m.attributeWidth) && {
      async attributeWidth(inputs: readonly Features[]): Promise<WidthAttribution[]> {
        const groups = alignedGroups(await Promise.all(members.map((m) => m.attributeWidth!(inputs))));
        return groups.map((g) => {
          const contributions = new Float32Array(g[0]!.contributions.length);
          for (const w of g) {
            for (let c = 0; c < contributions.length; c++) contributions[c] = contributions[c]! + w.contributions[c]!;
          }
          for (let c = 0; c < contributions.length; c++) contributions[c] = contributions[c]! / g.length;
          return {
            ...g[0]!,
            predictedWidth: g.reduce((a, w) => a + w.predictedWidth, 0) / g.length,
            baselineWidth: g.reduce((a, w) => a + w.baselineWidth, 0) / g.length,
            contributions,
            method: combinedMethod(g.map((w) => w.method)),
          };
        });
      },
    }),
  };
}

/** `exact` members add no error: the mixture is named by its approximate methods, if any ('a+b' when several). */
function combinedMethod(methods: readonly string[]): string {
  const approximate = [...new Set(methods.filter((m) => m !== 'exact'))];
  return approximate.length === 0 ? 'exact' : approximate.join('+');
}

interface Keyed {
  symbol: string;
  ts: number;
  horizon: number;
}

/** The members' outputs per (symbol, time, horizon), in the first member's order (first-seen if they disagree). */
function alignedGroups<T extends Keyed>(outputs: readonly (readonly T[])[]): T[][] {
  // Members list outputs in the same (input, horizon) order as a rule: then group by position
  // (a keyed Map cost more than the three nets together at 5,000 inputs).
  const [head, ...rest] = outputs as [readonly T[], ...(readonly T[])[]];
  const aligned = rest.every(
    (out) =>
      out.length === head.length &&
      out.every((o, i) => o.horizon === head[i]!.horizon && o.ts === head[i]!.ts && o.symbol === head[i]!.symbol),
  );
  return aligned ? head.map((o, i) => [o, ...rest.map((out) => out[i]!)]) : byKey(outputs);
}

/** Outputs grouped by (symbol, time, horizon), in first-seen order. */
function byKey<T extends Keyed>(outputs: readonly (readonly T[])[]): T[][] {
  const groups = new Map<string, T[]>();
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
