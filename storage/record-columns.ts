// What every store derives from a topic's record schema and table declaration: the table's name,
// a column per field, the row key, and the checks made before anything is written or read, so
// DuckDB and QuestDB refuse the same input the same way.
import { type FieldKind, recordFields } from '../schemas/index.js';
import type { RecordKey, RecordTable } from './timeseries-store.js';

export interface RecordColumn {
  /** The Avro field's name, also the column's (always quoted in SQL). */
  readonly name: string;
  readonly kind: FieldKind;
  readonly nullable: boolean;
  /** One of the table's key fields. */
  readonly key: boolean;
  /** The table's event-time field. */
  readonly time: boolean;
}

export interface RecordLayout {
  readonly topic: string;
  /** The table's name without a store's prefix, e.g. `topic_signals`. */
  readonly table: string;
  /** In schema order; what reads return and records are rebuilt from. */
  readonly columns: readonly RecordColumn[];
  readonly key: readonly string[];
  readonly time: string;
}

/** A stored record as the store sees it: field name → value. */
export type Row = Readonly<Record<string, unknown>>;

// Topic names as Kafka allows them (letters, digits, . _ -), and short enough for any database.
const TOPIC_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * The table a topic's records live in: `topic_` + the topic's name lower-cased, `.` and `-` as `_`
 * (`signals` → `topic_signals`). The prefix keeps record tables apart from a store's own (bars,
 * documents, ...); the pattern keeps the name a plain identifier, safe to splice into SQL.
 */
export function recordTableName(topic: string): string {
  if (!TOPIC_NAME.test(topic)) {
    throw new RangeError(
      `topic ${JSON.stringify(topic.slice(0, 100))}: a stored topic's name must be letters, digits, ., _ and -`,
    );
  }
  return `topic_${topic.toLowerCase().replace(/[.-]/g, '_')}`;
}

/** The table's layout; `reserved` are column names the store keeps for itself. */
export function recordLayout(t: RecordTable<unknown>, reserved: readonly string[] = []): RecordLayout {
  const table = recordTableName(t.name);
  const key = new Set(t.table.key);
  const columns = recordFields(t.schema).map((f) => ({
    name: f.name,
    kind: f.kind,
    nullable: f.nullable,
    key: key.has(f.name),
    time: f.name === t.table.time,
  }));
  const seen = new Map<string, string>();
  for (const c of columns) {
    const folded = c.name.toLowerCase();
    // Column names are case-insensitive in both databases.
    const other = seen.get(folded);
    if (other !== undefined) throw new RangeError(`topic ${t.name}: fields ${other} and ${c.name} differ only in case`);
    seen.set(folded, c.name);
    if (reserved.includes(folded)) {
      throw new RangeError(
        `topic ${t.name}: field ${c.name} has a name the store keeps for itself (${reserved.join(', ')})`,
      );
    }
  }
  const time = columns.find((c) => c.time);
  if (time?.kind !== 'timestamp' || time.nullable) {
    throw new RangeError(
      `topic ${t.name}: time field ${t.table.time} must be a timestamp-millis field of ${t.schema.name}`,
    );
  }
  for (const k of t.table.key) {
    const c = columns.find((x) => x.name === k);
    if (!c || c.nullable || c.kind === 'json' || c.kind === 'float' || c.kind === 'double' || c.kind === 'timestamp') {
      throw new RangeError(
        `topic ${t.name}: key field ${k} must be a string, enum, int, long or boolean field of ${t.schema.name}`,
      );
    }
  }
  return { topic: t.name, table, columns, key: [...t.table.key], time: t.table.time };
}

/** The row's identity: its key fields' values and its time (the last write of it wins). */
export function rowKey(layout: RecordLayout, row: Row): string {
  let out = String(row[layout.time]);
  for (const k of layout.key) out += `\u0000${String(row[k])}`;
  return out;
}

/**
 * Throws RangeError for a value the table cannot hold as given (checked for the whole batch before
 * anything is written): a time that is not whole epoch ms, an int out of range, a null where the
 * schema has none. The records come through a topic, so their types are the schema's already.
 */
export function checkRow(layout: RecordLayout, row: Row): void {
  for (const c of layout.columns) {
    const v = row[c.name];
    if (v === null || v === undefined) {
      if (!c.nullable) throw new RangeError(`topic ${layout.topic}: field ${c.name} is missing`);
      continue;
    }
    if ((c.kind === 'timestamp' || c.kind === 'long') && !Number.isSafeInteger(v)) {
      throw new RangeError(
        `topic ${layout.topic}: field ${c.name} must be a whole number (epoch ms for a time), got ${String(v)}`,
      );
    }
    if (c.kind === 'int' && !(Number.isInteger(v) && Math.abs(v as number) <= 2_147_483_647)) {
      throw new RangeError(`topic ${layout.topic}: field ${c.name} must be a 32-bit integer, got ${String(v)}`);
    }
  }
}

/** The key values of a read, one per key field, checked against the fields' kinds. */
export function keyValues(
  layout: RecordLayout,
  key: RecordKey,
): Array<{ column: RecordColumn; value: string | number | boolean }> {
  const extra = Object.keys(key).filter((k) => !layout.key.includes(k));
  if (extra.length > 0)
    throw new RangeError(`topic ${layout.topic}: ${extra.join(', ')} not a key field (key: ${layout.key.join(', ')})`);
  return layout.key.map((name) => {
    const column = layout.columns.find((c) => c.name === name)!;
    const value = key[name];
    if (value === undefined) throw new RangeError(`topic ${layout.topic}: give key field ${name}`);
    const ok =
      column.kind === 'boolean'
        ? typeof value === 'boolean'
        : column.kind === 'int' || column.kind === 'long'
          ? Number.isSafeInteger(value)
          : typeof value === 'string';
    if (!ok)
      throw new RangeError(`topic ${layout.topic}: key field ${name} is ${column.kind}, got ${JSON.stringify(value)}`);
    return { column, value };
  });
}

/** A `json` column's text: arrays, maps and records as JSON. */
export function toJsonText(v: unknown): string {
  return JSON.stringify(v);
}

/** A read row back as a record: JSON columns parsed, nullable NULLs as null. */
export function fromColumns<T>(layout: RecordLayout, values: readonly unknown[]): T {
  const out: Record<string, unknown> = {};
  layout.columns.forEach((c, i) => {
    const v = values[i];
    out[c.name] = v === null || v === undefined ? null : c.kind === 'json' ? JSON.parse(String(v)) : v;
  });
  return out as T;
}
