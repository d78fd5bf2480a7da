// Relay-style pages over a sorted list, with cursors made of the item's sort key (not its
// offset), so a cursor stays valid while new bars and predictions are appended. A cursor also
// names its list, so one from another list (a `symbols` cursor passed to `bars`) is refused
// rather than read as a position it never was.
import { apiError, ErrorCode } from '../errors.js';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Page<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

type Key = string | number;

const encode = (list: string, key: readonly Key[]) => Buffer.from(JSON.stringify([list, ...key])).toString('base64url');

function decode(cursor: string, list: string, arity: number | null): Key[] {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(decoded) && decoded[0] === list) {
      const key: unknown[] = decoded.slice(1);
      if (
        key.length > 0 &&
        (arity === null || key.length === arity) &&
        key.every((k) => typeof k === 'string' || typeof k === 'number')
      ) {
        return key as Key[];
      }
    }
  } catch {}
  throw apiError(ErrorCode.BAD_ARGUMENT, `not a cursor of ${list}: ${JSON.stringify(cursor.slice(0, 60))}`);
}

function compare(a: readonly Key[], b: readonly Key[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

/** Validates first/last against the page limit; 100 when neither is given. */
export function pageSize(args: PageArgs, max: number): { first?: number; last?: number } {
  for (const [name, n] of [
    ['first', args.first],
    ['last', args.last],
  ] as const) {
    if (n != null && (n < 0 || n > max)) {
      throw apiError(ErrorCode.BAD_ARGUMENT, `${name} must be between 0 and ${max}`, { max });
    }
  }
  if (args.first == null && args.last == null) return { first: Math.min(100, max) };
  return { first: args.first ?? undefined, last: args.last ?? undefined };
}

/** One page of `items` (sorted ascending by `keyOf`) of the list named `list` (the field's name). */
export function paginate<T>(
  list: string,
  items: readonly T[],
  keyOf: (item: T) => readonly Key[],
  args: PageArgs,
  max: number,
): Page<T> {
  const { first, last } = pageSize(args, max);
  const arity = items.length > 0 ? keyOf(items[0]!).length : null;
  let start = 0;
  let end = items.length;
  if (args.after) {
    const after = decode(args.after, list, arity);
    while (start < end && compare(keyOf(items[start]!), after) <= 0) start++;
  }
  if (args.before) {
    const before = decode(args.before, list, arity);
    while (end > start && compare(keyOf(items[end - 1]!), before) >= 0) end--;
  }
  const windowStart = start;
  const windowEnd = end;
  if (first !== undefined) end = Math.min(end, start + first);
  if (last !== undefined) start = Math.max(start, end - last);
  const edges = items.slice(start, end).map((node) => ({ cursor: encode(list, keyOf(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: end < windowEnd,
      hasPreviousPage: start > windowStart,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
