// The grounded template explainer: readable prose written only from retrieved facts and
// headlines, each sentence citing what it states. No model, no network: the default, and the
// fallback when another explainer's text fails the grounding checker.
import { POINT_TEXT } from './fact-sheet.js';
import { formatDay, formatFact, newYorkDay, sourceName } from './format.js';
import type { Explainer, ExplainOptions, ExplanationContext, RetrievedFact, RetrievedNews } from './types.js';

/** Drivers named in the text: the strongest in each direction, up to this many in all. */
const DRIVERS = 3;
/** A driver smaller than this many percentage points is not worth a clause. */
const MIN_DRIVER = 0.005;

export function templateExplainer(): Explainer {
  return {
    name: 'template',
    async explain(ctx: ExplanationContext, opts: ExplainOptions = {}): Promise<string> {
      const text = writeExplanation(ctx);
      opts.onText?.(text);
      return text;
    },
  };
}

/** The explanation as paragraphs of sentences, each citing its facts. */
export function writeExplanation(ctx: ExplanationContext): string {
  const facts = new Map(ctx.facts.map((f) => [f.name, f]));
  const h = ctx.prediction.horizon;
  const get = (name: string) => facts.get(name);
  // Paragraphs: the forecast; why; the news; how far to trust it.
  const paragraphs = [
    [forecast(ctx, get), interval(get, h)],
    [drivers(ctx.facts, get, h, ctx.sheet !== null), recent(ctx.prediction.symbol, get), earnings(get)],
    [headlines(ctx)],
    [trackRecord(ctx.prediction.symbol, get, h)],
  ];
  return paragraphs
    .map((p) => p.filter((s): s is string => s !== null).join(' '))
    .filter((p) => p !== '')
    .join('\n\n');
}

type Get = (name: string) => RetrievedFact | undefined;

function cite(...facts: (RetrievedFact | RetrievedNews | undefined)[]): string {
  const refs = [...new Set(facts.flatMap((f) => (f ? [f.ref] : [])))];
  return refs.length ? ` [${refs.join(', ')}]` : '';
}

/** "a 60%", "an 80%", "an 11-day": the article for a number as it is read aloud. */
function article(printed: string): string {
  return /^(8|11(?!\d)|18(?!\d))/.test(printed) ? 'an' : 'a';
}

function value(f: RetrievedFact | undefined, opts: { abs?: boolean } = {}): string {
  return f ? formatFact(f, opts) : '';
}

function forecast(ctx: ExplanationContext, get: Get): string {
  const p = ctx.prediction;
  const h = p.horizon;
  const change = get(`h${h}.change`);
  const close = get('close');
  const predicted = get(`h${h}.close`);
  const target = get(`h${h}.target`);
  const horizon = get(`h${h}.horizon`);
  const v = change?.value ?? 0;
  const when = h === 1 ? 'over the next trading day' : `over the next ${value(horizon)} of trading`;
  const move =
    Math.abs(v) < 0.005
      ? `to stay about flat (${value(change)})`
      : `to ${v > 0 ? 'rise' : 'fall'} ${value(change, { abs: true })}`;
  return (
    `The model expects ${p.symbol} ${move} ${when}, from ${value(close)} to about ${value(predicted)}` +
    `${target ? ` by ${value(target)}` : ''}${cite(change, horizon, close, predicted, target)}.`
  );
}

function interval(get: Get, h: number): string | null {
  const lower = get(`h${h}.lower`);
  const upper = get(`h${h}.upper`);
  const coverage = get(`h${h}.coverage`);
  if (!lower || !upper) return null;
  const lc = get(`h${h}.lowerChange`);
  const uc = get(`h${h}.upperChange`);
  const pct = (f: RetrievedFact | undefined) =>
    f?.value == null ? '' : ` (${f.value >= 0 ? 'up' : 'down'} ${value(f, { abs: true })})`;
  const chance = coverage ? `${article(value(coverage))} ${value(coverage)}` : 'a good';
  const text = `It puts ${chance} chance on the close landing between ${value(lower)}${pct(lc)} and ${value(upper)}${pct(uc)}${cite(coverage, lower, lc, upper, uc)}.`;
  // Said when it matters: an interval several times the model's own is the calibration's doing.
  const calibration = get(`h${h}.calibration`);
  if (calibration?.value == null || Math.abs(calibration.value) < 10) return text;
  const how =
    calibration.value > 0
      ? `widened by ${value(calibration, { abs: true })} because recent closes fell outside the intervals more often than they should`
      : `narrowed by ${value(calibration, { abs: true })} because recent closes fell inside them more often than they should`;
  return `${text} That interval is the model's, ${how} (the live calibration, shared by every symbol at this horizon)${cite(calibration)}.`;
}

