// The "Why this prediction" panel's logic, kept out of the component (the type checker sees
// .ts files only): the text with inline references cut into paragraphs and segments, the
// streamed events folded into a state, what that state shows, when to ask again.
import { fmtDate, fmtMs } from './format';
import { type Citation, type Explanation, type ExplanationEvent, ExplanationEvents } from './types';

export const EXPLANATION_SUBSCRIPTION = ExplanationEvents;

/** New predictions lead to a new explanation at most this often (a replay predicts every few ms). */
export const REFRESH_GAP_MS = 10_000;
/** Past this long without any text, the loading state says it is taking a while. */
export const SLOW_MS = 15_000;

// ---- text ------------------------------------------------------------------------------------

/** A run of prose, or a group of inline references (`[F1, N3]`). */
export type Segment = { kind: 'text'; text: string } | { kind: 'refs'; refs: string[] };

/** `[F1]`, `[F1, N3]`: letters then digits, comma separated. Other brackets stay text. */
const REF_GROUP = /\[\s*([A-Z]{1,3}\d{1,4}(?:\s*,\s*[A-Z]{1,3}\d{1,4})*)\s*\]/g;

/** One paragraph as prose and reference groups; the space before a group is dropped (footnote style). */
export function segments(paragraph: string): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (const m of paragraph.matchAll(REF_GROUP)) {
    const before = paragraph.slice(at, m.index).replace(/\s+$/, '');
    if (before) out.push({ kind: 'text', text: before });
    out.push({ kind: 'refs', refs: m[1]!.split(',').map((r) => r.trim()) });
    at = m.index + m[0].length;
  }
  const rest = paragraph.slice(at);
  if (rest) out.push({ kind: 'text', text: rest });
  return out;
}

