// The vocabulary of explanations: what retrieval hands an explainer, what an explainer returns,
// and what the API serves. Every number an explanation prints comes from a retrieved fact or a
// quoted headline, and every claim cites one of them by its short reference (F1, N1, ...).
import type { Fact, FactSheet, News, Prediction } from '../schemas/index.js';

/** A fact as retrieval hands it to explainers: the stored fact, and the short reference used in text. */
export interface RetrievedFact extends Fact {
  /** F1, F2, ...: what the text cites. */
  ref: string;
}

/** A headline as retrieval hands it to explainers. */
export interface RetrievedNews extends News {
  /** N1, N2, ...: what the text cites. */
  ref: string;
  /** Cosine similarity to the query built from the prediction. */
  similarity: number;
  /** The ranking score: similarity weighted by recency. */
  score: number;
  /** Of the symbol itself, or market-wide (another symbol's, used when the symbol has none). */
  scope: 'symbol' | 'market';
}

/** Everything an explainer may use: one prediction, its facts and the headlines before it. */
export interface ExplanationContext {
  prediction: Prediction;
  /** The fact sheet the pipeline wrote for this prediction's inputs (null when it has not arrived). */
  sheet: FactSheet | null;
  /** The facts of this horizon, the shared ones and the model's track record, each with a ref. */
  facts: RetrievedFact[];
  /** Headlines published before the prediction's inputs were complete, best first. */
  news: RetrievedNews[];
  /** The query the headlines were ranked against. */
  query: string;
  /** Retrieval window: headlines in [from, to). */
  window: { from: number; to: number };
  /** Why retrieval could not use the vector store (it was down, say); null when it could. */
  degraded: string | null;
}

export interface ExplainOptions {
  signal?: AbortSignal;
  /** Called with each new piece of text as it is generated. */
  onText?: (delta: string) => void;
}

/** An explanation writer: the grounded template, Ollama, ... */
export interface Explainer {
  /** Shown to users: `template`, `ollama:llama3.2:3b`, ... */
  readonly name: string;
  /** Text citing facts and headlines by ref; rejects on failure (the service falls back). */
  explain(ctx: ExplanationContext, opts?: ExplainOptions): Promise<string>;
}

export interface Citation {
  /** The reference used in the text (F1, N2). */
  ref: string;
  /** The retrieved item's stable id: a fact id or a news id. */
  id: string;
  kind: 'fact' | 'news';
  /** A fact's label, or a headline. */
  title: string;
  /** A fact's value as printed (with its unit), or a headline's source. */
  detail: string;
  /** Fact sheet asOf, or a headline's publication time (epoch ms). */
  ts: number;
  /** A headline's ranking score; null for facts. */
  score: number | null;
  url: string | null;
}

export interface Explanation {
  predictionId: string;
  symbol: string;
  horizon: number;
  /** The explanation with inline references such as [F1]. */
  text: string;
  /** The cited items, in order of first citation. */
  citations: Citation[];
  /** Who wrote the text shown (the template after a fallback). */
  explainer: string;
  /** The explainer asked for first (differs from `explainer` after a fallback). */
  requestedExplainer: string;
  /** True when the text passed the grounding checker. */
  grounded: boolean;
  /** Why the requested explainer's text was not shown; null when it was. */
  fallbackReason: string | null;
  /** Why retrieval was incomplete (the vector store was unreachable, say); null when it was not. */
  retrievalProblem: string | null;
  /** Milliseconds to the first piece of text, and to the whole explanation. */
  firstTextMs: number;
  latencyMs: number;
  /** Served from the cache. */
  cached: boolean;
  generatedAt: number;
}

/** Events of a streamed explanation: text as it is generated, then the final explanation. */
export type ExplanationEvent =
  | { type: 'text'; delta: string }
  /** The text so far is withdrawn (it failed the checker): the final explanation replaces it. */
  | { type: 'reset'; reason: string }
  | { type: 'done'; explanation: Explanation };
