// What every store derives from a record schema and a table declaration: the table's name, a
// column per field, the row key, and the checks made before anything is written or read, so
// DuckDB and QuestDB refuse the same input the same way. Both the tables of declared topics and
// the stores' own (bars, predictions, scores) are derived here: the .avsc is the one source.
import { type FieldKind, type RecordSchema, recordFields, schemas, typedArraysAsArrays } from '../schemas/index.js';
import type { RecordKey, RecordTable } from './timeseries-store.js';

export interface RecordColumn {
  /** The Avro field's name. */
  readonly name: string;
  /** The column's name (always quoted in SQL): the field's for a topic's table, snake_case for the store's own. */
  readonly column: string;
  readonly kind: FieldKind;
  readonly nullable: boolean;
  /** One of the table's key fields. */
  readonly key: boolean;
  /** The table's event-time field. */
  readonly time: boolean;
  /** QuestDB keeps it as a SYMBOL (few distinct values): enums, key strings, and strings a table names. */
  readonly symbol: boolean;
}

export interface RecordLayout {
  /** What errors name: `topic signals`, `table bars`. */
  readonly subject: string;
  /** The table's name without a store's prefix, e.g. `topic_signals`. */
  readonly table: string;
  /** In schema order (the stored fields); what reads return and records are rebuilt from. */
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
  const key = new Set(t.table.key);
  const columns = recordFields(t.schema).map((f) => ({
    name: f.name,
    column: f.name,
    kind: f.kind,
    nullable: f.nullable,
    key: key.has(f.name),
    time: f.name === t.table.time,
    symbol: f.kind === 'enum' || (f.kind === 'string' && key.has(f.name)),
  }));
  return checkedLayout(`topic ${t.name}`, recordTableName(t.name), t.schema, columns, t.table, reserved);
}

/**
 * One of the store's own tables (bars, predictions, scores): derived from its record schema like a
 * topic's, with the names and types those tables have always had, so existing databases still open.
 */
export interface StoreTable {
  /** The table's name without a store's prefix. */
  readonly table: string;
  readonly schema: RecordSchema;
  /** The key fields besides the time: a write replaces the row with the same key and time. */
  readonly key: readonly string[];
  readonly time: string;
  /** String fields QuestDB keeps as SYMBOL besides the key's (few distinct values). */
  readonly symbols?: readonly string[];
  /** Fields not stored, derived again on read from the stored ones. */
  readonly derived?: readonly string[];
}

export const BAR_TABLE: StoreTable = {
  table: 'bars',
  schema: schemas.Bar,
  key: ['symbol', 'interval'],
  time: 'ts',
  symbols: ['source'],
};

export const PREDICTION_TABLE: StoreTable = {
  table: 'predictions',
  schema: schemas.Prediction,
  key: ['symbol', 'horizon'],
  time: 'ts',
  symbols: ['model', 'regime'],
};

// Scores keep their prediction's fields and the realised close; status, error, realised return and
// inside are derived again on read (models/scores.ts), so they cannot disagree with it.
export const SCORE_TABLE: StoreTable = {
  table: 'scores',
  schema: schemas.Score,
  key: ['symbol', 'horizon'],
  time: 'ts',
  symbols: ['model', 'regime'],
  derived: ['status', 'error', 'realisedReturn', 'inside'],
};

/** A store table's layout: a column per stored field, named in snake_case (`targetTs` → `target_ts`). */
export function storeTableLayout(t: StoreTable, reserved: readonly string[] = []): RecordLayout {
  const key = new Set(t.key);
  const symbols = new Set(t.symbols);
  const derived = new Set(t.derived);
  const columns = recordFields(t.schema)
    .filter((f) => !derived.has(f.name))
    .map((f) => ({
      name: f.name,
      column: f.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      kind: f.kind,
      nullable: f.nullable,
      key: key.has(f.name),
      time: f.name === t.time,
      symbol: f.kind === 'enum' || (f.kind === 'string' && (key.has(f.name) || symbols.has(f.name))),
    }));
  return checkedLayout(`table ${t.table}`, t.table, t.schema, columns, t, reserved);
}

