// The "Why this prediction" panel's logic: its text cut into paragraphs and reference buttons,
// the streamed events folded into a state, what each state shows, and when to ask again.
import { describe, expect, it } from 'vitest';
import {
  disconnected,
  type ExplainState,
  failed,
  fmtWhen,
  footer,
  horizonLabel,
  initialState,
  isTerminal,
  onEvent,
  panelView,
  paragraphs,
  predictionDay,
  REFRESH_GAP_MS,
  refLabel,
  refreshDelay,
  segments,
  sourceName,
  started,
} from './explanation';
import type { Citation, Explanation } from './types';

const explanation = (o: Partial<Explanation> = {}): Explanation => ({
  predictionId: 'KO:1700006400000:1',
  symbol: 'KO',
  horizon: 1,
  text: 'Up on earnings [F1].',
  citations: [],
  explainer: 'llm',
  requestedExplainer: 'llm',
  grounded: true,
  fallbackReason: null,
  firstTextMs: 250,
  latencyMs: 1800,
  cached: false,
  generatedAt: '2023-11-15T00:00:00Z',
  ...o,
});

const on = { symbol: 'KO', connected: true, slow: false };

describe('text', () => {
  it('cuts a paragraph into prose and reference groups, dropping the space before a group', () => {
    expect(segments('Volume rose [F1, N2] after the report [N3].')).toEqual([
      { kind: 'text', text: 'Volume rose' },
      { kind: 'refs', refs: ['F1', 'N2'] },
      { kind: 'text', text: ' after the report' },
      { kind: 'refs', refs: ['N3'] },
      { kind: 'text', text: '.' },
    ]);
  });

  it('leaves other brackets as text', () => {
    expect(segments('a range [1, 2] and [see below]')).toEqual([
      { kind: 'text', text: 'a range [1, 2] and [see below]' },
    ]);
    expect(segments('[F1]')).toEqual([{ kind: 'refs', refs: ['F1'] }]);
  });

  it('splits paragraphs on blank lines, even ones holding spaces, and skips empty ones', () => {
    const ps = paragraphs('First [F1].\n  \nSecond.\n\n\n\n  Third  ');
    expect(ps).toEqual([
      [
        { kind: 'text', text: 'First' },
        { kind: 'refs', refs: ['F1'] },
        { kind: 'text', text: '.' },
      ],
      [{ kind: 'text', text: 'Second.' }],
      [{ kind: 'text', text: 'Third' }],
    ]);
    expect(paragraphs('one\nline')).toEqual([[{ kind: 'text', text: 'one\nline' }]]);
  });
});

describe('state', () => {
  it('streams text, then shows the explanation when DONE', () => {
    let s = started(initialState());
    expect(panelView(s, on)).toMatchObject({ kind: 'loading', title: 'Writing the explanation…' });
    expect(panelView(s, { ...on, slow: true })).toMatchObject({
      kind: 'loading',
      title: 'Still writing the explanation…',
    });
    s = onEvent(s, { kind: 'TEXT', delta: 'Up on ', reason: null, explanation: null });
    s = onEvent(s, { kind: 'TEXT', delta: 'earnings', reason: null, explanation: null });
    s = onEvent(s, { kind: 'TEXT', delta: null, reason: null, explanation: null });
    expect(s.draft).toBe('Up on earnings');
    expect(panelView(s, on)).toEqual({
      kind: 'text',
      text: 'Up on earnings',
      explanation: null,
      writing: true,
      updating: false,
      note: null,
    });
    const e = explanation();
    s = onEvent(s, { kind: 'DONE', delta: null, reason: null, explanation: e });
    expect(s).toEqual({ pending: false, draft: null, shown: e, resetReason: null, error: null });
    expect(panelView(s, on)).toEqual({
      kind: 'text',
      text: e.text,
      explanation: e,
      writing: false,
      updating: false,
      note: null,
    });
  });

  it('keeps the last explanation during a refresh until the new text starts', () => {
    const e = explanation();
    let s = started({ ...initialState(), shown: e });
    expect(panelView(s, on)).toMatchObject({ kind: 'text', explanation: e, updating: true });
    s = onEvent(s, { kind: 'TEXT', delta: 'New', reason: null, explanation: null });
    expect(s.shown).toBeNull();
    expect(panelView(s, on)).toMatchObject({ kind: 'text', text: 'New', writing: true });
  });

  it('withdraws the text on RESET, with the reason or a default', () => {
    let s = onEvent(started(initialState()), { kind: 'TEXT', delta: 'ungrounded', reason: null, explanation: null });
    s = onEvent(s, { kind: 'RESET', delta: null, reason: 'cited F9, which does not exist', explanation: null });
    expect(s).toMatchObject({ pending: true, draft: null, resetReason: 'cited F9, which does not exist' });
    expect(onEvent(s, { kind: 'RESET', delta: null, reason: null, explanation: null }).resetReason).toBe(
      'the text was withdrawn',
    );
  });

  it('treats a DONE without an explanation as an error', () => {
    const s = onEvent(started(initialState()), { kind: 'DONE', delta: null, reason: null, explanation: null });
    expect(s.pending).toBe(false);
    expect(s.error).toEqual({ code: null, message: 'the server sent no explanation' });
    expect(panelView(s, on)).toMatchObject({
      kind: 'state',
      box: 'error',
      title: 'The explanation could not be loaded',
      retry: true,
    });
  });

  it('keeps the shown explanation on a passing error, with a note', () => {
    const e = explanation();
    const s = failed(started({ ...initialState(), shown: e }), { code: 'RATE_LIMITED', message: 'slow down' });
    expect(s.shown).toBe(e);
    expect(isTerminal(s)).toBe(false);
    expect(panelView(s, on)).toMatchObject({
      kind: 'text',
      explanation: e,
      updating: false,
      note: 'Could not update: slow down',
    });
  });

  it('drops the shown explanation when the error says it no longer stands', () => {
    const e = explanation();
    const s = failed({ ...initialState(), shown: e }, { code: 'NO_PREDICTION', message: 'none' });
    expect(s.shown).toBeNull();
    expect(isTerminal(s)).toBe(false); // a prediction can still come
    expect(panelView(s, on)).toMatchObject({ kind: 'state', box: 'empty', title: 'No prediction yet', retry: false });
    expect(isTerminal(failed(s, { code: 'UNKNOWN_SYMBOL', message: '' }))).toBe(true);
  });

  it('has a state of its own for each error code', () => {
    const view = (code: string | null) => panelView(failed(initialState(), { code, message: `m-${code}` }), on);
    expect(view('UNKNOWN_SYMBOL')).toMatchObject({ box: 'error', title: 'Unknown symbol: KO', retry: false });
    expect(view('NOT_AVAILABLE')).toMatchObject({
      box: 'empty',
      title: 'Explanations are not available on this server',
    });
    expect(view('BAD_HORIZON')).toMatchObject({ box: 'error', body: 'm-BAD_HORIZON', retry: false });
    expect(view('RATE_LIMITED')).toMatchObject({ title: 'Too many requests', body: 'm-RATE_LIMITED', retry: true });
    expect(view('INTERNAL')).toMatchObject({ title: 'The explanation could not be loaded', retry: true });
  });

  it('drops the partial text when the socket drops mid-stream, and says when there is no connection', () => {
    const writing = onEvent(started(initialState()), { kind: 'TEXT', delta: 'half', reason: null, explanation: null });
    expect(disconnected(writing)).toMatchObject({ pending: true, draft: null });
    const idle = initialState();
    expect(disconnected(idle)).toBe(idle);
    expect(panelView(disconnected(writing), { ...on, connected: false })).toMatchObject({
      kind: 'state',
      title: 'No connection to tickcast',
      retry: false,
    });
  });
});

