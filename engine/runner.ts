// runPipeline: starts every node of a validated pipeline on a transport and keeps them
// running until a bounded run ends (every sink saw end-of-stream) or stop() is called.
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { ChainHeadConsumer, ChainInput, ChainProducer, ChainTask } from './chain-task.js';
import { type Chain, splitChainProblem } from './chains.js';
import { type NodeStats, PipelineMetrics } from './metrics.js';
import { NodeTask } from './node-task.js';
import type { Pipeline, PipelineNode } from './pipeline.js';
import { message } from './record.js';
import { avroSerde, type Serde } from './serde.js';
import { type SourceProgress, SourceTask } from './source-task.js';
import type { Consumer, Producer, TopicSpec, Transport } from './transport.js';
import { MemoryTransport } from './transports/memory/memory-transport.js';

export interface RunOptions {
  /** Default: a new in-process MemoryTransport. */
  transport?: Transport;
  serde?: Serde;
  metrics?: PipelineMetrics;
  /** Most records a node takes per step, default 20,000. */
  batchSize?: number;
  /** How long an idle node waits for data per poll, default 200 ms. */
  pollTimeoutMs?: number;
  /** Consumer group prefix, default the pipeline name (one group per node). */
  groupPrefix?: string;
  /** Names this process in the groups of nodes that read in every process; default `<host>-<pid>`. */
  processId?: string;
  /** Run only these node ids (a worker that hosts part of the DAG); default all. */
  nodes?: readonly string[];
  /**
   * Keep stateful nodes' keyed state and timers in compacted changelog topics
   * (`<groupPrefix>.<node>-changelog`) and restore them when partitions are assigned; default
   * on when the transport can read them back (Kafka), off in memory.
   */
  changelogs?: boolean;
  /**
   * Exactly-once for Kafka→Kafka nodes: true = every transform, or the ids of the transforms.
   * Each gets a transactional producer (`Transport.transactionalProducer`, id = its consumer
   * group) that commits its outputs, dead letters, changelog and input offsets atomically.
   * Sinks keep at-least-once (their stores upsert); naming a sink or a source is an error, as is
   * a transport without transactions or a stateful transform without a changelog. Default off.
   */
  exactlyOnce?: boolean | readonly string[];
  /**
   * Run the pipeline's chains (engine/chains.ts) as one task each, handing records on in-process;
   * default on. Off: every node reads and writes its topics through the transport.
   */
  chaining?: boolean;
  /**
   * At-least-once: how often (ms) a node or chain writes its changelog and commits its input
   * offsets; outputs go every step. Within an interval a key's state is written once, its latest
   * (Kafka Streams' commit.interval.ms). Default 1,000 on a broker, 0 (every step) in process;
   * exactly-once nodes commit every step, in their transaction.
   */
  commitIntervalMs?: number;
  log?: (line: string) => void;
}

export interface RunSummary {
  pipeline: string;
  durationMs: number;
  stopped: boolean;
  nodes: NodeStats[];
  deadLetters: number;
}

export interface RunningPipeline {
  readonly pipeline: Pipeline;
  readonly transport: Transport;
  readonly metrics: PipelineMetrics;
  /** The pipeline's chains in force (none with chaining off), whichever of them this process runs. */
  readonly chains: readonly Chain[];
  /** Resolves when every node has ended, or after stop(); rejects when a node fails. */
  readonly done: Promise<RunSummary>;
  /** Progress reported by the sources. */
  sources(): Array<{ node: string } & SourceProgress>;
  stop(): Promise<RunSummary>;
}

/**
 * Topic specs of a pipeline, dead-letter topics included. `fused`: topics a chain hands on
 * in-process only (their dead-letter topics stay).
 */
export function topicSpecs(pipeline: Pipeline, fused: ReadonlySet<string> = new Set()): TopicSpec[] {
  return [...pipeline.topics.values()].flatMap((t) => [
    ...(fused.has(t.name)
      ? []
      : [{ name: t.name, partitions: t.partitions, ...(t.compacted ? { compacted: true } : {}) }]),
    { name: t.deadLetterTopic, partitions: 1 },
  ]);
}

/**
 * The changelog topic of a stateful transform whose input and output topics are
 * co-partitioned (one partition of the changelog per input partition), else null.
 */
export function changelogSpec(pipeline: Pipeline, node: PipelineNode, groupPrefix: string): TopicSpec | null {
  const op = node.operator;
  if (op.kind !== 'transform' || !(op.state || op.onTimer)) return null;
  const counts = new Set([...node.reads, ...Object.values(node.writes)].map((t) => pipeline.topics.get(t)?.partitions));
  const [partitions] = counts;
  if (counts.size !== 1 || partitions === undefined) return null;
  return { name: `${groupPrefix}.${node.id}-changelog`, partitions, compacted: true };
}

