// How records become bytes on a topic. Embedded mode writes plain Avro binary (avsc);
// the Kafka transport plugs in the Confluent wire format with a schema registry.
import type { Schema } from '../schemas/index.js';

export interface Serde {
  readonly kind: string;
  /** Called once before running, with every topic's schema (registers them, if needed). */
  // biome-ignore lint/suspicious/noExplicitAny: topics carry different record types
  prepare(topics: ReadonlyArray<{ name: string; schema: Schema<any> }>): Promise<void>;
  encode<T>(topic: string, schema: Schema<T>, value: T): Buffer;
  decode<T>(topic: string, schema: Schema<T>, bytes: Buffer): T;
}

export const avroSerde: Serde = {
  kind: 'avro',
  async prepare() {},
  encode: (_topic, schema, value) => schema.type.toBuffer(value),
  decode: (_topic, schema, bytes) => schema.type.fromBuffer(bytes),
};
