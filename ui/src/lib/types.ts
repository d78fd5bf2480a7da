// The shapes the views ask the API for. Where a fragment defines them, the type is derived from the
// schema (graphql.ts); the rest are declared here and checked where a typed query returns them.
import { graphql, type ResultOf } from './graphql';
/** The fields the views show of a prediction. */
export const PredictionFields = graphql(`
  fragment PredictionFields on Prediction {
    id symbol horizon inputTime targetTime lastClose predictedClose predictedReturn
    interval { lower upper level } model modelVersion regime createdAt rankScore
  }
`);
export type Prediction = ResultOf<typeof PredictionFields>;

export interface Bar {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  source: string;
}

export interface Outcome {
  prediction: Prediction;
  /** scored, missing (the target session passed without a bar) or pending (a String in the schema). */
  status?: string;
  realisedClose: number | null;
  error: number | null;
  absPercentError: number | null;
  withinInterval: boolean | null;
}

export interface Connection<T> {
  edges: Array<{ node: T }>;
}

export interface EarningsEvent {
  date: string;
  epsEstimate: number | null;
  epsActual: number | null;
  surprisePct: number | null;
}

export interface NodeMetrics {
  node: string;
  status: string;
  recordsInPerSec: number;
  recordsOutPerSec: number;
  recordsIn: number;
  avgBatchMs: number | null;
  lastEventToSinkMs: number | null;
  lag: number;
  deadLetters: number;
  lastError: string | null;
  stateKeys: number | null;
  /** Scaled out (Kafka): the processes that run the node; empty in one process. */
  instances: NodeInstance[];
}

/** One process's part in a node (scaled out). */
export interface NodeInstance {
  process: string;
  role: string;
  /** live, exited or gone. */
  state: string;
  status: string;
  /** Partitions owned as ranges per topic (`quotes 0-2,7`); null: all of them (a consumer group of its own). */
  owned: string | null;
  recordsIn: number;
  lag: number;
  stateKeys: number | null;
}

export interface PipelineNode {
  id: string;
  kind: string;
  operator: string;
  reads: string[];
  writes: string[];
  stateful: boolean;
}

export interface PipelineEdge {
  from: string;
  to: string;
  topic: string;
}

export interface Topic {
  name: string;
  partitions: number;
  schema: string;
  avro: string | null;
  producers: string[];
  consumers: string[];
  deadLetterTopic: string;
  /** Handed on in-process inside a chain, never written to the transport. */
  fused: boolean;
  /** Always on the transport (never fused). */
  pinned: boolean;
}

/** Nodes that run as one task, handing records on in-process (operator chaining). */
export interface PipelineChain {
  head: string;
  nodes: string[];
  local: string[];
  fused: string[];
}

export interface Pipeline {
  name: string;
  nodes: PipelineNode[];
  edges: PipelineEdge[];
  topics: Topic[];
  chains: PipelineChain[];
}

/** Why the model made its latest prediction for a symbol; its text cites `[F1]`, `[N1, F3]`, … */
export const ExplanationFields = graphql(`
  fragment ExplanationFields on Explanation {
    predictionId symbol horizon text explainer requestedExplainer grounded fallbackReason
    firstTextMs latencyMs cached generatedAt citations { ref id kind title detail time score url }
  }
`);
export type Explanation = ResultOf<typeof ExplanationFields>;
/** A fact or headline an explanation cites as `[ref]` in its text. */
export type Citation = Explanation['citations'][number];

/** A step of a streamed explanation (Subscription.explanation). */
export const ExplanationEvents = graphql(
  `
  subscription Explain($symbol: String!, $horizon: Int!) {
    explanation(symbol: $symbol, horizon: $horizon) { kind delta reason explanation { ...ExplanationFields } }
  }
`,
  [ExplanationFields],
);
export type ExplanationEvent = ResultOf<typeof ExplanationEvents>['explanation'];

/** A record a topic rejected (`deadLetters(topic, node)`), read back from `<topic>.dlq`. */
export interface DeadLetter {
  node: string;
  kind: string;
  reason: string;
  key: string | null;
  timestamp: string | null;
  failedAt: string;
  payload: string;
  payloadEncoding: 'UTF8' | 'BASE64';
  payloadBytes: number;
}