/** RunOptions.exactlyOnce names what cannot run exactly-once; `problems` says why, one per node. */
export class ExactlyOnceRefused extends Error {
  constructor(readonly problems: string[]) {
    super(`exactly-once refused:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ExactlyOnceRefused';
  }
}

/**
 * The nodes that run exactly-once (RunOptions.exactlyOnce), checked: a bad choice stops the run
 * before anything starts, with the reason.
 */
export function exactlyOnceNodes(
  pipeline: Pipeline,
  selected: readonly PipelineNode[],
  choice: boolean | readonly string[] | undefined,
  transport: Transport,
  changelogs: ReadonlyMap<string, TopicSpec>,
): Set<string> {
  if (choice === undefined || choice === false || (Array.isArray(choice) && choice.length === 0)) return new Set();
  if (!transport.transactionalProducer) {
    throw new Error(`exactly-once needs a transport with transactions (kafka); ${transport.kind} has none`);
  }
  const named = choice === true ? null : new Set(choice as readonly string[]);
  const problems: string[] = [];
  for (const id of named ?? []) {
    const node = pipeline.nodes.find((n) => n.id === id);
    if (!node) problems.push(`${id}: no such node (nodes: ${pipeline.nodes.map((n) => n.id).join(', ')})`);
    else if (node.operator.kind !== 'transform') {
      problems.push(
        `${id}: a ${node.operator.kind} does not read and write Kafka topics; exactly-once covers Kafka→Kafka transforms (sinks upsert, so redelivery is harmless)`,
      );
    }
  }
  const chosen = selected.filter((n) => n.operator.kind === 'transform' && (named ? named.has(n.id) : true));
  for (const node of chosen) {
    const op = node.operator;
    if (op.kind === 'transform' && (op.state || op.onTimer) && !changelogs.has(node.id)) {
      problems.push(
        `${node.id}: keeps state but has no changelog topic (changelogs off, or topics of different partition counts): an aborted transaction could not roll its state back`,
      );
    }
  }
  if (problems.length > 0) throw new ExactlyOnceRefused(problems);
  return new Set(chosen.map((n) => n.id));
}

export async function runPipeline(pipeline: Pipeline, opts: RunOptions = {}): Promise<RunningPipeline> {
  const transport: Transport = opts.transport ?? new MemoryTransport();
  const serde = opts.serde ?? avroSerde;
  const metrics = opts.metrics ?? new PipelineMetrics(pipeline.name);
  const batchSize = opts.batchSize ?? 20_000;
  const pollTimeoutMs = opts.pollTimeoutMs ?? 200;
  const log = opts.log ?? ((line: string) => console.error(line));
  const started = performance.now();
  const abort = new AbortController();

  const plan = planRun(pipeline, opts, transport, log);
  await transport.ensureTopics([...topicSpecs(pipeline, plan.fused), ...plan.changelogs.values()]);
  await serde.prepare([...pipeline.topics.values()].map((t) => ({ name: t.name, schema: t.schema })));
  const clients = await openClients(pipeline, plan, { transport, serde, metrics, batchSize, abort, log });
  const { tasks, sources } = clients;

  const depth = transport.depth?.bind(transport);
  if (depth) metrics.depthSource = depth;

  let stopped = false;
  const loops = [
    ...sources.map((s) => s.run()),
    ...tasks.map((t) => runTask(pipeline, t, { metrics, batchSize, pollTimeoutMs, abort, log })),
  ];

  const summary = (): RunSummary => {
    const nodes = metrics.snapshot();
    return {
      pipeline: pipeline.name,
      durationMs: performance.now() - started,
      stopped,
      nodes,
      deadLetters: nodes.reduce((n, s) => n + s.deadLetters, 0),
    };
  };

  const done = Promise.all(loops).then(
    async () => {
      await clients.close();
      return summary();
    },
    async (err: unknown) => {
      // The other loops see the abort and end; then their producers and consumers close too
      // (a consumer left open would hold its partitions in its group until the session times out).
      abort.abort();
      transport.releaseProducers?.();
      // Bounded: a failure caused by an unreachable broker must still surface, closed or not.
      const closing = Promise.allSettled(loops).then(() => clients.close());
      const closed = await Promise.race([
        closing.then(() => true),
        delay(CLOSE_AFTER_FAILURE_MS, false, { ref: false }),
      ]).catch((closeErr: unknown) => {
        log(`closing after the failure: ${message(closeErr)}`);
        return true;
      });
      if (!closed) log(`producers and consumers still closing ${CLOSE_AFTER_FAILURE_MS / 1000} s after the failure`);
      throw err;
    },
  );
  // A failing node stops the others; the rejection surfaces through `done`.
  done.catch(() => {});

  return {
    pipeline,
    transport,
    metrics,
    chains: opts.chaining === false ? [] : pipeline.chains,
    done,
    sources: () => sources.map((s) => ({ node: s.id, ...s.progress })),
    stop: async () => {
      stopped = true;
      abort.abort();
      // Sources see the abort, but one blocked on a full partition would wait for consumers that just quit.
      transport.releaseProducers?.();
      return done;
    },
  };
}

/** What a run will do, decided before anything opens: a bad choice stops it here, with the reason. */
interface RunPlan {
  selected: PipelineNode[];
  groupPrefix: string;
  processId: string;
  /** Changelog topic of each stateful node that keeps one. */
  changelogs: Map<string, TopicSpec>;
  /** Nodes that run exactly-once. */
  transactional: Set<string>;
  /** Chains this process runs (whole: a process never runs part of one). */
  chains: Chain[];
  /** Topics no process writes to the transport (handed on inside chains). */
  fused: Set<string>;
  /** RunOptions.commitIntervalMs, resolved (at-least-once only). */
  commitIntervalMs: number;
}

function planRun(pipeline: Pipeline, opts: RunOptions, transport: Transport, log: (line: string) => void): RunPlan {
  const selected = pipeline.nodes.filter((n) => !opts.nodes || opts.nodes.includes(n.id));
  const groupPrefix = opts.groupPrefix ?? pipeline.name;
  const changelogs = new Map<string, TopicSpec>();
  if (transport.readToEnd && (opts.changelogs ?? true)) {
    for (const node of selected) {
      const spec = changelogSpec(pipeline, node, groupPrefix);
      if (spec) changelogs.set(node.id, spec);
      else if (node.operator.kind === 'transform' && (node.operator.state || node.operator.onTimer)) {
        log(`${node.id}: no changelog (its topics differ in partition count): its state lives in this process only`);
      }
    }
  }
  const transactional = exactlyOnceNodes(pipeline, selected, opts.exactlyOnce, transport, changelogs);
  const chains = opts.chaining === false ? [] : pipeline.chains;
  const ids = new Set(selected.map((n) => n.id));
  const split = splitChainProblem(chains, ids);
  if (split) throw new Error(split);
  return {
    selected,
    groupPrefix,
    processId: opts.processId ?? `${hostname()}-${process.pid}`,
    changelogs,
    transactional,
    chains: chains.filter((c) => ids.has(c.head)),
    fused: new Set(chains.flatMap((c) => c.fused)),
    commitIntervalMs: commitInterval(opts.commitIntervalMs, transport),
  };
}

function commitInterval(ms: number | undefined, transport: Transport): number {
  if (ms === undefined) return transport.inProcess ? 0 : DEFAULT_COMMIT_INTERVAL_MS;
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`commitIntervalMs must be a number of ms >= 0, got ${ms}`);
  return ms;
}

/** A node's loop, or a chain's: one consumer, stepped until the input ends or the run stops. */
interface Task {
  readonly id: string;
  readonly ended: boolean;
  /** The node tasks it runs (one, or a chain's). */
  readonly nodes: readonly NodeTask[];
  readonly consumer: Consumer;
  step(max: number, timeoutMs: number): Promise<number>;
  drain(max: number, timeoutMs: number): Promise<void>;
  /** Commits what the commit interval still holds back (RunOptions.commitIntervalMs). */
  commitPending(): Promise<void>;
}

interface OpenDeps {
  transport: Transport;
  serde: Serde;
  metrics: PipelineMetrics;
  batchSize: number;
  abort: AbortController;
  log: (line: string) => void;
}

/** Consumers, producers and tasks of every node this process runs; `close` closes the clients. */
async function openClients(pipeline: Pipeline, plan: RunPlan, deps: OpenDeps) {
  const { transport, serde, metrics, abort, log } = deps;
  const shared = await transport.producer();
  const producers = [shared];
  // On a broker every node gets its own producer: an idempotent producer keeps at most 5
  // requests in flight per broker, one partition each, so one producer shared by every node
  // queues each node's small batch behind the others' (seconds per hop, measured on 12 partitions).
  const producerFor = async (transactionalId?: string) => {
    if (transactionalId && transport.transactionalProducer) {
      const p = await transport.transactionalProducer(transactionalId);
      producers.push(p);
      return p;
    }
    if (transport.inProcess) return shared;
    const p = await transport.producer();
    producers.push(p);
    return p;
  };
  // As declared: a fused topic has no partitions on the transport, but its lanes are the same.
  const partitions = (topic: string) => pipeline.topics.get(topic)?.partitions ?? transport.partitions(topic);
  const readToEnd = transport.readToEnd?.bind(transport);
  const nodeTask = (node: PipelineNode, producer: Producer, consumer: Consumer, chain?: Chain) => {
    const changelog = plan.changelogs.get(node.id);
    return new NodeTask({
      pipeline,
      node,
      inProcess: transport.inProcess,
      serde,
      producer,
      consumer,
      metrics,
      partitions,
      signal: abort.signal,
      log,
      changelog:
        changelog && readToEnd
          ? { topic: changelog.name, read: (parts) => readToEnd(changelog.name, parts) }
          : undefined,
      chained: chain ? { local: new Set(chain.local), fused: new Set(chain.fused) } : undefined,
      // A chain's members hand everything to the chain each step; the chain keeps the interval.
      commitIntervalMs: chain || plan.transactional.has(node.id) ? 0 : plan.commitIntervalMs,
    });
  };
  const groupOf = (node: PipelineNode) =>
    // A node that reads in every process gets a group of this process's own (see NodeDeclaration).
    node.everyProcess ? `${plan.groupPrefix}.${node.id}.${plan.processId}` : `${plan.groupPrefix}.${node.id}`;
  const byId = new Map(pipeline.nodes.map((n) => [n.id, n]));

  // Consumers join before any source produces, so no group misses the start of a topic.
  const tasks: Task[] = [];
  for (const chain of plan.chains) {
    const head = byId.get(chain.head)!;
    const group = groupOf(head);
    const transactional = chain.nodes.some((id) => plan.transactional.has(id));
    const consumer = await transport.consumer({ group, topics: head.reads, transactional });
    const headConsumer = new ChainHeadConsumer(consumer);
    const inputs = new Map<string, ChainInput>();
    const readers = new Map<string, ChainInput[]>();
    for (const id of chain.nodes.slice(1)) {
      const topic = byId.get(id)!.reads[0]!;
      const input = new ChainInput(topic, headConsumer);
      inputs.set(id, input);
      readers.set(topic, [...(readers.get(topic) ?? []), input]);
    }
    const changelogTopics = new Set(chain.nodes.flatMap((id) => plan.changelogs.get(id)?.name ?? []));
    const chainProducer = new ChainProducer(readers, new Set(chain.fused), changelogTopics);
    const out = await producerFor(transactional ? group : undefined);
    const nodes = chain.nodes.map((id) => {
      metrics.node(id).group = group;
      return nodeTask(byId.get(id)!, chainProducer, id === chain.head ? headConsumer : inputs.get(id)!, chain);
    });
    const task = new ChainTask({
      chain,
      tasks: nodes,
      head: headConsumer,
      producer: chainProducer,
      out,
      commitIntervalMs: plan.commitIntervalMs,
      sinks: new Map([...inputs].filter(([id]) => byId.get(id)!.operator.kind === 'sink')),
      sinkCommitGraceMs: SINK_COMMIT_GRACE_MS,
      log,
      onAbort: (reason) => {
        for (const id of chain.nodes) metrics.node(id).lastError = reason;
      },
    });
    tasks.push(Object.assign(task, { consumer }));
  }
  const chained = new Set(plan.chains.flatMap((c) => c.nodes));
  for (const node of plan.selected.filter((n) => n.operator.kind !== 'source' && !chained.has(n.id))) {
    const group = groupOf(node);
    const transactional = plan.transactional.has(node.id);
    const consumer = await transport.consumer({ group, topics: node.reads, transactional });
    metrics.node(node.id).group = group;
    // A sink produces dead letters only (sinks keep no state): the process's shared producer
    // serves them all. On Kafka each producer is a librdkafka handle with its own threads and
    // polls, busy even while idle (issue 15: 19 handles a worker, ~35–125 ms of CPU a second).
    const producer =
      node.operator.kind === 'sink' && !transactional ? shared : await producerFor(transactional ? group : undefined);
    const task = nodeTask(node, producer, consumer);
    tasks.push({
      id: task.id,
      nodes: [task],
      consumer,
      get ended() {
        return task.ended;
      },
      step: (max, timeoutMs) => task.step(max, timeoutMs),
      drain: (max, timeoutMs) => task.drain(max, timeoutMs),
      commitPending: () => task.commitPending(),
    });
  }
  const sources: SourceTask[] = [];
  for (const node of plan.selected.filter((n) => n.operator.kind === 'source')) {
    sources.push(
      new SourceTask({
        pipeline,
        node,
        inProcess: transport.inProcess,
        serde,
        producer: await producerFor(),
        metrics,
        partitions,
        signal: abort.signal,
        batchSize: deps.batchSize,
      }),
    );
  }
  const close = async () => {
    for (const p of producers) await p.close();
    for (const { consumer } of tasks) await consumer.close();
  };
  return { tasks, sources, close };
}

interface LoopDeps {
  metrics: PipelineMetrics;
  batchSize: number;
  pollTimeoutMs: number;
  abort: AbortController;
  log: (line: string) => void;
}

/** Steps a task until its input ends or the run stops; measures lag beside it. */
async function runTask(pipeline: Pipeline, task: Task, deps: LoopDeps): Promise<void> {
  const { metrics, abort, log } = deps;
  const { consumer } = task;
  for (const n of task.nodes) metrics.node(n.id).status = 'running';
  let lastLag = 0;
  let lagInFlight: Promise<void> | null = null;
  let lagFailed = false;
  let lagEveryMs = 1000;
  // A chain runs at its head's pace: its linger and batch cap (chains.ts keeps others out).
  const op = pipeline.nodes.find((n) => n.id === task.id)?.operator;
  const lingerMs = op?.kind === 'transform' ? (op.lingerMs ?? 0) : 0;
  const maxBatch = op?.kind === 'transform' ? Math.min(deps.batchSize, op.maxBatch ?? deps.batchSize) : deps.batchSize;
  while (!abort.signal.aborted && !task.ended) {
    try {
      const consumed = await task.step(maxBatch, deps.pollTimeoutMs);
      if (consumed > 0 && lingerMs > 0) await sleep(lingerMs, abort.signal);
    } catch (err) {
      if (abort.signal.aborted) break;
      const stats = metrics.node(task.id);
      stats.status = 'failed';
      stats.lastError = message(err);
      throw new Error(`node ${task.id} failed: ${message(err)}`, { cause: err });
    }
    // Lag is a metric: measured beside the loop (never blocking it). A failed measurement
    // (a slow or restarting broker) is logged once and retried later and later (up to a
    // minute) instead of adding admin requests to a broker that is struggling.
    if (!lagInFlight && performance.now() - lastLag > lagEveryMs) {
      lastLag = performance.now();
      for (const n of task.nodes) metrics.setHolding(n.id, holding(pipeline, n));
      lagInFlight = consumer.lag().then(
        (lag) => {
          lagInFlight = null;
          lagEveryMs = 1000;
          if (!abort.signal.aborted)
            metrics.setLag(
              task.id,
              Object.values(lag).reduce((a, b) => a + b, 0),
            );
        },
        (err: unknown) => {
          lagInFlight = null;
          lagEveryMs = Math.min(60_000, lagEveryMs * 4);
          if (!lagFailed) log(`${task.id}: could not measure lag: ${message(err)}`);
          lagFailed = true;
        },
      );
    }
  }
  await lagInFlight;
  if (task.ended && !abort.signal.aborted) await task.drain(maxBatch, deps.pollTimeoutMs);
  // Stopped (or ended) between commits: commit what was processed, so a restart does not read it again.
  if (!abort.signal.aborted) await task.commitPending();
  else await task.commitPending().catch((err: unknown) => log(`${task.id}: final commit failed: ${message(err)}`));
  for (const n of task.nodes) {
    metrics.node(n.id).status = task.ended ? 'ended' : 'idle';
    metrics.setLag(n.id, 0);
  }
}

/** What a node holds now: its state's keys, and the partitions of its input it owns. */
function holding(pipeline: Pipeline, task: NodeTask) {
  const op = pipeline.nodes.find((n) => n.id === task.id)?.operator;
  const stateful = op?.kind === 'transform' && (op.state !== undefined || op.onTimer !== undefined);
  return {
    stateKeys: stateful ? task.state.size : null,
    partitions:
      task.ownedPartitions
        ?.map((tp) => `${tp.topic}/${tp.partition}`)
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true })) ?? null,
  };
}

/** RunOptions.commitIntervalMs on a broker. */
const DEFAULT_COMMIT_INTERVAL_MS = 1000;

/** ChainDeps.sinkCommitGraceMs: at most this long past the commit interval, a chain waits for its sinks' writes to commit. */
const SINK_COMMIT_GRACE_MS = 1000;

/** How long a failed run waits for its producers and consumers to close before it reports the failure. */
const CLOSE_AFTER_FAILURE_MS = 10_000;

/** Waits `ms`, or less when the run stops. */
async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => undefined);
}