function drivers(all: readonly RetrievedFact[], get: Get, h: number, hasSheet: boolean): string | null {
  const groups = strongest(all, h, 'driver.');
  if (groups.length === 0) {
    const method = get(`h${h}.method`);
    const baseline = get(`h${h}.baseline`);
    // The shipped point is a constant where the net showed no skill over it (models/point-forecast.ts).
    if (method?.text === 'constant' && baseline?.value != null) return constantPoint(all, get, h);
    if (method) return null;
    // No fact sheet for this prediction (yet): in a fast replay only each second's newest bar gets one.
    if (!hasSheet) return 'What moved this forecast is not known: its fact sheet has not been written yet.';
    return 'This model reads no features, so no single input moved it.';
  }
  const up = groups.filter((f) => f.value! > 0);
  const down = groups.filter((f) => f.value! < 0);
  const baseline = get(`h${h}.baseline`);
  const against =
    baseline?.value != null
      ? `Compared with its forecast for an average day (${baseline.value >= 0 ? 'up' : 'down'} ${value(baseline, { abs: true })}), the model`
      : 'The model';
  const moves = [
    up.length ? `was pushed up by ${list(up)}` : '',
    down.length ? `${up.length ? 'held back' : 'was pulled down'} by ${list(down)}` : '',
  ]
    .filter(Boolean)
    .join(up.length > 1 ? ', and ' : ' and ');
  return `${against} ${moves}${cite(baseline, ...groups)}.`;
}

/** Drivers as a list: "volatility (+0.31 points) and momentum (−0.02 points)". */
function list(fs: readonly RetrievedFact[]): string {
  return join(
    fs.map(
      (f) => `${lowerFirst(f.label)} (${f.value! > 0 ? '+' : '−'}${value(f, { abs: true }).replace('%', '')} points)`,
    ),
  );
}

/** The strongest of the facts named `prefix…` at horizon h, largest first, each worth a clause. */
function strongest(all: readonly RetrievedFact[], h: number, prefix: string): RetrievedFact[] {
  return all
    .filter((f) => f.horizon === h && f.name.startsWith(`h${h}.${prefix}`) && f.value !== null)
    .sort((a, b) => Math.abs(b.value!) - Math.abs(a.value!))
    .filter((f) => Math.abs(f.value!) >= MIN_DRIVER)
    .slice(0, DRIVERS);
}

/**
 * A constant point (the net did not beat the constant on validation): where the point comes from, then what the
 * model does move, the width of its interval, and the features that widened or narrowed it.
 */
