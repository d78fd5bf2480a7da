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

/** Per record (the object the feed published, shared by every subscriber): its result per selection key. */
const results = new WeakMap<object, Map<string, unknown>>();

/** The execution result of one event for one subscriber, from per-record results where possible. */
async function executeShared(args: ExecutionArgs, plan: Plan, event: unknown): Promise<ExecutionResult> {
  const fallback = () => execute({ ...args, rootValue: event });
  if (!Array.isArray(event) || !event.every((r) => typeof r === 'object' && r !== null)) return fallback();
  const records = event as object[];
  const key =
    plan.itemVariables.length === 0
      ? String(plan.id)
      : `${plan.id}:${JSON.stringify(plan.itemVariables.map((v) => args.variableValues?.[v] ?? null))}`;
  const missing = records.filter((r) => !results.get(r)?.has(key));
  if (missing.length > 0) {
    // The subscriber's own arguments, context and variables: the same execution as before, over the new records only.
    const run = await execute({ ...args, rootValue: missing });
    const list = run.data?.[plan.responseKey];
    if (run.errors || !Array.isArray(list) || list.length !== missing.length) return fallback();
    missing.forEach((r, i) => {
      let byKey = results.get(r);
      if (!byKey) {
        byKey = new Map();
        results.set(r, byKey);
      }
      if (byKey.size < MAX_SELECTIONS_PER_RECORD) byKey.set(key, list[i]);
    });
    // A record whose map was full is not cached: assemble this event from the fresh run instead.
    if (missing.some((r) => !results.get(r)?.has(key))) {
      const fresh = new Map(missing.map((r, i) => [r, list[i]] as const));
      return {
        data: { [plan.responseKey]: records.map((r) => (fresh.has(r) ? fresh.get(r) : results.get(r)?.get(key))) },
      };
    }
  }
  return { data: { [plan.responseKey]: records.map((r) => results.get(r)?.get(key)) } };
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
 * Envelop plugin: subscriptions on `sharedItems` fields use graphql's own source stream and
 * share per-record execution (above). Other plugins' subscribe hooks (error masking) still
 * wrap the result.
 */
export function useSharedSubscriptionItems(): Plugin {
  return {
    onSubscribe({ args, setSubscribeFn }) {
      const plan = planOf(args);
      if (!plan) return;
      setSubscribeFn(async (subscribeArgs: ExecutionArgs) => {
        const source = await createSourceEventStream(subscribeArgs);
        if (!(Symbol.asyncIterator in source)) return source;
        return mapAsync(source[Symbol.asyncIterator](), (event) => executeShared(subscribeArgs, plan, event));
      });
    },
  };
}