function checkedLayout(
  subject: string,
  table: string,
  schema: RecordSchema,
  columns: readonly RecordColumn[],
  declared: { readonly key: readonly string[]; readonly time: string },
  reserved: readonly string[],
): RecordLayout {
  const seen = new Map<string, string>();
  for (const c of columns) {
    const folded = c.column.toLowerCase();
    // Column names are case-insensitive in both databases.
    const other = seen.get(folded);
    if (other !== undefined) throw new RangeError(`${subject}: fields ${other} and ${c.name} differ only in case`);
    seen.set(folded, c.name);
    if (reserved.includes(folded)) {
      throw new RangeError(
        `${subject}: field ${c.name} has a name the store keeps for itself (${reserved.join(', ')})`,
      );
    }
  }
  const time = columns.find((c) => c.time);
  if (time?.kind !== 'timestamp' || time.nullable) {
    throw new RangeError(`${subject}: time field ${declared.time} must be a timestamp-millis field of ${schema.name}`);
  }
  for (const k of declared.key) {
    const c = columns.find((x) => x.name === k);
    if (!c || c.nullable || c.kind === 'json' || c.kind === 'float' || c.kind === 'double' || c.kind === 'timestamp') {
      throw new RangeError(
        `${subject}: key field ${k} must be a string, enum, int, long or boolean field of ${schema.name}`,
      );
    }
  }
  return { subject, table, columns, key: [...declared.key], time: declared.time };
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
      if (!c.nullable) throw new RangeError(`${layout.subject}: field ${c.name} is missing`);
      continue;
    }
    if ((c.kind === 'timestamp' || c.kind === 'long') && !Number.isSafeInteger(v)) {
      throw new RangeError(
        `${layout.subject}: field ${c.name} must be a whole number (epoch ms for a time), got ${String(v)}`,
      );
    }
    if (c.kind === 'int' && !(Number.isInteger(v) && Math.abs(v as number) <= 2_147_483_647)) {
      throw new RangeError(`${layout.subject}: field ${c.name} must be a 32-bit integer, got ${String(v)}`);
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
    throw new RangeError(`${layout.subject}: ${extra.join(', ')} not a key field (key: ${layout.key.join(', ')})`);
  return layout.key.map((name) => {
    const column = layout.columns.find((c) => c.name === name)!;
    const value = key[name];
    if (value === undefined) throw new RangeError(`${layout.subject}: give key field ${name}`);
    const ok =
      column.kind === 'boolean'
        ? typeof value === 'boolean'
        : column.kind === 'int' || column.kind === 'long'
          ? Number.isSafeInteger(value)
          : typeof value === 'string';
    if (!ok)
      throw new RangeError(`${layout.subject}: key field ${name} is ${column.kind}, got ${JSON.stringify(value)}`);
    return { column, value };
  });
}

/** A `json` column's text: arrays, maps and records as JSON. */
export function toJsonText(v: unknown): string {
  return JSON.stringify(v, typedArraysAsArrays);
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

/**
 * An existing table against the columns its schema wants (`stored`: column name, lower case → its
 * type): the columns to add, for nullable fields added to the schema since. A missing field that
 * cannot be null, or a column of another type, stops the store with what to fix.
 */
export function columnsToAdd<C extends { name: string; nullable: boolean; type: string }>(
  table: string,
  wanted: readonly C[],
  stored: ReadonlyMap<string, string>,
): C[] {
  const add: C[] = [];
  for (const c of wanted) {
    const type = stored.get(c.name.toLowerCase());
    if (type === undefined) {
      if (!c.nullable) {
        throw new Error(`table ${table} has no column ${c.name}, and its field has no default to fill the rows with`);
      }
      add.push(c);
    } else if (type !== c.type) {
      throw new Error(`table ${table}: column ${c.name} is ${type}, its field needs ${c.type}`);
    }
  }
  return add;
}
