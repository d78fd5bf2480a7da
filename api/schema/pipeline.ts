// The pipeline's DAG and per-node metrics, and readiness.
import type { PipelineDescription } from '../../engine/index.js';
import { schemas } from '../../schemas/index.js';
import type { Health } from '../health.js';
import { health } from '../health.js';
import type { MetricsSample, NodeInstanceMetrics, NodeMetrics } from '../pipeline-view.js';
import { builder } from './builder.js';

/** The project's Avro schemas by full name: what a topic's `schema` names. */
const AVRO_BY_NAME = new Map(Object.values(schemas).map((sc) => [sc.name, JSON.stringify(sc.avsc)]));

type DescribedNode = PipelineDescription['nodes'][number];
type DescribedTopic = PipelineDescription['topics'][number];
type DescribedEdge = PipelineDescription['edges'][number];
type DescribedChain = PipelineDescription['chains'][number];

const NodeInstanceRef = builder.objectRef<NodeInstanceMetrics>('NodeInstance').implement({
  description: "One process's part in a node, scaled out (Kafka): what it owns and has done.",
  fields: (t) => ({
    process: t.exposeString('process', { description: 'host-pid' }),
    role: t.exposeString('role', { description: 'source, worker, api or all.' }),
    host: t.exposeString('host'),
    pid: t.exposeInt('pid'),
    state: t.exposeString('state', {
      description: 'live; exited (its last snapshot said so); gone (no snapshot for a while: killed?).',
    }),
    at: t.field({ type: 'DateTime', description: 'When the process last published.', resolve: (i) => i.at }),
    status: t.exposeString('status', { description: 'idle, running, retrying, ended or failed.' }),
    partitions: t.exposeStringList('partitions', {
      nullable: true,
      description: 'Input partitions it owns (topic/partition); null: all (a consumer group of its own).',
    }),
    owned: t.exposeString('owned', {
      nullable: true,
      description: 'The partitions it owns as ranges per topic, e.g. "quotes 0-2,7"; null: all.',
    }),
    recordsIn: t.exposeFloat('recordsIn'),
    recordsOut: t.exposeFloat('recordsOut'),
    deadLetters: t.exposeFloat('deadLetters'),
    lag: t.exposeFloat('lag'),
    stateKeys: t.exposeFloat('stateKeys', { nullable: true }),
  }),
});

export const NodeMetricsRef = builder.objectRef<NodeMetrics>('NodeMetrics').implement({
  fields: (t) => ({
    node: t.exposeString('node'),
    status: t.exposeString('status', { description: 'idle, running, retrying, ended or failed.' }),
    recordsIn: t.exposeFloat('recordsIn'),
    recordsOut: t.exposeFloat('recordsOut'),
    deadLetters: t.exposeFloat('deadLetters', { description: 'Records this node sent to a dead-letter topic.' }),
    recordsInPerSec: t.exposeFloat('recordsInPerSec', { description: 'Over the last second.' }),
    recordsOutPerSec: t.exposeFloat('recordsOutPerSec', { description: 'Over the last second.' }),
    avgBatchMs: t.exposeFloat('avgBatchMs', { nullable: true, description: 'Mean batch processing time.' }),
    lastEventToSinkMs: t.exposeFloat('lastEventToSinkMs', {
      nullable: true,
      description: 'Sinks: source emit to stored, latest.',
    }),
    lag: t.exposeFloat('lag', { description: 'Records read but not yet committed.' }),
    watermark: t.field({ type: 'DateTime', nullable: true, resolve: (m) => m.watermark }),
    lastError: t.exposeString('lastError', { nullable: true }),
    stateKeys: t.exposeFloat('stateKeys', {
      nullable: true,
      description: 'Keys in keyed state (stateful transforms, over every process); null without state.',
    }),
    instances: t.field({
      type: [NodeInstanceRef],
      description:
        'Scaled out (Kafka): the processes that run this node, with the partitions each owns; the figures above are their sums. Empty in one process.',
      resolve: (m) => m.instances,
    }),
  }),
});

export const MetricsSampleRef = builder.objectRef<MetricsSample>('PipelineMetrics').implement({
  fields: (t) => ({
    at: t.field({ type: 'DateTime', resolve: (s) => s.at }),
    nodes: t.field({ type: [NodeMetricsRef], resolve: (s) => s.nodes }),
  }),
});

