// Shared execution of subscription events: one update of the pipeline reaches thousands of
// subscribers, and executing each subscriber's whole selection per event was most of the
// fan-out's cost. For a root subscription field marked `extensions: { sharedItems: true }`
// (its resolver returns the event, a list of records, as is; its items' fields depend on the
// record only, never on the caller), each record is executed once per distinct selection and
// every subscriber's result is assembled from those per-record results, in its own order and
// with only its own records. Anything else, and any event whose execution reports an error,
// runs through graphql's `execute` per subscriber exactly as before.
import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  type FragmentDefinitionNode,
  getOperationAST,
  Kind,
  type SelectionSetNode,
  visit,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { DIRECT_SINK, type DirectSink } from './direct-sink.js';

/** What makes one record's result reusable: the root field's selection and the variables it reads. */
interface Plan {
  /** Identifies (document, operation); documents come from Yoga's parse cache, so equal texts share one. */
  id: number;
  responseKey: string;
  /** Variables read inside the field's selection (not its arguments): they are part of the key. */
  itemVariables: readonly string[];
}

/** Most selections cached per record: bounds memory whatever clients send; beyond it, records just run again. */
const MAX_SELECTIONS_PER_RECORD = 32;

let nextPlanId = 0;
const plans = new WeakMap<DocumentNode, Map<string, Plan | null>>();

function planOf(args: ExecutionArgs): Plan | null {
  const opName = args.operationName ?? '';
  let byOperation = plans.get(args.document);
  if (!byOperation) {
    byOperation = new Map();
    plans.set(args.document, byOperation);
  }
  let plan = byOperation.get(opName);
  if (plan === undefined) {
    plan = makePlan(args);
    byOperation.set(opName, plan);
  }
  return plan;
}

function makePlan(args: ExecutionArgs): Plan | null {
  const op = getOperationAST(args.document, args.operationName);
  if (op?.operation !== 'subscription' || op.selectionSet.selections.length !== 1) return null;
  const field = op.selectionSet.selections[0];
  // A fragment or a directive at the root would need graphql's field collection: leave those to execute.
  if (field?.kind !== Kind.FIELD || (field.directives?.length ?? 0) > 0 || !field.selectionSet) return null;
  const def = args.schema.getSubscriptionType()?.getFields()[field.name.value];
  if (def?.extensions.sharedItems !== true) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of args.document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const variables = new Set<string>();
  const visited = new Set<string>();
  const walk = (selectionSet: SelectionSetNode) =>
    visit(selectionSet, {
      Variable: (v) => {
        variables.add(v.name.value);
      },
      FragmentSpread: (s) => {
        const f = fragments.get(s.name.value);
        if (f && !visited.has(f.name.value)) {
          visited.add(f.name.value);
          walk(f.selectionSet);
        }
      },
    });
  walk(field.selectionSet);
  return {
    id: nextPlanId++,
    responseKey: field.alias?.value ?? field.name.value,
    itemVariables: [...variables].sort(),
  };
}

/** One record's result for one selection; its JSON is made once, when a direct sink first needs it. */
interface ItemResult {
  value: unknown;
  json?: string;
}

/** Per record (the object the feed published, shared by every subscriber): its result per selection key. */
const results = new WeakMap<object, Map<string, ItemResult>>();

/**
 * Each record's result for this subscriber's selection, executed once per record and key; null
 * when the event is not a list of records or its execution reports an error (then it runs
 * through graphql's `execute` per subscriber, as before).
 */
async function itemResults(args: ExecutionArgs, plan: Plan, event: unknown): Promise<ItemResult[] | null> {
  if (!Array.isArray(event) || !event.every((r) => typeof r === 'object' && r !== null)) return null;
  const records = event as object[];
  const key =
    plan.itemVariables.length === 0
      ? String(plan.id)
      : `${plan.id}:${JSON.stringify(plan.itemVariables.map((v) => args.variableValues?.[v] ?? null))}`;
  const missing = records.filter((r) => !results.get(r)?.has(key));
  if (missing.length === 0) return records.map((r) => results.get(r)?.get(key) as ItemResult);
  // The subscriber's own arguments, context and variables: the same execution as before, over the new records only.
  const run = await execute({ ...args, rootValue: missing });
  const list = run.data?.[plan.responseKey];
  if (run.errors || !Array.isArray(list) || list.length !== missing.length) return null;
  // A record whose map is full keeps no entry: this event uses the fresh result all the same.
  const fresh = new Map<object, ItemResult>();
  missing.forEach((r, i) => {
    const item: ItemResult = { value: list[i] };
    fresh.set(r, item);
    let byKey = results.get(r);
    if (!byKey) {
      byKey = new Map();
      results.set(r, byKey);
    }
    if (byKey.size < MAX_SELECTIONS_PER_RECORD) byKey.set(key, item);
  });
  return records.map((r) => fresh.get(r) ?? (results.get(r)?.get(key) as ItemResult));
}

