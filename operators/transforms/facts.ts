// facts: features → fact sheets, the numbers explanations cite. One node per router branch,
// beside `predict` and with the same model, so a sheet's forecasts are the predictions'.
// For each input it runs the model, asks it what moved the median (Model.attribute) and adds
// recent returns, volatility and the earnings context (explain/fact-sheet.ts).
//
// No state. Time policy: a sheet's asOf is its bar's end (ts + interval); retrieval never uses
// news published after it. Cost policy: attributions cost ~100× a forecast, so within one batch
// only the newest input of each symbol gets a sheet, and batches gather for at least `lingerMs`
// (1 s). Explanations are of the latest prediction: live, a batch holds one bar per symbol and
// every prediction gets its sheet; a replay at full speed gets about one sheet per symbol per
// second instead of one per bar.
import { defineOperator, RecordError } from '../../engine/index.js';
import { buildFactSheet, type EarningsFacts } from '../../explain/fact-sheet.js';
import type { FeatureCalendar } from '../../models/features.js';
import type { Model } from '../../models/model.js';
import { predictRecords } from '../../models/predictions.js';
import { type Features, schemas } from '../../schemas/index.js';

export interface FactsOptions {
  model: Model;
  regime: 'normal' | 'earnings';
  /** Earnings dates (the router's calendar); none = no earnings facts. */
  calendar?: FeatureCalendar;
  /** Bar length in ms, default one day. */
  intervalMs?: number;
  /** Least time between batches, ms (see the cost policy above); default 1,000. */
  lingerMs?: number;
}

export function facts(opts: FactsOptions) {
  const { model, regime } = opts;
  const intervalMs = opts.intervalMs ?? 86_400_000;
  return defineOperator<Features, { facts: typeof schemas.FactSheet }>({
    kind: 'transform',
    name: 'facts',
    input: schemas.Features,
    outputs: { facts: schemas.FactSheet },
    lingerMs: opts.lingerMs ?? 1000,
    async processBatch(records, ctx) {
      const newest = new Map<string, Features>();
      for (const { value } of records) {
        if (value.spec !== model.spec) {
          throw new RecordError(
            `features spec ${value.spec} does not match model ${model.name}@${model.version} (${model.spec})`,
          );
        }
        const seen = newest.get(value.symbol);
        if (!seen || value.ts >= seen.ts) newest.set(value.symbol, value);
      }
      const inputs = [...newest.values()];
      const [predictions, attributions] = await Promise.all([
        predictRecords(model, inputs, regime, Date.now()),
        model.attribute ? model.attribute(inputs) : [],
      ]);
      const byInput = groupBy(predictions, (p) => `${p.symbol}:${p.ts}`);
      const attributionsByInput = groupBy(attributions, (a) => `${a.symbol}:${a.ts}`);
      for (const f of inputs) {
        const key = `${f.symbol}:${f.ts}`;
        const sheet = buildFactSheet({
          features: f,
          predictions: byInput.get(key) ?? [],
          attributions: attributionsByInput.get(key) ?? [],
          earnings: earningsOf(opts.calendar, f),
          intervalMs,
        });
        ctx.emit('facts', sheet, { key: f.symbol, timestamp: f.ts });
      }
    },
  });
}

function earningsOf(calendar: FactsOptions['calendar'], f: Features): EarningsFacts | null {
  if (!calendar) return null;
  const next = calendar.nextEarnings(f.symbol, f.ts);
  const last = calendar.lastEarnings(f.symbol, f.ts);
  return {
    // Any date of the symbol is before this bar or on/after it: none of either means none at all.
    known: next !== null || last !== null,
    next,
    last,
    window: calendar.isEarningsWindow(f.symbol, f.ts),
  };
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}
