// defineOperator: the three kinds of pipeline node logic, typed by their schemas.
// Operators are pure descriptions; the runner (engine/runner.ts) and the test driver run them.
import type { Schema } from '../schemas/index.js';
import type { StreamRecord } from './record.js';
import type { StateCodec } from './state-codec.js';

// biome-ignore lint/suspicious/noExplicitAny: a port map holds schemas of any record type
export type Ports = { readonly [port: string]: Schema<any> };
export type PortValues<P extends Ports> = { [K in keyof P]: P[K] extends Schema<infer T> ? T : never };

export interface EmitOptions {
  /** Partition key, default the value's `symbol`. */
  key?: string;
  /** Event time, default the input record's (or the firing timer's). */
  timestamp?: number;
}

/** Keyed state, scoped to the key of the record (or timer) being processed. */
export interface KeyedState<S> {
  get(): S | undefined;
  set(value: S): void;
  delete(): void;
}

export interface TransformContext<Out extends Ports, S> {
  readonly node: string;
  emit<P extends keyof Out & string>(port: P, value: PortValues<Out>[P], opts?: EmitOptions): void;
  readonly state: KeyedState<S>;
  /** Current watermark of the node: no record older than this is expected. */
  readonly watermark: number;
  /** Calls onTimer for the current key once the watermark reaches `time`. */
  setTimer(time: number): void;
}

export interface Timer {
  key: string;
  time: number;
}

export interface TransformOperator<In, Out extends Ports, S = never> {
  readonly kind: 'transform';
  readonly name: string;
  readonly input: Schema<In>;
  readonly outputs: Out;
  /**
   * Why the operator keeps state: documents it and turns the state store on. `codec`: how a
   * key's state is written to its changelog on Kafka (default JSON, which turns NaN and ±Infinity
   * into null and is slow for large numeric states); see engine/README.md, "State codecs".
   */
  readonly state?: { description: string; codec?: StateCodec<S> };
  /**
   * Least wall time between two batches, ms (like Flink's buffer timeout or Kafka's linger.ms):
   * input gathers meanwhile, so an operator that coalesces its batch (newest per key) does less
   * work when input arrives fast, at the price of up to this much latency. Default 0.
   */
  readonly lingerMs?: number;
  /**
   * Most records per batch for this node (below the run's batch size): for an operator whose
   * records are slow to process (a model call per record), so its output and progress flow in
   * steps of seconds instead of one long batch. Default: the run's batch size.
   */
  readonly maxBatch?: number;
  /**
   * Scopes state and timers to this key of each record instead of its partition key (with
   * `process` only): for state across the keys of all partitions, e.g. one calibration per
   * horizon over every symbol's scores. Such a node sees its input as one stream (one watermark
   * over every partition), so its outputs must have a partition count other than its inputs', and
   * it keeps its state in the process (no changelog): see engine/README.md.
   */
  readonly stateKey?: (value: In) => string;
  /** One record at a time. Throw RecordError (or anything) to dead-letter this record. */
  process?(record: StreamRecord<In>, ctx: TransformContext<Out, S>): void;
  /** A whole batch at once (e.g. to call a model once); a throw dead-letters the batch. */
  processBatch?(records: readonly StreamRecord<In>[], ctx: TransformContext<Out, S>): void | Promise<void>;
  onTimer?(timer: Timer, ctx: TransformContext<Out, S>): void;
}

export interface SinkContext {
  readonly node: string;
}

export interface SinkOperator<In> {
  readonly kind: 'sink';
  readonly name: string;
  readonly input: Schema<In>;
  /** Writes a batch; must be idempotent (batches are retried and replayed). */
  write(records: readonly StreamRecord<In>[], ctx: SinkContext): Promise<void>;
  /** Retry policy for transient write errors (exponential backoff). */
  readonly retry?: { retries?: number; minDelayMs?: number; maxDelayMs?: number };
  /**
   * false: never run inside the chain that writes its input (engine/chains.ts), for a sink that
   * runs in other processes than that chain (the live fan-out runs where the API serves). By
   * default a sink joins the chain: it gathers what the chain hands it into batches and writes
   * each before the chain commits the input it came from; while it retries, the chain waits
   * (backpressure, as in Flink).
   */
  readonly chain?: boolean;
  /**
   * true: it feeds what its own process serves (the API's subscriptions, the series of /metrics),
   * so a scaled-out run has it where the API runs, not in the workers (roles, engine/README.md).
   */
  readonly feedsApi?: boolean;
}

export interface SourceContext<Out extends Ports> {
  readonly node: string;
  /**
   * Buffers a record. Returns a promise when the buffer is being flushed: await it, so the
   * source slows down to what the pipeline takes (backpressure). `await` works either way.
   */
  emit<P extends keyof Out & string>(
    port: P,
    value: PortValues<Out>[P],
    opts: EmitOptions & { timestamp: number },
  ): Promise<void> | undefined;
  /** Declares that no record older than `time` will follow (closes event-time windows). */
  watermark(time: number): Promise<void>;
  /**
   * Sends what is buffered now. Emitted records go out in batches (with each watermark, or when a
   * batch is full); a live source that waits between polls flushes before it waits.
   */
  flush(): Promise<void>;
  /** Sends raw input that could not become a record to `<topic>.dlq`. */
  deadLetter<P extends keyof Out & string>(port: P, reason: string, payload: string | Buffer): void;
  /** Aborted when the pipeline stops: a source must return soon after. */
  readonly signal: AbortSignal;
  /** Reports progress (shown by the CLI): done and total units of the source's own choosing. */
  progress(done: number, total?: number): void;
}

export interface SourceOperator<Out extends Ports> {
  readonly kind: 'source';
  readonly name: string;
  readonly outputs: Out;
  /** Produces until done (bounded) or until signal aborts (unbounded). */
  run(ctx: SourceContext<Out>): Promise<void>;
}

export type AnyOperator =
  // biome-ignore lint/suspicious/noExplicitAny: heterogenous operators in one pipeline
  TransformOperator<any, Ports, any> | SinkOperator<any> | SourceOperator<Ports>;

/**
 * Keyed state must be declared: an operator with a state type (S) must say why it keeps state
 * (`state: { description }`), which is what gives it a changelog on Kafka. Without it a worker
 * taking over its partitions would start from empty state, silently.
 */
type DeclaredState<S> = [S] extends [never] ? unknown : { readonly state: { description: string } };

export function defineOperator<In, Out extends Ports, S = never>(
  op: Omit<TransformOperator<In, Out, S>, 'kind'> & { kind: 'transform' } & DeclaredState<S>,
): TransformOperator<In, Out, S>;
export function defineOperator<In>(op: SinkOperator<In>): SinkOperator<In>;
export function defineOperator<Out extends Ports>(op: SourceOperator<Out>): SourceOperator<Out>;
export function defineOperator(op: AnyOperator): AnyOperator {
  if (op.kind === 'transform' && !op.process === !op.processBatch) {
    throw new Error(`operator ${op.name}: define exactly one of process and processBatch`);
  }
  return op;
}

/** An operator used ctx.state without declaring `state`: fails the node, not the record. */
export class UndeclaredStateError extends Error {
  constructor(
    readonly node: string,
    readonly operator: string,
  ) {
    super(
      `node ${node} (operator ${operator}) keeps keyed state (ctx.state) but declares none: add ` +
        `\`state: { description: '…why…' }\` to the operator, so its state is kept in a changelog on ` +
        'Kafka and a worker taking over its partitions restores it',
    );
    this.name = 'UndeclaredStateError';
  }
}
