// Where Yoga's GraphQL-over-HTTP handling falls short of what a client should get: a request it
// cannot read is a 400 with a GraphQL error (not a 500 and a stack trace in the log per request,
// a cheap way to flood it), a request without a query is a 400, one whose operation cannot be
// picked names the operations it has, and a 406 or 415 says why in a body instead of answering
// with nothing.
import {
  type DocumentNode,
  GraphQLError,
  getOperationAST,
  Kind,
  type OperationTypeNode,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { apiError, ErrorCode, errorBody } from './errors.js';

const JSON_TYPE = 'application/json; charset=utf-8';
// A fresh object each time: whatwg-node's Response writes content-length into the init headers.
const jsonHeaders = () => ({ 'content-type': JSON_TYPE });

export function httpProtocolPlugin(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser, fetchAPI }) {
      if (!requestParser) return;
      const badRequest = (message: string) =>
        new fetchAPI.Response(errorBody(ErrorCode.BAD_REQUEST, message), { status: 400, headers: jsonHeaders() });
      setRequestParser(async (request) => {
        let parsed: Awaited<ReturnType<typeof requestParser>>;
        try {
          parsed = await requestParser(request);
        } catch (err) {
          // Yoga JSON.parses the `variables` and `extensions` of a GET or a form unguarded.
          if (err instanceof SyntaxError)
            return badRequest(`${await badJsonParam(request)} not valid JSON: ${err.message}`);
          if (isInvalidJsonBody(err)) return badRequest(`the body is not valid JSON${await jsonDetail(request)}`);
          throw err;
        }
        if (parsed instanceof fetchAPI.Response) return parsed;
        for (const params of Array.isArray(parsed) ? parsed : [parsed]) {
          if (typeof params.query !== 'string' || params.query.trim() === '') {
            return badRequest('the request has no query: send {"query": "…"} (a string)');
          }
        }
        return parsed;
      });
    },
    // Yoga says only "Could not determine what operation to execute." (graphql-ws: "Unable to
    // identify operation", no code). Before Yoga's check (plugins run in order); over graphql-ws too.
    onParse({ context }) {
      return ({ result }) => {
        if (!(result instanceof Error) && result) {
          const problem = operationProblem(result, (context as { params?: { operationName?: unknown } }).params);
          if (problem) throw apiError(ErrorCode.BAD_REQUEST, problem, { http: { status: 400 } });
        }
      };
    },
    // graphql-js 16 finds a missing root type only when it executes ("Schema is not configured to
    // execute mutation operation.", no code); graphql 17 validates it (KnownOperationTypesRule).
    onValidate({ addValidationRule }) {
      addValidationRule(knownOperationTypes);
    },
    onResponse({ response, setResponse, fetchAPI }) {
      if (response.body !== null || (response.status !== 406 && response.status !== 415)) return;
      // Only the accept header carries over (the 406's list of types); framing headers do not.
      const headers = new fetchAPI.Headers(jsonHeaders());
      const accept = response.headers.get('accept');
      if (accept) headers.set('accept', accept);
      const message =
        response.status === 415
          ? 'unsupported content-type: send application/json (POST) or use GET'
          : accept && !accept.includes('json')
            ? // Only a stream will do: a subscription.
              'a subscription over HTTP is an event stream: send accept: text/event-stream, or subscribe over graphql-ws'
            : `cannot answer in a type the accept header allows: accept ${accept ?? 'application/json'}`;
      const code = response.status === 415 ? ErrorCode.UNSUPPORTED_MEDIA_TYPE : ErrorCode.NOT_ACCEPTABLE;
      setResponse(new fetchAPI.Response(errorBody(code, message), { status: response.status, headers }));
    },
  };
}

const PLURAL = { query: 'queries', mutation: 'mutations', subscription: 'subscriptions' } as const;

/** An operation of a type the schema does not have (this API: a mutation) says what it has. */
const knownOperationTypes: ValidationRule = (context) => ({
  OperationDefinition(node) {
    const schema = context.getSchema();
    if (schema.getRootType(node.operation)) return;
    const has = (Object.keys(PLURAL) as OperationTypeNode[]).filter((t) => schema.getRootType(t));
    const message = `this API has no ${PLURAL[node.operation]}: it answers ${has.map((t) => PLURAL[t]).join(' and ')}`;
    context.reportError(new GraphQLError(message, { nodes: node }));
  },
});

/** Why no operation of `document` can run given `operationName`, or undefined when one can. */
function operationProblem(document: DocumentNode, params: { operationName?: unknown } | undefined): string | undefined {
  const name = params?.operationName ?? undefined;
  if (name !== undefined && typeof name !== 'string') {
    return `operationName must be a string (the name of an operation in the query), not a ${typeof name}`;
  }
  if (getOperationAST(document, name)) return undefined;
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const names = operations.map((o) => o.name?.value ?? '(unnamed)').join(', ');
  if (operations.length === 0) return 'the query has no operation to run (a query or a subscription)';
  if (name !== undefined) return `no operation named "${name}" in the query (it has ${names})`;
  return `the query has ${operations.length} operations (${names}): name the one to run in operationName`;
}

/** Which of a GET's or a form's JSON parameters JSON.parse refused (on this error path only). */
async function badJsonParam(request: Request): Promise<string> {
  let params: URLSearchParams;
  try {
    params = request.method === 'GET' ? new URL(request.url).searchParams : new URLSearchParams(await request.text());
  } catch {
    return 'variables or extensions are';
  }
  for (const name of ['variables', 'extensions']) {
    try {
      JSON.parse(params.get(name) || 'null');
    } catch {
      return `the ${name} parameter is`;
    }
  }
  return 'variables or extensions are';
}

/** Yoga's error for a POST body JSON.parse refused. */
function isInvalidJsonBody(err: unknown): boolean {
  const original = (err as GraphQLError).extensions?.originalError as { name?: unknown } | undefined;
  return err instanceof GraphQLError && err.extensions.code === 'BAD_REQUEST' && original?.name === 'SyntaxError';
}

/**
 * The parser's message, once. Yoga's error repeats it (whatwg-node appends `, "<the whole body>"
 * is not valid JSON` to V8's message, which may already quote an excerpt), and would echo up to
 * the whole body back: parse the text again (only on this error path) for V8's own message, whose
 * excerpt is a few characters (its `…, "<excerpt>" is not valid JSON` becomes `… in "<excerpt>"`:
 * the message says so already).
 */
async function jsonDetail(request: Request): Promise<string> {
  try {
    const text = await request.text();
    if (text.trim() === '') return ': it is empty';
    JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return `: ${err.message.replace(/, (.*) is not valid JSON$/s, ' in $1')}`;
  }
  return '';
}

/**
 * Media types are case-insensitive (RFC 9110 §8.3.1) but Yoga compares them as written: lower-case
 * the type of a request's content-type before Yoga reads it (parameters such as a multipart
 * boundary keep their case).
 */
export function normalizeContentType(headers: { 'content-type'?: string }): void {
  const type = headers['content-type'];
  if (type) headers['content-type'] = type.replace(/^[^;]*/, (t) => t.trim().toLowerCase());
}
