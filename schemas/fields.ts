// The fields of a record schema as plain kinds, for what derives something from an Avro schema
// (a topic's table declaration, a store's columns, the API's GraphQL types), so that all of them
// read Avro the same way.
import type avro from 'avsc';
import type { RecordSchema } from './schema.js';

/**
 * What a field holds. `timestamp` is a long with logicalType timestamp-millis (epoch ms);
 * `json` is everything a flat column cannot hold (records, arrays, maps, bytes, fixed, unions of
 * several types), kept whole.
 */
export type FieldKind = 'string' | 'enum' | 'int' | 'long' | 'float' | 'double' | 'boolean' | 'timestamp' | 'json';

export interface RecordField {
  readonly name: string;
  readonly kind: FieldKind;
  /** A union with null: the value may be null. */
  readonly nullable: boolean;
  readonly doc?: string;
  /** The symbols of an enum. */
  readonly symbols?: readonly string[];
}

/** The kinds a key field may have: values compared exactly, never null. */
export const KEY_KINDS: ReadonlySet<FieldKind> = new Set(['string', 'enum', 'int', 'long', 'boolean']);

/** The record's fields in schema order. */
export function recordFields(schema: RecordSchema): RecordField[] {
  const type = schema.type as avro.types.RecordType;
  const declared = (schema.avsc.fields ?? []) as ReadonlyArray<{ name: string; type: unknown; doc?: string }>;
  return type.fields.map((f, i) => {
    // avsc drops logical types it has no implementation for, so timestamp-millis is read from the JSON.
    const json = declared[i]?.type;
    let t = f.type;
    let branch = json;
    let nullable = false;
    if (t.typeName === 'union:unwrapped') {
      const branches = (t as avro.types.UnwrappedUnionType).types;
      const others = branches.filter((b) => b.typeName !== 'null');
      if (others.length === 1 && branches.length === 2) {
        nullable = true;
        t = others[0]!;
        branch = Array.isArray(json) ? json.find((b) => b !== 'null') : undefined;
      }
    }
    const doc = declared[i]?.doc;
    const kind = kindOf(t, branch);
    return {
      name: f.name,
      kind,
      nullable,
      ...(doc ? { doc } : {}),
      ...(kind === 'enum' ? { symbols: (t as avro.types.EnumType).symbols } : {}),
    };
  });
}

function kindOf(t: avro.Type, json: unknown): FieldKind {
  switch (t.typeName) {
    case 'string':
    case 'enum':
    case 'int':
    case 'float':
    case 'double':
    case 'boolean':
      return t.typeName;
    case 'long':
      return (json as { logicalType?: unknown } | undefined)?.logicalType === 'timestamp-millis' ? 'timestamp' : 'long';
    default:
      return 'json';
  }
}
