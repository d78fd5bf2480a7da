// A topic's table: which fields identify a record and when it happened. Declared on the topic
// (`table: { key: ['symbol'], time: 'ts' }`), so the store sink, the stores and the API all read
// them from one place; checked against the topic's Avro schema before anything runs.
import { KEY_KINDS, type RecordSchema, recordFields } from '../schemas/index.js';
import type { PipelineTopic } from './pipeline.js';

export interface TopicTable {
  /** Fields that, with `time`, identify a record: a write with the same values replaces the stored one. */
  readonly key: readonly string[];
  /** The event-time field: a long with logicalType timestamp-millis (epoch ms). */
  readonly time: string;
}

/** A topic that has a table: its name, its record schema and the table's declaration. */
export interface TableTopic<T = unknown> {
  readonly name: string;
  readonly schema: RecordSchema<T>;
  readonly table: TopicTable;
}

/** What is wrong with `table` for records of `schema`, one line per problem naming the topic and field. */
export function topicTableProblems(topic: string, schema: RecordSchema, table: TopicTable): string[] {
  const problems: string[] = [];
  const fields = new Map(recordFields(schema).map((f) => [f.name, f]));
  const where = `topic ${topic}: table`;
  const names = [...fields.keys()].join(', ');
  const time = fields.get(table.time);
  if (!time) problems.push(`${where} time field ${table.time} is not a field of ${schema.name} (fields: ${names})`);
  else if (time.kind !== 'timestamp' || time.nullable) {
    problems.push(`${where} time field ${table.time} must be a long with logicalType timestamp-millis, not null`);
  }
  if (table.key.length === 0) problems.push(`${where} needs at least one key field (e.g. symbol)`);
  const seen = new Set<string>([table.time]);
  for (const name of table.key) {
    const field = fields.get(name);
    if (seen.has(name)) problems.push(`${where} key field ${name} is given twice (or is the time field)`);
    seen.add(name);
    if (!field) problems.push(`${where} key field ${name} is not a field of ${schema.name} (fields: ${names})`);
    else if (!KEY_KINDS.has(field.kind) || field.nullable) {
      problems.push(
        `${where} key field ${name} must be a string, enum, int, long or boolean, not null (it is ${field.nullable ? 'nullable' : field.kind})`,
      );
    }
  }
  return problems;
}

/** The topics the API serves (declared `public`, which needs a table), in declaration order. */
export function publicTopics(topics: Iterable<PipelineTopic>): TableTopic[] {
  return [...topics].flatMap((t) => (t.public && t.table ? [{ name: t.name, schema: t.schema, table: t.table }] : []));
}
