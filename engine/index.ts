// The engine's public surface: what operators, pipelines and the CLI import.
export { type Chain, findChains } from './chains.js';
export { END_OF_TIME, EXTERNAL_PRODUCER, HEADER } from './control.js';
export { createLiveHub, type LiveHub, type Unsubscribe } from './live-hub.js';
export { type NodeStats, PipelineMetrics } from './metrics.js';
export {
  type AnyOperator,
  defineOperator,
  type EmitOptions,
  type KeyedState,
  type Ports,
  type PortValues,
  type SinkContext,
  type SinkOperator,
  type SourceContext,
  type SourceOperator,
  type Timer,
  type TransformContext,
  type TransformOperator,
  UndeclaredStateError,
} from './operator.js';
export {
  DLQ_SUFFIX,
  definePipeline,
  type NodeDeclaration,
  type Pipeline,
  type PipelineDeclaration,
  type PipelineDescription,
  PipelineError,
  type PipelineNode,
  type PipelineTopic,
  type TopicDeclaration,
} from './pipeline.js';
export { RecordError, type StreamRecord } from './record.js';
export { createReplayClock, type ReplayClock } from './replay-clock.js';
export { type RunningPipeline, type RunOptions, type RunSummary, runPipeline, topicSpecs } from './runner.js';
export { avroSerde, type Serde } from './serde.js';
export { avroStateCodec, type StateCodec } from './state-codec.js';
export { TestDriver } from './test-driver.js';
export { publicTopics, type TableTopic, type TopicTable, topicTableProblems } from './topic-table.js';
export type { Consumer, IncomingMessage, OutgoingMessage, Producer, TopicSpec, Transport } from './transport.js';
export { MemoryTransport, type MemoryTransportOptions } from './transports/memory/memory-transport.js';
export { createWatermarkGate, type WatermarkGate } from './watermark-gate.js';
