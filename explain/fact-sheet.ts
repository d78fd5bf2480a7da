// The fact sheet of one symbol's predictions at one time: every number an explanation may
// print, each a fact with a stable id (SYMBOL:inputTs:name) and a typed value. Built by the
// `facts` operator from what the pipeline already knows: the features, the model's forecasts,
// its attributions and the earnings calendar. Pure: no I/O, same input → same sheet.
import type { EarningsEvent } from '../models/earnings-calendar.js';
import { groupContributions, topFeatures } from '../models/feature-groups.js';
import { FEATURE_SPEC, type FeatureName, featureIndex } from '../models/features.js';
import type { Attribution } from '../models/model.js';
import type { Fact, FactSheet, Features, Prediction } from '../schemas/index.js';
import { pctFromLogReturn } from './format.js';

export interface EarningsFacts {
  /** The symbol has any date in the calendar. */
  known: boolean;
  next: EarningsEvent | null;
  last: EarningsEvent | null;
  /** The next-day return spans an announcement. */
  window: boolean;
}

export interface FactSheetInput {
  features: Features;
  /** The predictions made from these features, one per horizon. */
  predictions: readonly Prediction[];
  /** The model's attributions for these features, one per horizon; empty when it has none. */
  attributions: readonly Attribution[];
  earnings: EarningsFacts | null;
  /** Bar length, ms: the inputs were complete at ts + intervalMs. */
  intervalMs: number;
  /** Interval coverage the model aims for, percent (80 for the 0.1–0.9 quantiles). */
  coveragePct?: number;
}

const DAY_MS = 86_400_000;
/** Individual features listed per horizon beside the groups. */
const TOP_FEATURES = 3;
/** Where a constant point comes from (`Attribution.point`), in words. */
/** The `hN.point` fact's text per kind of constant point (the template says each its own way). */
export const POINT_TEXT: Record<NonNullable<Attribution['point']> | 'constant', string> = {
  constantDrift:
    "the training window's constant drift (the median move over this horizon in the training years): the model's own forecast did not beat it on validation days",
  persistence: "no change (persistence): the model's own forecast did not beat it on validation days",
  constant: "a constant: the model's own forecast did not beat it on validation days",
};

export function factSheetId(symbol: string, ts: number): string {
  return `facts:${symbol}:${ts}`;
}