const PipelineNodeRef = builder.objectRef<DescribedNode>('PipelineNode').implement({
  fields: (t) => ({
    id: t.exposeString('id'),
    operator: t.exposeString('operator'),
    kind: t.exposeString('kind', { description: 'source, transform or sink.' }),
    stateful: t.exposeBoolean('stateful'),
    reads: t.exposeStringList('reads'),
    writes: t.stringList({ resolve: (n) => n.writes.map((w) => w.topic) }),
    chain: t.string({
      nullable: true,
      description:
        'The head of the chain this node runs in (one task, records handed on in-process); null: its own task.',
      resolve: async (n, _a, { services }) =>
        (await services.started()).pipeline.description.chains.find((c) => c.nodes.includes(n.id))?.head ?? null,
    }),
    metrics: t.field({
      type: NodeMetricsRef,
      nullable: true,
      resolve: async (n, _a, { services }) =>
        (await services.started()).pipeline.current().nodes.find((m) => m.node === n.id) ?? null,
    }),
  }),
});

const TopicRef = builder.objectRef<DescribedTopic>('Topic').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    schema: t.exposeString('schema', { description: 'Avro full name of the record, e.g. tickcast.Quote.' }),
    avro: t.string({
      nullable: true,
      description: 'The Avro schema (JSON, from schemas/*.avsc); null for a schema not in schemas/.',
      resolve: (topic) => AVRO_BY_NAME.get(topic.schema) ?? null,
    }),
    partitions: t.exposeInt('partitions'),
    producers: t.exposeStringList('producers'),
    consumers: t.exposeStringList('consumers'),
    deadLetterTopic: t.exposeString('deadLetterTopic'),
    pinned: t.boolean({
      description: 'Always on the transport: never fused into a chain (others read it).',
      resolve: (topic) => topic.pinned === true,
    }),
    fused: t.boolean({
      description: 'Handed on in-process inside a chain, never written to the transport (Kafka has no such topic).',
      resolve: async (topic, _a, { services }) =>
        (await services.started()).pipeline.description.chains.some((c) => c.fused.includes(topic.name)),
    }),
  }),
});

const ChainRef = builder.objectRef<DescribedChain>('PipelineChain').implement({
  description:
    'Nodes that run as one task, passing records in-process (operator chaining): only its ends, and topics read outside it, go through the transport.',
  fields: (t) => ({
    head: t.exposeString('head', { description: 'The node that reads the chain’s input from the transport.' }),
    nodes: t.exposeStringList('nodes', { description: 'Head first, producers before consumers.' }),
    local: t.exposeStringList('local', { description: 'Topics handed on in-process.' }),
    fused: t.exposeStringList('fused', { description: 'Of those, the ones never written to the transport.' }),
  }),
});

const EdgeRef = builder.objectRef<DescribedEdge>('PipelineEdge').implement({
  fields: (t) => ({ from: t.exposeString('from'), to: t.exposeString('to'), topic: t.exposeString('topic') }),
});

const PipelineRef = builder.objectRef<PipelineDescription>('Pipeline').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    nodes: t.field({ type: [PipelineNodeRef], description: 'In topological order.', resolve: (p) => p.nodes }),
    edges: t.field({ type: [EdgeRef], resolve: (p) => p.edges }),
    topics: t.field({ type: [TopicRef], resolve: (p) => p.topics }),
    chains: t.field({ type: [ChainRef], resolve: (p) => p.chains }),
  }),
});

const HealthStatusRef = builder.enumType('HealthStatus', {
  values: ['ok', 'degraded', 'starting', 'down'] as const,
});

const NodeHealthRef = builder.objectRef<Health['nodes'][number]>('NodeHealth').implement({
  fields: (t) => ({
    node: t.exposeString('node'),
    status: t.exposeString('status'),
    lastError: t.exposeString('lastError', { nullable: true }),
  }),
});

const StoreHealthRef = builder.objectRef<Health['store']>('StoreHealth').implement({
  fields: (t) => ({ kind: t.exposeString('kind'), ok: t.exposeBoolean('ok') }),
});

const HealthRef = builder.objectRef<Health>('Health').implement({
  description:
    'Readiness: the store answers and no node has failed (a retrying node makes it degraded); starting: the store answers, the pipeline is not running yet.',
  fields: (t) => ({
    status: t.field({ type: HealthStatusRef, resolve: (h) => h.status }),
    store: t.field({ type: StoreHealthRef, resolve: (h) => h.store }),
    nodes: t.field({ type: [NodeHealthRef], resolve: (h) => h.nodes }),
  }),
});

builder.queryFields((t) => ({
  pipeline: t.field({
    type: PipelineRef,
    description: 'The running pipeline (while the server starts, the answer waits for it to run).',
    resolve: async (_r, _a, { services }) => (await services.started()).pipeline.description,
  }),
  health: t.field({
    type: HealthRef,
    resolve: (_r, _a, { services }) => health(services.startedNow()?.running ?? null, services.store),
  }),
}));
