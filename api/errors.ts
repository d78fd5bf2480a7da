// Stable error codes of the GraphQL API: clients branch on `extensions.code`, never on messages.
import { type ExecutionResult, type FormattedExecutionResult, GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

export const ErrorCode = {
  UNKNOWN_SYMBOL: 'UNKNOWN_SYMBOL',
  BAD_DATE: 'BAD_DATE',
  BAD_HORIZON: 'BAD_HORIZON',
  BAD_INTERVAL: 'BAD_INTERVAL',
  BAD_ARGUMENT: 'BAD_ARGUMENT',
  TOO_MANY_SYMBOLS: 'TOO_MANY_SYMBOLS',
  RATE_LIMITED: 'RATE_LIMITED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  NO_PREDICTION: 'NO_PREDICTION',
  NOT_AVAILABLE: 'NOT_AVAILABLE',
  UNKNOWN_TOPIC: 'UNKNOWN_TOPIC',
  BAD_REQUEST: 'BAD_REQUEST',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  NOT_ACCEPTABLE: 'NOT_ACCEPTABLE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function apiError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

/** A GraphQL-over-HTTP error body, for requests refused before they reach Yoga (rate limit, key, size). */
export function errorBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ errors: [{ message, extensions: { code } }] });
}

/**
 * An error as clients get it: without the extensions Yoga keeps for itself (`http`, the status and
 * headers of its HTTP layer; `unexpected`, a masked failure). Yoga drops them when it writes an
 * HTTP response; graphql-ws would send them as they are.
 */
export function publicError(error: GraphQLError): GraphQLFormattedError {
  const json = error.toJSON();
  if (!json.extensions || !('http' in json.extensions || 'unexpected' in json.extensions)) return json;
  const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions;
  const { extensions: _internal, ...rest } = json;
  return Object.keys(extensions).length > 0 ? { ...rest, extensions } : rest;
}

/** A result as clients get it (`publicError`); undefined when it has nothing internal to drop. */
export function publicResult(result: ExecutionResult): FormattedExecutionResult | undefined {
  if (!result.errors && !result.extensions?.http) return undefined;
  const { errors, extensions, ...rest } = result;
  const { http: _http, ...ext } = extensions ?? {};
  return {
    ...rest,
    ...(errors ? { errors: errors.map(publicError) } : {}),
    ...(Object.keys(ext).length > 0 ? { extensions: ext } : {}),
  };
}

/**
 * graphql-js refuses an operation whose variables are missing or not of their types before it
 * executes, with errors that have no code: they get BAD_REQUEST, as Yoga's other 400s. Such a
 * result has no `data`; one with a resolver's error has.
 */
export function useRequestErrorCodes(): Plugin {
  const coded = (result: unknown): ExecutionResult | undefined => {
    if (isAsyncIterable(result)) return undefined;
    const r = result as ExecutionResult;
    if ('data' in r || !r.errors?.some((e) => e.extensions?.code === undefined)) return undefined;
    return { ...r, errors: r.errors.map((e) => (e.extensions?.code === undefined ? withCode(e) : e)) };
  };
  return {
    onExecute: () => ({
      onExecuteDone: ({ result, setResult }) => {
        const r = coded(result);
        if (r) setResult(r);
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        const r = coded(result);
        if (r) setResult(r);
      },
    }),
  };
}

function withCode(e: GraphQLError): GraphQLError {
  return new GraphQLError(e.message, {
    nodes: e.nodes,
    source: e.source,
    positions: e.positions,
    path: e.path,
    originalError: e.originalError,
    extensions: { ...e.extensions, code: ErrorCode.BAD_REQUEST },
  });
}
