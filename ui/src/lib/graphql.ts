// Typed GraphQL documents: gql.tada infers each query's result and variables from the API's schema
// (graphql-env.d.ts, generated from api/schema.graphql), so a schema change that breaks a query of
// the dashboard fails its type check. No fragment masking: a fragment's fields are plain fields.
import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env';

export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string };
  disableMasking: true;
}>();

export type { ResultOf, TadaDocumentNode, VariablesOf } from 'gql.tada';
