// A Schema<T> ties a generated record type to its Avro definition and its semantic rules
// (things Avro cannot say: prices are finite and positive, high >= low, ...).
import avro from 'avsc';
import { avroOptions } from './logical-types.js';

export interface Schema<T> {
  /** Avro full name, e.g. tickcast.Quote. */
  readonly name: string;
  readonly avsc: Readonly<Record<string, unknown>>;
  readonly type: avro.Type;
  /** Hex fingerprint of the canonical schema: two schemas match when these do. */
  readonly fingerprint: string;
  /** Problems with a decoded value, empty when it is valid. */
  readonly validate: (value: T) => string[];
  /** Phantom field carrying T for inference; never set. */
  readonly __type?: T;
}

/**
 * A schema as read to derive something from it (columns, GraphQL types): without `validate`, so a
 * list of them can hold schemas of different record types (it is covariant in T).
 */
export type RecordSchema<T = unknown> = Pick<Schema<T>, 'name' | 'avsc' | 'type' | 'fingerprint' | '__type'>;

export type SchemaType<S> = S extends Schema<infer T> ? T : never;

export function defineSchema<T>(
  avscJson: Readonly<Record<string, unknown>>,
  validate: (value: T) => string[] = () => [],
): Schema<T> {
  const type = avro.Type.forSchema(avscJson as avro.Schema, avroOptions());
  const name = type.name ?? String(avscJson.name);
  return { name, avsc: avscJson, type, fingerprint: type.fingerprint('sha256').toString('hex'), validate };
}

/** Why `value` does not fit the Avro type: one line per bad field, for dead letters. */
export function describeTypeErrors(type: avro.Type, value: unknown): string[] {
  const problems: string[] = [];
  type.isValid(value, {
    errorHook(path: string[], v: unknown, t: avro.Type) {
      const where = path.length ? path.join('.') : '(record)';
      const got = v === undefined ? 'missing' : (JSON.stringify(v) ?? String(v));
      problems.push(`${where}: expected ${typeLabel(t)}, got ${got}`);
    },
  });
  return problems;
}

function typeLabel(t: avro.Type): string {
  const schema = t.schema() as unknown;
  return typeof schema === 'string' ? schema : Array.isArray(schema) ? schema.join(' | ') : (t.typeName ?? 'value');
}