/** The text as paragraphs (blank lines between them), each as segments. */
export function paragraphs(text: string): Segment[][] {
  return text
    .split(/\n[ \t]*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map(segments);
}

// ---- state -----------------------------------------------------------------------------------

export interface PanelError {
  code: string | null;
  message: string;
}

export interface ExplainState {
  /** A request is running. */
  pending: boolean;
  /** Text of the running request so far; null before its first text. */
  draft: string | null;
  /** The last complete explanation (kept while a refresh runs, until the new text starts). */
  shown: Explanation | null;
  /** Why the text written so far was withdrawn (RESET), for the running or last request. */
  resetReason: string | null;
  error: PanelError | null;
}

export const initialState = (): ExplainState => ({
  pending: false,
  draft: null,
  shown: null,
  resetReason: null,
  error: null,
});

export const started = (s: ExplainState): ExplainState => ({
  ...s,
  pending: true,
  draft: null,
  resetReason: null,
  error: null,
});

export function onEvent(s: ExplainState, e: ExplanationEvent): ExplainState {
  switch (e.kind) {
    case 'TEXT':
      // The new text replaces the previous explanation from its first piece.
      return { ...s, shown: null, draft: (s.draft ?? '') + (e.delta ?? '') };
    case 'RESET':
      return { ...s, shown: null, draft: null, resetReason: e.reason ?? 'the text was withdrawn' };
    case 'DONE':
      return e.explanation
        ? { ...s, pending: false, draft: null, shown: e.explanation, error: null }
        : { ...s, pending: false, draft: null, error: { code: null, message: 'the server sent no explanation' } };
  }
}

/** Codes after which asking again for the same symbol and horizon cannot help. */
const TERMINAL = new Set(['UNKNOWN_SYMBOL', 'NOT_AVAILABLE', 'BAD_HORIZON']);
/** Codes that say the explanation shown no longer stands. */
const INVALIDATING = new Set([...TERMINAL, 'NO_PREDICTION']);

export const isTerminal = (s: ExplainState): boolean => s.error !== null && TERMINAL.has(s.error.code ?? '');

export function failed(s: ExplainState, err: PanelError): ExplainState {
  return {
    ...s,
    pending: false,
    draft: null,
    shown: INVALIDATING.has(err.code ?? '') ? null : s.shown,
    error: { code: err.code, message: err.message },
  };
}

/** The socket dropped: a running stream starts over once it is back, so its text so far goes. */
export const disconnected = (s: ExplainState): ExplainState => (s.pending ? { ...s, draft: null } : s);

/**
 * When to ask again: null for not now (nothing newer, a request running, focus in the panel,
 * or an error that asking again cannot fix), else in how many ms (0: now).
 */
export function refreshDelay(o: {
  stale: boolean;
  state: ExplainState;
  held: boolean;
  lastStart: number;
  now: number;
  gapMs?: number;
}): number | null {
  if (!o.stale || o.state.pending || o.held || isTerminal(o.state)) return null;
  return Math.max(0, o.lastStart + (o.gapMs ?? REFRESH_GAP_MS) - o.now);
}

// ---- what it shows ---------------------------------------------------------------------------

export type PanelView =
  | { kind: 'loading'; title: string; body: string }
  | {
      kind: 'text';
      text: string;
      explanation: Explanation | null;
      writing: boolean;
      updating: boolean;
      note: string | null;
    }
  | { kind: 'state'; box: 'empty' | 'error'; title: string; body: string; retry: boolean };

export function panelView(s: ExplainState, o: { symbol: string; connected: boolean; slow: boolean }): PanelView {
  const note = s.error && s.shown ? `Could not update: ${s.error.message}` : null;
  if (s.draft) return { kind: 'text', text: s.draft, explanation: null, writing: true, updating: false, note: null };
  if (s.shown) {
    return { kind: 'text', text: s.shown.text, explanation: s.shown, writing: false, updating: s.pending, note };
  }
  if (s.error) return errorView(s.error, o.symbol);
  if (!o.connected) {
    return {
      kind: 'state',
      box: 'error',
      title: 'No connection to tickcast',
      body: 'The explanation is asked for again once the connection is back (its state is in the header).',
      retry: false,
    };
  }
  return {
    kind: 'loading',
    title: o.slow ? 'Still writing the explanation…' : 'Writing the explanation…',
    body: o.slow
      ? 'This is taking longer than usual; the text appears here as soon as it is written.'
      : 'Retrieving the facts and headlines behind the prediction.',
  };
}

function errorView(e: PanelError, symbol: string): PanelView {
  switch (e.code) {
    case 'NO_PREDICTION':
      return {
        kind: 'state',
        box: 'empty',
        title: 'No prediction yet',
        body: `No prediction for ${symbol} yet: the model needs about 60 bars of history. The explanation follows the first prediction.`,
        retry: false,
      };
    case 'UNKNOWN_SYMBOL':
      return {
        kind: 'state',
        box: 'error',
        title: `Unknown symbol: ${symbol}`,
        body: 'tickcast has no data for it, so there is no prediction to explain.',
        retry: false,
      };
    case 'NOT_AVAILABLE':
      return {
        kind: 'state',
        box: 'empty',
        title: 'Explanations are not available on this server',
        body: 'It runs without the explanation path (TICKCAST_EXPLAIN=off, or no vector store). The prediction and its features above are unaffected.',
        retry: false,
      };
    case 'BAD_HORIZON':
      return { kind: 'state', box: 'error', title: 'This horizon is not forecast', body: e.message, retry: false };
    case 'RATE_LIMITED':
      return { kind: 'state', box: 'error', title: 'Too many requests', body: e.message, retry: true };
    default:
      return {
        kind: 'state',
        box: 'error',
        title: 'The explanation could not be loaded',
        body: e.message,
        retry: true,
      };
  }
}

// ---- details ---------------------------------------------------------------------------------

const SOURCES: Record<string, string> = {
  finviz: 'Finviz',
  reuters: 'Reuters',
  benzinga: 'Benzinga',
  yahoo: 'Yahoo Finance',
};

/** A headline's source as people write it. */
export const sourceName = (detail: string): string => SOURCES[detail.toLowerCase()] ?? detail;

/** "2013-11-22 14:01 UTC"; a midnight (a date without a time) prints as the date. */
export function fmtWhen(iso: string): string {
  const t = iso.slice(11, 16);
  return t === '' || t === '00:00' ? fmtDate(iso) : `${fmtDate(iso)} ${t} UTC`;
}

/** The accessible name of an inline reference: its visible text (F3) first, then what it is. */
export const refLabel = (ref: string, c: Citation | undefined): string =>
  c ? `${c.kind === 'FACT' ? 'Fact' : 'Headline'} ${ref}: ${c.title}` : `Reference ${ref}`;

/** The day whose close the prediction started from, from its id (symbol:inputTs:horizon). */
export function predictionDay(predictionId: string): string | null {
  const ts = Number(predictionId.split(':').at(-2));
  return Number.isFinite(ts) && ts > 0 ? new Date(ts).toISOString().slice(0, 10) : null;
}

export const horizonLabel = (h: number): string => (h === 1 ? '1 day' : `${h} days`);

export interface Footer {
  explainer: string;
  grounded: boolean;
  /** The explainer asked for, when another one (the template) wrote the text. */
  fellBackFrom: string | null;
  fallbackReason: string | null;
  latency: string;
  cached: boolean;
}

export function footer(e: Explanation): Footer {
  return {
    explainer: e.explainer,
    grounded: e.grounded,
    fellBackFrom: e.requestedExplainer !== e.explainer ? e.requestedExplainer : null,
    fallbackReason: e.fallbackReason,
    latency: `first text ${fmtMs(e.firstTextMs)}, complete ${fmtMs(e.latencyMs)}`,
    cached: e.cached,
  };
}
