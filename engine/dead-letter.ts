// A dead letter as every producer of them writes it (a source's rejects, a node's decode,
// validation and processing failures, the TestDriver's piped records): one envelope, one message
// to `<topic>.dlq`, and one way to turn a value that never became Avro into payload bytes.
import { type DeadLetter, schemas, typedArraysAsArrays } from '../schemas/index.js';
import { HEADER } from './control.js';
import { DLQ_SUFFIX, type Pipeline } from './pipeline.js';
import type { OutgoingMessage } from './transport.js';

export interface DeadLetterAt {
  key: string | null;
  /** Event time of the original record, when known. */
  timestamp?: number | null;
  partition?: number | null;
  offset?: number | null;
}

/** The envelope and the message that carries it to the topic's dead-letter topic. */
export function deadLetterMessage(
  pipeline: Pick<Pipeline, 'topics'>,
  letter: { topic: string; node: string; kind: string; reason: string; payload: Buffer | null },
  at: DeadLetterAt,
): { letter: DeadLetter; message: OutgoingMessage } {
  const full: DeadLetter = {
    ...letter,
    key: at.key,
    payload: letter.payload ?? Buffer.alloc(0),
    timestamp: at.timestamp != null && Number.isSafeInteger(at.timestamp) ? at.timestamp : null,
    partition: at.partition ?? null,
    offset: at.offset ?? null,
    failedAt: Date.now(),
  };
  const topic = pipeline.topics.get(letter.topic)?.deadLetterTopic ?? `${letter.topic}${DLQ_SUFFIX}`;
  return {
    letter: full,
    message: {
      topic,
      key: at.key,
      value: schemas.DeadLetter.type.toBuffer(full),
      timestamp: full.failedAt,
      headers: { [HEADER.from]: letter.node },
    },
  };
}

/**
 * A value that never became Avro, as payload bytes: JSON that keeps NaN and Infinity readable
 * (as strings), writes a typed array (a feature row) as an array, and never throws (a cycle or a
 * BigInt falls back to String(value)).
 */
export function jsonPayload(value: unknown): Buffer {
  let text: string;
  try {
    text = JSON.stringify(value, jsonValue) ?? 'null';
  } catch {
    text = String(value);
  }
  return Buffer.from(text);
}

function jsonValue(key: string, v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  return typedArraysAsArrays(key, v);
}
