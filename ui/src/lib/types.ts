// The shapes the views ask the API for (a subset of api/schema.graphql).
export interface Prediction {
  id: string;
  symbol: string;
  horizon: number;
  inputTime: string;
  targetTime: string;
  lastClose: number;
  predictedClose: number;
  predictedReturn: number;
  interval: { lower: number; upper: number; level: number };
  model: string;
  modelVersion: string;
  regime: string;
  createdAt: string;
}

export const PREDICTION_FIELDS = `id symbol horizon inputTime targetTime lastClose predictedClose predictedReturn
  interval { lower upper level } model modelVersion regime createdAt`;

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
  /** scored, missing (the target session passed without a bar) or pending. */
  status?: 'scored' | 'missing' | 'pending';
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
}

export interface Pipeline {
  name: string;
  nodes: PipelineNode[];
  edges: PipelineEdge[];
  topics: Topic[];
}

/** A fact or headline an explanation cites as `[ref]` in its text. */
export interface Citation {
  /** F1, N2, ...: the reference used in the text. */
  ref: string;
  id: string;
  kind: 'FACT' | 'NEWS';
  /** A fact's label, or the headline. */
  title: string;
  /** A fact's value as printed, or a headline's source. */
  detail: string;
  /** When the fact was known, or when the headline was published. */
  time: string;
  score: number | null;
  url: string | null;
}

/** Why the model made its latest prediction for a symbol. */
export interface Explanation {
  /** symbol:inputTs:horizon */
  predictionId: string;
  symbol: string;
  horizon: number;
  /** Paragraphs separated by blank lines, citing with [F1], [N1, F3], ... */
  text: string;
  citations: Citation[];
  explainer: string;
  requestedExplainer: string;
  grounded: boolean;
  fallbackReason: string | null;
  firstTextMs: number;
  latencyMs: number;
  cached: boolean;
  generatedAt: string;
}

export const EXPLANATION_FIELDS = `predictionId symbol horizon text explainer requestedExplainer grounded fallbackReason
  firstTextMs latencyMs cached generatedAt citations { ref id kind title detail time score url }`;

/** A step of a streamed explanation (Subscription.explanation). */
export interface ExplanationEvent {
  kind: 'TEXT' | 'RESET' | 'DONE';
  delta: string | null;
  reason: string | null;
  explanation: Explanation | null;
}

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
