// BACKWARD compatibility of two Avro record schemas, explained field by field: can a reader
// with the new schema read data written with the old one? A registry answers only yes/no (and
// some not even which field), so start-up names the subject and the field itself.
import avro from 'avsc';

interface FieldDef {
  name: string;
  type: avro.Schema;
  default?: unknown;
  aliases?: string[];
}

/** Why `next` cannot read data written with `previous`; empty when it can. */
export function backwardProblems(previous: avro.Schema, next: avro.Schema): string[] {
  const oldType = avro.Type.forSchema(previous, { wrapUnions: false });
  const newType = avro.Type.forSchema(next, { wrapUnions: false });
  try {
    newType.createResolver(oldType);
    return [];
  } catch (err) {
    const problems = fieldProblems(oldType.schema() as avro.Schema, newType.schema() as avro.Schema);
    return problems.length > 0 ? problems : [err instanceof Error ? err.message : String(err)];
  }
}

function fieldProblems(previous: avro.Schema, next: avro.Schema): string[] {
  const oldFields = fieldsOf(previous);
  const newFields = fieldsOf(next);
  if (!oldFields || !newFields) return [];
  const problems: string[] = [];
  for (const f of newFields) {
    const names = [f.name, ...(f.aliases ?? [])];
    const before = oldFields.find((o) => names.includes(o.name));
    if (!before) {
      if (f.default === undefined) problems.push(`field '${f.name}' is new and has no default`);
      continue;
    }
    try {
      avro.Type.forSchema(f.type, { wrapUnions: false }).createResolver(
        avro.Type.forSchema(before.type, { wrapUnions: false }),
      );
    } catch {
      problems.push(`field '${f.name}' changed type from ${label(before.type)} to ${label(f.type)}`);
    }
  }
  return problems;
}

function fieldsOf(schema: avro.Schema): FieldDef[] | null {
  const s = schema as { type?: unknown; fields?: FieldDef[] };
  return s.type === 'record' && Array.isArray(s.fields) ? s.fields : null;
}

function label(type: avro.Schema): string {
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.map(label).join(' | ');
  const t = type as { type?: unknown; name?: unknown };
  return String(t.name ?? t.type ?? JSON.stringify(type));
}