/** The execution result of one event for one subscriber, from per-record results where possible. */
async function executeShared(args: ExecutionArgs, plan: Plan, event: unknown): Promise<ExecutionResult> {
  const items = await itemResults(args, plan, event);
  if (!items) return execute({ ...args, rootValue: event });
  return { data: { [plan.responseKey]: items.map((i) => i.value) } };
}

/**
 * The same result as executeShared's, as the JSON text JSON.stringify would make of it
 * (`{"data":{"<key>":[...]}}`), from each item's JSON made once; null where executeShared
 * would run `execute` instead.
 */
async function payloadJson(args: ExecutionArgs, plan: Plan, event: unknown): Promise<string | null> {
  const items = await itemResults(args, plan, event);
  if (!items) return null;
  let body = '';
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as ItemResult;
    item.json ??= JSON.stringify(item.value);
    body += i === 0 ? item.json : `,${item.json}`;
  }
  return `{"data":{${JSON.stringify(plan.responseKey)}:[${body}]}}`;
}

/** Maps an async iterator, passing return() straight through so a completed subscription stops its source at once. */
function mapAsync<T, U>(source: AsyncIterator<T>, f: (value: T) => Promise<U>): AsyncIterableIterator<U> {
  return {
    async next() {
      const r = await source.next();
      return r.done ? { done: true, value: undefined } : { done: false, value: await f(r.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(err: unknown) {
      if (source.throw) {
        const r = await source.throw(err);
        return r.done ? { done: true, value: undefined } : { done: false, value: await f(r.value) };
      }
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Like mapAsync over executeShared, but an event whose payload is shared JSON goes straight to
 * the direct sink and is never yielded: no result object, no per-result hooks (they act on
 * errors only, and such events are yielded as before), no JSON.stringify per subscriber. One
 * next() call loops over events until one has to be yielded or the source ends, so events stay
 * in order whichever way they go.
 */
function deliverDirect(
  source: AsyncIterator<unknown>,
  args: ExecutionArgs,
  plan: Plan,
  sink: DirectSink,
): AsyncIterableIterator<ExecutionResult> {
  return {
    async next() {
      for (;;) {
        const r = await source.next();
        if (r.done) return { done: true, value: undefined };
        const json = await payloadJson(args, plan, r.value);
        if (json === null) return { done: false, value: await execute({ ...args, rootValue: r.value }) };
        const backlog = sink.next(json);
        if (backlog) await backlog;
      }
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(err: unknown) {
      await source.return?.();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Envelop plugin: subscriptions on `sharedItems` fields use graphql's own source stream and
 * share per-record execution (above), written pre-serialized to the operation's direct sink
 * when its rootValue carries one (graphql-ws over ws, server.ts). Other plugins' subscribe
 * hooks (error masking) still wrap the result.
 */
export function useSharedSubscriptionItems(): Plugin {
  return {
    onSubscribe({ args, setSubscribeFn }) {
      const plan = planOf(args);
      if (!plan) return;
      setSubscribeFn(async (subscribeArgs: ExecutionArgs) => {
        const source = await createSourceEventStream(subscribeArgs);
        if (!(Symbol.asyncIterator in source)) return source;
        const root = subscribeArgs.rootValue as { [DIRECT_SINK]?: DirectSink } | null | undefined;
        const sink = root?.[DIRECT_SINK];
        if (sink) return deliverDirect(source[Symbol.asyncIterator](), subscribeArgs, plan, sink);
        return mapAsync(source[Symbol.asyncIterator](), (event) => executeShared(subscribeArgs, plan, event));
      });
    },
  };
}