function constantPoint(all: readonly RetrievedFact[], get: Get, h: number): string {
  const method = get(`h${h}.method`);
  const baseline = get(`h${h}.baseline`);
  const point = get(`h${h}.point`);
  const source = point?.text ?? '';
  const what =
    source === POINT_TEXT.persistence
      ? 'no change (persistence)'
      : source === POINT_TEXT.constantDrift
        ? `the training window's constant drift, the typical move over this horizon in the years the model was trained on (${value(baseline)})`
        : `a constant, the typical move over this horizon (${value(baseline)})`;
  const first =
    `That change is the same for every symbol: it is ${what}, because on validation days the model's own forecast ` +
    `did not beat that constant${cite(method, baseline, point)}.`;
  const width = get(`h${h}.width`);
  const widthBaseline = get(`h${h}.widthBaseline`);
  if (width?.value == null) return `${first} Its view shows in the interval, not the point.`;
  const points = (f: RetrievedFact) => value(f, { abs: true }).replace('%', '');
  const against = widthBaseline?.value != null ? `, against ${points(widthBaseline)} for an average input` : '';
  const drivers = strongest(all, h, 'widthDriver.');
  const wider = drivers.filter((f) => f.value! > 0);
  const narrower = drivers.filter((f) => f.value! < 0);
  const moves = [
    wider.length ? `widened by ${list(wider)}` : '',
    narrower.length ? `narrowed by ${list(narrower)}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  return (
    `${first} What the model does move is the width of its interval: ${points(width)} points of log return here${against}` +
    `${moves ? `, ${moves}` : ''}${cite(width, widthBaseline, ...drivers)}.`
  );
}

function recent(symbol: string, get: Get): string | null {
  const r5 = get('ret5d');
  const r20 = get('ret20d');
  const vol = get('vol20d');
  if (!r5 && !r20) return null;
  const verb = (f: RetrievedFact) => (f.value! >= 0 ? 'gained' : 'lost');
  let moves: string;
  if (r5?.value != null && r20?.value != null) {
    const same = verb(r5) === verb(r20);
    moves = `${verb(r5)} ${value(r5, { abs: true })} over the last 5 trading days ${same ? 'and' : 'but'} ${same ? '' : `${verb(r20)} `}${value(r20, { abs: true })} over the last 20`;
  } else {
    const f = (r5?.value != null ? r5 : r20)!;
    moves = `${verb(f)} ${value(f, { abs: true })} over the last ${f === r5 ? 5 : 20} trading days`;
  }
  const volText = vol ? `; its daily moves have run at an annualised volatility of ${value(vol)}` : '';
  return `${symbol} has ${moves}${volText}${cite(r5, r20, vol)}.`;
}

function earnings(get: Get): string | null {
  const none = get('earnings.none');
  if (none) return `${capitalise(none.text ?? '')}, so earnings timing could not be taken into account${cite(none)}.`;
  const window = get('earnings.window');
  const next = get('earnings.next');
  const daysTo = get('earnings.daysTo');
  // A last announcement more than two quarters back (a calendar that ends years ago) says nothing now.
  const since = get('earnings.daysSince');
  const last = since?.value != null && since.value > 200 ? undefined : get('earnings.last');
  const surprise = last ? get('earnings.surprise') : undefined;
  const out: string[] = [];
  if (window) {
    out.push(
      `An earnings announcement falls within the forecast's first trading day${next ? ` (${value(next)})` : ''}, so the earnings branch made this forecast, with a wider interval${cite(window, next)}.`,
    );
  } else if (next) {
    out.push(`The next earnings announcement is expected on ${value(next)}, in ${value(daysTo)}${cite(next, daysTo)}.`);
  }
  if (last) {
    const s =
      surprise?.value != null
        ? `, when earnings per share came in ${value(surprise, { abs: true })} ${surprise.value >= 0 ? 'above' : 'below'} the estimate`
        : '';
    out.push(
      `${out.length ? 'The last one' : 'The last earnings announcement'} was on ${value(last)}${s}${cite(last, surprise)}.`,
    );
  }
  return out.length ? out.join(' ') : null;
}

function headlines(ctx: ExplanationContext): string {
  const symbol = ctx.prediction.symbol;
  if (ctx.degraded) return 'Headlines could not be searched just now, so none are shown.';
  if (ctx.news.length === 0) return `No headlines were found in the three months before this forecast.`;
  const shown = ctx.news
    .slice(0, 3)
    .map(
      (n) =>
        `"${n.headline.trim().replace(/["“”]/g, "'")}" (${sourceName(n.source)}, ${formatDay(newYorkDay(n.ts))})${cite(n)}`,
    );
  return ctx.news[0]!.scope === 'symbol'
    ? `Recent headlines about ${symbol}: ${join(shown)}.`
    : `There were no headlines about ${symbol} in the three months before this forecast; the closest market news: ${join(shown)}.`;
}

function trackRecord(symbol: string, get: Get, h: number): string {
  const count = get(`track.h${h}.count`);
  const mae = get(`track.h${h}.mae`);
  const naive = get(`track.h${h}.persistenceMae`);
  const hit = get(`track.h${h}.hitRate`);
  const coverage = get(`track.h${h}.coverage`);
  if (!count || !mae || !naive || mae.value === null || naive.value === null) {
    return `The model has no scored forecasts for ${symbol} yet, so its reliability here is unknown.`;
  }
  const span = h === 1 ? 'one-day' : `${h}-day`;
  // Compared as printed: two misses that read the same are the same to the reader.
  const [m, n] = [value(mae), value(naive)].map((v) => Number.parseFloat(v)) as [number, number];
  const verdict =
    m < n
      ? 'slightly better than that'
      : m === n
        ? 'about the same, so treat the predicted direction as a weak signal'
        : 'no better than that, so treat the predicted direction as a weak signal';
  const hitText = hit ? ` It called the direction right ${value(hit)} of the time${cite(hit)}.` : '';
  const covText = coverage
    ? ` ${capitalise(value(coverage))} of those closes landed inside its interval${cite(coverage)}.`
    : '';
  return (
    `Over its last ${value(count)} scored ${span} forecasts for ${symbol}, the model missed the close by ${value(mae)} on average, against ${value(naive)} for simply assuming no change: ${verdict}${cite(count, mae, naive)}.` +
    hitText +
    covText
  );
}

function join(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function lowerFirst(s: string): string {
  return s && s[0]!.toLowerCase() + s.slice(1);
}

function capitalise(s: string): string {
  return s && s[0]!.toUpperCase() + s.slice(1);
}
