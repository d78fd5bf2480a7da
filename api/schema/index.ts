// The schema: every type group registers itself on the builder; this module builds it once.
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import type { TableTopic } from '../../engine/index.js';
import { builder } from './builder.js';
import './market.js';
import './market-data.js';
import './predictions.js';
import './model.js';
import './features.js';
import './pipeline.js';
import './subscriptions.js';
import './explanations.js';
import './dead-letters.js';
import './scores.js';
import { withRecordTopics } from './records.js';

export const schema = builder.toSchema();

const built = new Map<string, GraphQLSchema>();

/** The schema with the types, queries and subscriptions of these public topics (records.ts); built once per set. */
export function schemaFor(topics: readonly TableTopic[]): GraphQLSchema {
  const id = JSON.stringify(topics.map((t) => [t.name, t.schema.fingerprint, t.table]));
  let s = built.get(id);
  if (!s) {
    s = withRecordTopics(schema, topics);
    built.set(id, s);
  }
  return s;
}

/**
 * The SDL committed as api/schema.graphql (sorted, so it diffs well), with the public topics of the
 * bundled pipelines (`bundledPublicTopics()` in pipelines/modules.ts).
 */
export function printedSchema(topics: readonly TableTopic[]): string {
  return `${printSchema(lexicographicSortSchema(schemaFor(topics)))}\n`;
}
