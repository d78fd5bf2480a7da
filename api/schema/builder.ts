// The one Pothos builder: context and scalar types fixed here type every resolver.
import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import { GraphQLError, Kind } from 'graphql';
import type { ApiContext } from '../context.js';
import { ErrorCode } from '../errors.js';

export const builder = new SchemaBuilder<{
  Context: ApiContext;
  /** Epoch ms inside; ISO 8601 strings on the wire. */
  Scalars: { DateTime: { Input: number; Output: number } };
  DefaultFieldNullability: false;
}>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: { clientMutationId: 'omit', cursorType: 'String', nodeQueryOptions: false, nodesQueryOptions: false },
});

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** ISO 8601 date (`2018-02-07`, midnight UTC) or date-time with a zone; anything else is BAD_DATE. */
export function parseDateTime(value: unknown): number {
  const bad = (why: string) =>
    new GraphQLError(`DateTime: ${why}; use ISO 8601 such as 2018-02-07 or 2018-02-07T21:00:00Z`, {
      extensions: { code: ErrorCode.BAD_DATE },
    });
  if (typeof value !== 'string') throw bad(`expected a string, got ${typeof value}`);
  if (!ISO.test(value)) throw bad(`${JSON.stringify(value.slice(0, 40))} is not an ISO 8601 date`);
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw bad(`${JSON.stringify(value)} is not a date`);
  // Date.parse rolls 2018-02-30 over to March; a calendar date must read back the same.
  const utcDate = value.length === 10 || value.endsWith('Z');
  if (utcDate && new Date(ms).toISOString().slice(0, 10) !== value.slice(0, 10)) {
    throw bad(`${JSON.stringify(value)} is not a calendar date`);
  }
  return ms;
}

builder.scalarType('DateTime', {
  description: 'An instant as an ISO 8601 string (UTC on output). Input also takes a plain date, read as midnight UTC.',
  serialize: (ms) => new Date(ms).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('DateTime: expected a string literal', { extensions: { code: ErrorCode.BAD_DATE } });
    }
    return parseDateTime(ast.value);
  },
});

builder.queryType({});
builder.subscriptionType({});
