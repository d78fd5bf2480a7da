// GraphQL over HTTP: Yoga with the schema (bundled and public-topic types), the protocol fixes,
// query limits and shared subscription execution.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { TableTopic } from '../engine/index.js';
import type { ApiContext, ApiServices } from './context.js';
import { useRequestErrorCodes } from './errors.js';
import { httpProtocolPlugin } from './http-protocol.js';
import { armorPlugins } from './limits.js';
import { schemaFor } from './schema/index.js';
import { useSharedSubscriptionItems } from './shared-items.js';

export interface ServerContext {
  req: IncomingMessage;
  res: ServerResponse;
}

export type GraphqlYoga = YogaServerInstance<ServerContext, ApiContext>;

export function createGraphqlYoga(
  services: ApiServices,
  opts: { topics: readonly TableTopic[]; corsOrigins: readonly string[] },
): GraphqlYoga {
  const origins = opts.corsOrigins;
  let graphiqlPage: Promise<string> | undefined;
  return createYoga<ServerContext, ApiContext>({
    schema: schemaFor(opts.topics),
    graphqlEndpoint: '/graphql',
    context: () => ({ services }),
    // (graphql-jit was tried for fan-out: its subscribe drops variable arguments of the root field.)
    plugins: [
      httpProtocolPlugin(),
      armorPlugins(services.limits),
      useSharedSubscriptionItems(),
      useRequestErrorCodes(),
    ],
    // Enforced on content-length before Yoga (see http-routes.ts): Yoga's limit pipes every body
    // through a TransformStream and an AbortSignal, a large part of a small query's cost.
    maxRequestBodySize: false,
    // Multipart is for file uploads, which the schema does not take; its parser answered a broken
    // form with a 200 and an error without a code. Now a 415, as other types but JSON.
    multipart: false,
    // Resolver errors that are not GraphQLErrors become "Unexpected error." with no stack.
    maskedErrors: { isDev: false },
    cors: origins.length === 0 ? false : { origin: origins.includes('*') ? '*' : [...origins] },
    logging: 'error',
    // GraphiQL from the package's own bundle, not a CDN: it works offline. Loaded and rendered on
    // the first visit, once (megabytes: loading it at start-up cost ~170 ms of every restart).
    graphiql: { title: 'tickcast GraphQL' },
    renderGraphiQL: (o) =>
      (graphiqlPage ??= import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL(o))),
  });
}