describe('refreshDelay', () => {
  const idle: ExplainState = { ...initialState(), shown: explanation() };
  const base = { stale: true, state: idle, held: false, lastStart: 1_000, now: 1_000 };

  it('waits for the gap since the last request, then asks at once', () => {
    expect(refreshDelay(base)).toBe(REFRESH_GAP_MS);
    expect(refreshDelay({ ...base, now: 4_000 })).toBe(REFRESH_GAP_MS - 3_000);
    expect(refreshDelay({ ...base, now: 1_000 + REFRESH_GAP_MS + 5 })).toBe(0);
    expect(refreshDelay({ ...base, gapMs: 500, now: 1_200 })).toBe(300);
  });

  it('does not ask when nothing is newer, a request runs, focus holds the panel, or asking cannot help', () => {
    expect(refreshDelay({ ...base, stale: false })).toBeNull();
    expect(refreshDelay({ ...base, state: started(idle) })).toBeNull();
    expect(refreshDelay({ ...base, held: true })).toBeNull();
    expect(refreshDelay({ ...base, state: failed(idle, { code: 'NOT_AVAILABLE', message: '' }) })).toBeNull();
    expect(refreshDelay({ ...base, state: failed(idle, { code: 'INTERNAL', message: '' }), now: 1e9 })).toBe(0);
  });
});

describe('details', () => {
  it('names headline sources as people write them', () => {
    expect(sourceName('reuters')).toBe('Reuters');
    expect(sourceName('YAHOO')).toBe('Yahoo Finance');
    expect(sourceName('The Wire')).toBe('The Wire');
  });

  it('prints a time in UTC, a midnight or a bare date as the date', () => {
    expect(fmtWhen('2013-11-22T14:01:30Z')).toBe('2013-11-22 14:01 UTC');
    expect(fmtWhen('2013-11-22T00:00:00Z')).toBe('2013-11-22');
    expect(fmtWhen('2013-11-22')).toBe('2013-11-22');
  });

  it('labels a reference by what it cites', () => {
    const fact: Citation = {
      ref: 'F1',
      id: 'f',
      kind: 'FACT',
      title: 'EPS surprise',
      detail: '+4%',
      time: '',
      score: null,
      url: null,
    };
    expect(refLabel('F1', fact)).toBe('Fact F1: EPS surprise');
    expect(refLabel('N2', { ...fact, kind: 'NEWS', title: 'Coke beats' })).toBe('Headline N2: Coke beats');
    expect(refLabel('F9', undefined)).toBe('Reference F9');
  });

  it('reads the day a prediction started from out of its id', () => {
    expect(predictionDay('KO:1700006400000:1')).toBe('2023-11-15');
    expect(predictionDay('BRK:B:1700006400000:5')).toBe('2023-11-15');
    expect(predictionDay('KO:soon:1')).toBeNull();
    expect(predictionDay('KO')).toBeNull();
  });

  it('labels horizons in days', () => {
    expect(horizonLabel(1)).toBe('1 day');
    expect(horizonLabel(21)).toBe('21 days');
  });

  it('sums up who wrote the text and how fast for the footer', () => {
    expect(footer(explanation())).toEqual({
      explainer: 'llm',
      grounded: true,
      fellBackFrom: null,
      fallbackReason: null,
      latency: 'first text 250.0 ms, complete 1.8 s',
      cached: false,
    });
    expect(
      footer(explanation({ explainer: 'template', grounded: false, fallbackReason: 'timeout', cached: true })),
    ).toMatchObject({ explainer: 'template', fellBackFrom: 'llm', fallbackReason: 'timeout', cached: true });
  });
});
