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
  /** `{"data":{"<responseKey>":[` and `]}}`: the payload's JSON around its items. */
  open: Buffer;
  close: Buffer;
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
  const responseKey = field.alias?.value ?? field.name.value;
  return {
    id: nextPlanId++,
    responseKey,
    itemVariables: [...variables].sort(),
    open: Buffer.from(`{"data":{${JSON.stringify(responseKey)}:[`),
    close: Buffer.from(']}}'),
  };
}

/** One record's result for one selection; its JSON is made once, when a direct sink first needs it. */
interface ItemResult {
  value: unknown;
  /** UTF-8 bytes of JSON.stringify(value). */
  json?: Buffer;
}

/** Per record (the object the feed published, shared by every subscriber): its result per selection key. */
const results = new WeakMap<object, Map<string, ItemResult>>();

type MaybePromise<T> = T | Promise<T>;
const isPromise = <T>(x: MaybePromise<T>): x is Promise<T> => typeof (x as { then?: unknown })?.then === 'function';

/** The cache key of a subscriber's selection: fixed for the subscription, so made once. */
function keyOf(args: ExecutionArgs, plan: Plan): string {
  return plan.itemVariables.length === 0
    ? String(plan.id)
    : `${plan.id}:${JSON.stringify(plan.itemVariables.map((v) => args.variableValues?.[v] ?? null))}`;
}

/**
 * Each record's result for this subscriber's selection, executed once per record and key; null
 * when the event is not a list of records or its execution reports an error (then it runs
 * through graphql's `execute` per subscriber, as before). Synchronous when nothing needs an
 * async resolver: no promise per subscriber per event on the fan-out's hot path.
 */
function itemResults(args: ExecutionArgs, plan: Plan, key: string, event: unknown): MaybePromise<ItemResult[] | null> {
  if (!Array.isArray(event)) return null;
  const items = new Array<ItemResult>(event.length);
  let missing: object[] | null = null;
  for (let i = 0; i < event.length; i++) {
    const r: unknown = event[i];
    if (typeof r !== 'object' || r === null) return null;
    const item = results.get(r)?.get(key);
    if (item) items[i] = item;
    else {
      missing ??= [];
      missing.push(r);
    }
  }
  if (!missing) return items;
  const records = event as object[];
  const executed = missing;
  // The subscriber's own arguments, context and variables: the same execution as before, over the new records only.
  const run = execute({ ...args, rootValue: executed });
  const fill = ({ data, errors }: ExecutionResult): ItemResult[] | null => {
    const list = data?.[plan.responseKey];
    if (errors || !Array.isArray(list) || list.length !== executed.length) return null;
    // A record whose map is full keeps no entry: this event uses the fresh result all the same.
    const fresh = new Map<object, ItemResult>();
    executed.forEach((r, i) => {
      const item: ItemResult = { value: list[i] };
      fresh.set(r, item);
      let byKey = results.get(r);
      if (!byKey) {
        byKey = new Map();
        results.set(r, byKey);
      }
      if (byKey.size < MAX_SELECTIONS_PER_RECORD) byKey.set(key, item);
    });
    for (let i = 0; i < records.length; i++) items[i] ??= fresh.get(records[i] as object) as ItemResult;
    return items;
  };
  return isPromise(run) ? run.then(fill) : fill(run);
}

/** The execution result of one event for one subscriber, from per-record results where possible. */
async function executeShared(args: ExecutionArgs, plan: Plan, key: string, event: unknown): Promise<ExecutionResult> {
  const items = await itemResults(args, plan, key, event);
  if (!items) return execute({ ...args, rootValue: event });
  return { data: { [plan.responseKey]: items.map((i) => i.value) } };
}

const COMMA = 0x2c; // ','

/**
 * The whole graphql-ws message in one buffer: the sink's envelope around `{"data":{"<key>":[...]}}`,
 * the items' JSON made once each — the bytes JSON.stringify would make of executeShared's
 * result in graphql-ws's message, without a string per subscriber.
 */
function messageOf(plan: Plan, items: ItemResult[], sink: DirectSink): Buffer {
  const { head, tail } = sink;
  const { open, close } = plan;
  // Plain loops, no closures: this runs once per subscriber per event.
  let length = head.length + open.length + close.length + tail.length + Math.max(0, items.length - 1);
  for (const item of items) {
    item.json ??= Buffer.from(JSON.stringify(item.value));
    length += item.json.length;
  }
  const message = Buffer.allocUnsafe(length);
  // TypedArray#set is a plain memcpy (Buffer#copy makes a view per call).
  message.set(head, 0);
  let at = head.length;
  message.set(open, at);
  at += open.length;
  for (let i = 0; i < items.length; i++) {
    if (i > 0) message[at++] = COMMA;
    const json = (items[i] as ItemResult).json as Buffer;
    message.set(json, at);
    at += json.length;
  }
  message.set(close, at);
  message.set(tail, at + close.length);
  return message;
}

/** The message for `sink`; null where executeShared would run `execute` instead. */
function directMessage(
  args: ExecutionArgs,
  plan: Plan,
  key: string,
  event: unknown,
  sink: DirectSink,
): MaybePromise<Buffer | null> {
  const items = itemResults(args, plan, key, event);
  if (isPromise(items)) return items.then((i) => i && messageOf(plan, i, sink));
  return items && messageOf(plan, items, sink);
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
  const key = keyOf(args, plan);
  return {
    async next() {
      for (;;) {
        const r = await source.next();
        if (r.done) return { done: true, value: undefined };
        let message = directMessage(args, plan, key, r.value, sink);
        if (isPromise(message)) message = await message;
        if (message === null) return { done: false, value: await execute({ ...args, rootValue: r.value }) };
        const backlog = sink.send(message);
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
        const key = keyOf(subscribeArgs, plan);
        return mapAsync(source[Symbol.asyncIterator](), (event) => executeShared(subscribeArgs, plan, key, event));
      });
    },
  };
}
