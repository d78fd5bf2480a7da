// What a NodeTask needs when an engine test runs one node of a pipeline by hand: the Avro serde
// in process, fresh metrics, the topics' partition counts, no log. The test gives the node, the
// producer and consumer, and whatever else it varies (a changelog, a commit interval).
import { type Pipeline, PipelineMetrics } from '../../engine/index.js';
import type { TaskDeps } from '../../engine/node-task.js';
import { avroSerde } from '../../engine/serde.js';

export function nodeTaskDeps(
  pipeline: Pipeline,
  nodeId: string,
  deps: Pick<TaskDeps, 'producer' | 'consumer'> & Partial<TaskDeps>,
): TaskDeps {
  const node = pipeline.nodes.find((n) => n.id === nodeId);
  if (!node) throw new Error(`no node ${nodeId} in ${pipeline.name}`);
  return {
    pipeline,
    inProcess: true,
    node,
    serde: avroSerde,
    metrics: new PipelineMetrics(pipeline.name),
    partitions: (topic) => pipeline.topics.get(topic)!.partitions,
    signal: new AbortController().signal,
    log: () => {},
    ...deps,
  };
}
