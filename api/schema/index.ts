// The schema: every type group registers itself on the builder; this module builds it once.
import { lexicographicSortSchema, printSchema } from 'graphql';
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

export const schema = builder.toSchema();

/** The SDL committed as api/schema.graphql (sorted, so it diffs well). */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