export function buildFactSheet(input: FactSheetInput): FactSheet {
  const { features: f, predictions } = input;
  const first = predictions[0];
  if (!first) throw new Error(`fact sheet for ${f.symbol} at ${f.ts}: no predictions`);
  const facts: Fact[] = [];
  const add = (
    name: string,
    kind: string,
    label: string,
    value: number | null,
    unit: string,
    extra: { horizon?: number; text?: string } = {},
  ): void => {
    if (value !== null && !Number.isFinite(value)) return; // a feature still warming up: no fact
    facts.push({
      id: `${f.symbol}:${f.ts}:${name}`,
      kind,
      name,
      label,
      horizon: extra.horizon ?? null,
      value,
      unit,
      text: extra.text ?? null,
    });
  };

  add('date', 'context', 'day of the last price the model saw', dayOf(f.ts), 'date');
  add('close', 'context', 'last close', f.close, 'usd');
  const feature = (name: FeatureName) =>
    f.spec === FEATURE_SPEC.id ? (f.values[featureIndex(name)] ?? Number.NaN) : Number.NaN;
  add('ret1d', 'context', 'change over the last trading day', pctFromLogReturn(feature('ret1')), 'pct');
  add('ret5d', 'context', 'change over the last 5 trading days', pctFromLogReturn(feature('ret5')), 'pct');
  add('ret20d', 'context', 'change over the last 20 trading days', pctFromLogReturn(feature('ret20')), 'pct');
  add(
    'vol20d',
    'context',
    'volatility of daily returns over the last 20 trading days, annualised',
    feature('vol20') * Math.sqrt(252) * 100,
    'pct',
  );
  add('model', 'model', 'model that made the forecast', null, 'text', {
    text: `${first.model}@${first.modelVersion}`,
  });
  add('regime', 'model', 'branch of the router', null, 'text', {
    text: first.regime === 'earnings' ? 'earnings window' : 'normal day',
  });
  addEarnings(input.earnings, f, add);

  for (const p of predictions) {
    const h = p.horizon;
    const at = (name: string) => `h${h}.${name}`;
    add(at('horizon'), 'prediction', 'forecast horizon', h, 'days', { horizon: h });
    add(at('target'), 'prediction', 'day the forecast is for', dayOf(p.targetTs), 'date', { horizon: h });
    add(at('close'), 'prediction', 'predicted close', p.predictedClose, 'usd', { horizon: h });
    add(
      at('change'),
      'prediction',
      'predicted change from the last close',
      pctFromLogReturn(p.predictedReturn),
      'pct',
      {
        horizon: h,
      },
    );
    add(at('lower'), 'prediction', 'low end of the forecast interval', p.lower, 'usd', { horizon: h });
    add(at('upper'), 'prediction', 'high end of the forecast interval', p.upper, 'usd', { horizon: h });
    add(at('lowerChange'), 'prediction', 'low end of the interval as a change', pct(p.lower, p.lastClose), 'pct', {
      horizon: h,
    });
    add(at('upperChange'), 'prediction', 'high end of the interval as a change', pct(p.upper, p.lastClose), 'pct', {
      horizon: h,
    });
    add(at('coverage'), 'prediction', 'chance the close lands inside the interval', input.coveragePct ?? 80, 'pct', {
      horizon: h,
    });
    const a = input.attributions.find((x) => x.horizon === h);
    if (!a) continue;
    add(
      at('baseline'),
      'driver',
      'forecast change for an average input (every feature at its training mean)',
      pctFromLogReturn(a.baselineReturn),
      'pct',
      { horizon: h },
    );
    add(at('method'), 'driver', 'how the drivers were measured', null, 'text', { horizon: h, text: a.method });
    if (a.intervalScale !== undefined && Math.abs(a.intervalScale - 1) >= 0.005) {
      // The live calibration's share of the interval: why it is wider (or narrower) than the model's.
      add(
        at('calibration'),
        'prediction',
        "how much the live calibration has widened (or narrowed) the model's intervals at this horizon",
        (a.intervalScale - 1) * 100,
        'pct',
        { horizon: h },
      );
    }
    if (a.method === 'constant') {
      // No input moves a constant point: say where it comes from, and what the model does move, the interval.
      add(at('point'), 'driver', 'where the predicted change comes from', null, 'text', {
        horizon: h,
        text: POINT_TEXT[a.point ?? 'constant'],
      });
      const w = a.width;
      if (!w) continue;
      add(
        at('width'),
        'driver',
        'width of the forecast interval (high end minus low end), in percentage points of log return',
        w.predictedWidth * 100,
        'pct',
        { horizon: h },
      );
      add(
        at('widthBaseline'),
        'driver',
        'width of the forecast interval for an average input (every feature at its training mean)',
        w.baselineWidth * 100,
        'pct',
        { horizon: h },
      );
      add(at('widthMethod'), 'driver', "how the interval's drivers were measured", null, 'text', {
        horizon: h,
        text: w.method,
      });
      // Percentage points of the width's log return: they add up to width − widthBaseline, nearly.
      for (const g of groupContributions(w.contributions)) {
        add(at(`widthDriver.${g.group}`), 'driver', g.label, g.contribution * 100, 'pct', {
          horizon: h,
          text: g.description,
        });
      }
      for (const t of topFeatures(w.contributions, TOP_FEATURES)) {
        add(at(`widthFeature.${t.name}`), 'driver', t.description, t.contribution * 100, 'pct', {
          horizon: h,
          text: t.name,
        });
      }
      continue;
    }
    for (const g of groupContributions(a.contributions)) {
      // Percentage points of the forecast log return (×100): they add up to change − baseline, nearly.
      add(at(`driver.${g.group}`), 'driver', g.label, g.contribution * 100, 'pct', {
        horizon: h,
        text: g.description,
      });
    }
    for (const t of topFeatures(a.contributions, TOP_FEATURES)) {
      add(at(`feature.${t.name}`), 'driver', t.description, t.contribution * 100, 'pct', { horizon: h, text: t.name });
    }
  }
  return {
    id: factSheetId(f.symbol, f.ts),
    symbol: f.symbol,
    ts: f.ts,
    asOf: f.ts + input.intervalMs,
    model: first.model,
    modelVersion: first.modelVersion,
    regime: first.regime,
    facts,
  };
}

function addEarnings(
  e: EarningsFacts | null,
  f: Features,
  add: (
    name: string,
    kind: string,
    label: string,
    value: number | null,
    unit: string,
    extra?: { text?: string },
  ) => void,
): void {
  if (e === null) return;
  if (!e.known) {
    add('earnings.none', 'earnings', 'earnings dates', null, 'text', {
      text: `no earnings dates are known for ${f.symbol}`,
    });
    return;
  }
  const today = dayOf(f.ts);
  if (e.next) {
    add('earnings.next', 'earnings', 'next earnings announcement', e.next.date, 'date');
    add(
      'earnings.daysTo',
      'earnings',
      'calendar days to the next earnings announcement',
      (e.next.date - today) / DAY_MS,
      'days',
    );
  }
  if (e.last) {
    add('earnings.last', 'earnings', 'last earnings announcement', e.last.date, 'date');
    add(
      'earnings.daysSince',
      'earnings',
      'calendar days since the last earnings announcement',
      (today - e.last.date) / DAY_MS,
      'days',
    );
    if (e.last.surprisePct !== null) {
      add(
        'earnings.surprise',
        'earnings',
        'EPS surprise at the last announcement (actual vs estimate)',
        e.last.surprisePct,
        'pct',
      );
    }
  }
  if (e.window) {
    add('earnings.window', 'earnings', 'earnings window', null, 'text', {
      text: 'the next trading day spans an earnings announcement',
    });
  }
}

function dayOf(ts: number): number {
  return Math.floor(ts / DAY_MS) * DAY_MS;
}

function pct(price: number, base: number): number {
  return (price / base - 1) * 100;
}
