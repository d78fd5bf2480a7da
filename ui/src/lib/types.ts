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
