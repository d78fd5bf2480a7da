// Explanations of the latest prediction of a symbol: a query (the whole explanation) and a
// subscription that streams the text as it is written, then the explanation.
import { ExplainError, type ExplanationService } from '../../explain/explanation-service.js';
import type { Citation, Explanation, ExplanationEvent } from '../../explain/types.js';
import type { ApiServices } from '../context.js';
import { apiError, ErrorCode } from '../errors.js';
import { builder } from './builder.js';
import { checkHorizon, knownSymbol } from './validate.js';

const CitationKind = builder.enumType('CitationKind', {
  description: 'What a citation points at.',
  values: { FACT: { value: 'fact' }, NEWS: { value: 'news' } } as const,
});

const CitationRef = builder.objectRef<Citation>('Citation').implement({
  description: 'A retrieved fact or headline the explanation cites, as `[ref]` in its text.',
  fields: (t) => ({
    ref: t.exposeString('ref', { description: 'The reference used in the text: F1, N2, ...' }),
    id: t.exposeString('id', { description: 'Stable id of the fact (SYMBOL:inputTs:name) or headline.' }),
    kind: t.field({ type: CitationKind, resolve: (c) => c.kind }),
    title: t.exposeString('title', { description: "A fact's label, or the headline." }),
    detail: t.exposeString('detail', { description: "A fact's value as printed, or a headline's source." }),
    time: t.field({
      type: 'DateTime',
      description: "When the fact was known (its sheet's asOf), or when the headline was published.",
      resolve: (c) => c.ts,
    }),
    score: t.float({
      nullable: true,
      description: "A headline's retrieval score (similarity × recency).",
      resolve: (c) => c.score,
    }),
    url: t.string({ nullable: true, resolve: (c) => c.url }),
  }),
});

export const ExplanationRef = builder.objectRef<Explanation>('Explanation').implement({
  description:
    'Why the model made its latest prediction for a symbol: prose whose every number comes from a cited fact or headline.',
  fields: (t) => ({
    predictionId: t.exposeString('predictionId', { description: 'The prediction explained (symbol:inputTs:horizon).' }),
    symbol: t.exposeString('symbol'),
    horizon: t.exposeInt('horizon'),
    text: t.exposeString('text', { description: 'The explanation, citing with [F1], [N1], ...' }),
    citations: t.field({ type: [CitationRef], resolve: (e) => e.citations }),
    explainer: t.exposeString('explainer', { description: 'Who wrote the text shown: template, ollama:<model>, ...' }),
    requestedExplainer: t.exposeString('requestedExplainer', {
      description: 'The explainer configured; differs from `explainer` after a fallback.',
    }),
    grounded: t.exposeBoolean('grounded', { description: 'The text passed the grounding checker.' }),
    fallbackReason: t.string({
      nullable: true,
      description: "Why the configured explainer's text was not shown (null when it was).",
      resolve: (e) => e.fallbackReason,
    }),
    retrievalProblem: t.string({
      nullable: true,
      description: 'Why retrieval was incomplete (the vector store was unreachable, say); null when it was not.',
      resolve: (e) => e.retrievalProblem,
    }),
    firstTextMs: t.exposeFloat('firstTextMs', { description: 'Milliseconds to the first text.' }),
    latencyMs: t.exposeFloat('latencyMs', { description: 'Milliseconds to the whole explanation.' }),
    cached: t.exposeBoolean('cached'),
    generatedAt: t.field({ type: 'DateTime', resolve: (e) => e.generatedAt }),
  }),
});

const ExplanationEventKind = builder.enumType('ExplanationEventKind', {
  values: {
    TEXT: { value: 'text', description: '`delta` is the next piece of text.' },
    RESET: {
      value: 'reset',
      description: 'The text so far is withdrawn (`reason`); the final explanation replaces it.',
    },
    DONE: { value: 'done', description: '`explanation` is the final explanation.' },
  } as const,
});

const ExplanationEventRef = builder.objectRef<ExplanationEvent>('ExplanationEvent').implement({
  description: 'A step of a streamed explanation.',
  fields: (t) => ({
    kind: t.field({ type: ExplanationEventKind, resolve: (e) => e.type }),
    delta: t.string({ nullable: true, resolve: (e) => (e.type === 'text' ? e.delta : null) }),
    reason: t.string({ nullable: true, resolve: (e) => (e.type === 'reset' ? e.reason : null) }),
    explanation: t.field({
      type: ExplanationRef,
      nullable: true,
      resolve: (e) => (e.type === 'done' ? e.explanation : null),
    }),
  }),
});

async function service(services: ApiServices): Promise<ExplanationService> {
  const { explanations } = await services.started();
  if (!explanations) {
    throw apiError(ErrorCode.NOT_AVAILABLE, 'explanations are not available on this server (no vector store)');
  }
  return explanations;
}

/** Maps the service's errors to coded GraphQL errors; anything else stays masked. */
function coded(err: unknown): never {
  if (err instanceof ExplainError) {
    const code = {
      UNKNOWN_SYMBOL: ErrorCode.UNKNOWN_SYMBOL,
      BAD_HORIZON: ErrorCode.BAD_HORIZON,
      NO_PREDICTION: ErrorCode.NO_PREDICTION,
    }[err.code];
    throw apiError(code, err.message);
  }
  throw err;
}

const args = (t: Parameters<Parameters<typeof builder.queryFields>[0]>[0]) => ({
  symbol: t.arg.string({ required: true }),
  horizon: t.arg.int({ required: false, defaultValue: 1, description: 'Trading days ahead (default 1).' }),
});

builder.queryFields((t) => ({
  explanation: t.field({
    type: ExplanationRef,
    description: "An explanation of the symbol's latest prediction at `horizon`, with its citations.",
    args: args(t),
    resolve: async (_root, a, { services }) => {
      const explain = await service(services);
      const symbol = await knownSymbol(services, a.symbol);
      const horizon = checkHorizon(services, a.horizon ?? 1);
      return explain.explain(symbol, horizon).catch(coded);
    },
  }),
}));

builder.subscriptionFields((t) => ({
  explanation: t.field({
    type: ExplanationEventRef,
    description:
      "An explanation of the symbol's latest prediction, streamed: TEXT events as it is written (each sentence " +
      'checked before it is sent), maybe a RESET when the explainer fails and the template takes over, then DONE.',
    args: {
      symbol: t.arg.string({ required: true }),
      horizon: t.arg.int({ required: false, defaultValue: 1 }),
    },
    subscribe: async (_root, a, { services }) => {
      const explain = await service(services);
      const symbol = await knownSymbol(services, a.symbol);
      const horizon = checkHorizon(services, a.horizon ?? 1);
      const events = explain.stream(symbol, horizon);
      // Errors before the first event (no prediction yet) become coded GraphQL errors.
      const first = await events.next().catch(coded);
      return (async function* () {
        if (!first.done) yield first.value;
        yield* events;
      })();
    },
    resolve: (e: ExplanationEvent) => e,
  }),
}));
