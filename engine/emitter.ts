// What a node (source or transform) emits, turned into messages for the transport: the record
// checked against its port's schema (and encoded where it leaves the process), keyed, with the
// node's headers; an invalid record becomes a dead letter instead. One path for both tasks.
import { describeTypeErrors, type Schema } from '../schemas/index.js';
import { HEADER } from './control.js';
import { deadLetterMessage, jsonPayload } from './dead-letter.js';
import type { PipelineMetrics } from './metrics.js';
import type { Pipeline, PipelineNode } from './pipeline.js';
import { message } from './record.js';
import type { Serde } from './serde.js';
import type { OutgoingMessage } from './transport.js';

export interface EmitterDeps {
  pipeline: Pipeline;
  node: PipelineNode;
  serde: Serde;
  metrics: PipelineMetrics;
  /** Send records unencoded (in-process transport). */
  inProcess: boolean;
  /** See TaskDeps.chained. */
  chained?: { local: ReadonlySet<string>; fused: ReadonlySet<string> };
  /** Where the messages go (the task's output buffer). */
  out: OutgoingMessage[];
}

export interface Emission {
  key: string | null;
  timestamp: number;
  /** When the source emitted what this derives from (end-to-end latency), epoch ms as text. */
  sourceTime: string | undefined;
  /** The lane a chain hands the record on in (see engine/chains.ts). */
  lane: number;
}

export class Emitter {
  private readonly schemas: { readonly [port: string]: Schema<unknown> };

  constructor(private readonly deps: EmitterDeps) {
    const op = deps.node.operator;
    this.schemas = op.kind === 'sink' ? {} : op.outputs;
  }

  /** The topic a port is wired to. */
  topicOf(port: string): string {
    const topic = this.deps.node.writes[port];
    if (!topic || !this.schemas[port]) throw new Error(`${this.deps.node.id}: no output port ${port}`);
    return topic;
  }

  emit(port: string, value: unknown, at: Emission): void {
    const topic = this.topicOf(port);
    const schema = this.schemas[port]!;
    const { chained } = this.deps;
    const encode = !this.deps.inProcess && !chained?.fused.has(topic);
    const encoded = checkRecord(this.deps.serde, topic, schema, value, encode);
    if (typeof encoded === 'string') {
      this.deadLetter(
        topic,
        'validation',
        `${this.deps.node.id} produced an invalid ${schema.name}: ${encoded}`,
        jsonPayload(value),
        at,
      );
      return;
    }
    const { key, timestamp } = at;
    const headers = this.headers(at.sourceTime);
    if (chained?.local.has(topic)) {
      // Handed on in-process, in its lane (and, unless fused, written as bytes too).
      this.deps.out.push({ topic, partition: at.lane, key, value: encoded, record: value, timestamp, headers });
    } else {
      this.deps.out.push(
        encoded === null
          ? { topic, key, value: null, record: value, timestamp, headers }
          : { topic, key, value: encoded, timestamp, headers },
      );
    }
  }

  deadLetter(
    topic: string,
    kind: string,
    reason: string,
    payload: Buffer | null,
    at: { key: string | null; timestamp?: number; partition?: number; offset?: number },
  ): void {
    const { message } = deadLetterMessage(
      this.deps.pipeline,
      { topic, node: this.deps.node.id, kind, reason, payload },
      at,
    );
    this.deps.out.push(message);
    this.deps.metrics.deadLettered(this.deps.node.id, topic, kind);
  }

  // Records emitted together share one headers object (per source time), not one each.
  private cached: { sourceTime: string | undefined; headers: { [name: string]: string } } | null = null;
  headers(sourceTime: string | undefined): { [name: string]: string } {
    if (!this.cached || this.cached.sourceTime !== sourceTime) {
      const headers: { [name: string]: string } = { [HEADER.from]: this.deps.node.id };
      if (sourceTime !== undefined) headers[HEADER.sourceTime] = sourceTime;
      this.cached = { sourceTime, headers };
    }
    return this.cached.headers;
  }
}

/**
 * Records already checked against a schema (by fingerprint), unencoded: a record handed on
 * unchanged (the router passes features through) is not checked again. Records are read-only
 * once emitted (engine/README.md), so a check stays true.
 */
const checked = new WeakMap<object, string>();

/**
 * Checks a record against its schema's Avro type and rules, and encodes it when `encode`.
 * Returns the bytes, null (valid, not encoded) or the reason it is invalid.
 */
export function checkRecord<T>(
  serde: Serde,
  topic: string,
  schema: Schema<T>,
  value: T,
  encode: boolean,
): Buffer | null | string {
  let bytes: Buffer | null = null;
  const object = typeof value === 'object' && value !== null ? (value as object) : null;
  if (encode) {
    try {
      bytes = serde.encode(topic, schema, value);
    } catch (err) {
      const why = describeTypeErrors(schema.type, value);
      return why.length > 0 ? why.join('; ') : message(err);
    }
  } else if (object && checked.get(object) === schema.fingerprint) {
    return null;
  } else if (!schema.type.isValid(value)) {
    return describeTypeErrors(schema.type, value).join('; ') || `not a valid ${schema.name}`;
  }
  // Rules run after the type check, so they can rely on the record's shape.
  const problems = schema.validate(value);
  if (problems.length > 0) return problems.join('; ');
  if (object && !encode) checked.set(object, schema.fingerprint);
  return bytes;
}
