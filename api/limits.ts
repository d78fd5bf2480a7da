// Limits of the API: query shape (graphql-armor), symbols per request, payload, request rates.
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError } from 'graphql';
import { ErrorCode } from './errors.js';

export interface ApiLimits {
  /** Deepest selection nesting. */
  maxDepth: number;
  /**
   * graphql-armor cost: objects 2, scalars 1, ×1.5 per level of depth, × a literal `first`/`last`.
   * A 1,000-bar page costs ~32,000, so this allows about three of them in one query.
   */
  maxCost: number;
  maxAliases: number;
  /** Tokens in one document (stops huge documents before validation). */
  maxTokens: number;
  maxSymbolsPerQuery: number;
  maxSymbolsPerSubscription: number;
  /** Largest page of a connection (`first` / `last`). */
  maxPageSize: number;
  /** Largest HTTP request body and WebSocket message, bytes. */
  maxPayloadBytes: number;
  /** HTTP requests per second per client IP (token bucket; `burst` at once). */
  httpRatePerSecond: number;
  httpBurst: number;
  /** Operations (subscribe messages) per second per WebSocket connection. */
  wsRatePerSecond: number;
  wsBurst: number;
  /** Active subscriptions on one WebSocket connection. */
  maxSubscriptionsPerConnection: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  maxDepth: 8,
  maxCost: 100_000,
  maxAliases: 15,
  maxTokens: 2000,
  maxSymbolsPerQuery: 500,
  maxSymbolsPerSubscription: 100,
  maxPageSize: 1000,
  maxPayloadBytes: 64 * 1024,
  httpRatePerSecond: 2000,
  httpBurst: 4000,
  wsRatePerSecond: 20,
  wsBurst: 40,
  maxSubscriptionsPerConnection: 20,
};

/**
 * graphql-armor's rejections as said to a client: armor words them all as "Syntax Error: … limit
 * of N exceeded, found M." (the query is well-formed; it is too big): which limit, what it is, what
 * was found, and what to change. `found` is null where armor does not count (tokens: it stops at the limit).
 */
export function limitMessage(kind: LimitKind, limit: number, found: number | null): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const over = found === null ? `over the limit of ${n(limit)}` : `${n(found)}, over the limit of ${n(limit)}`;
  switch (kind) {
    case 'cost':
      return `Query too costly: its cost is ${over} (a literal \`first\`/\`last\` multiplies the cost of what it selects). Ask for smaller pages (a lower \`first\`/\`last\`) or fewer fields, or split it into several queries.`;
    case 'tokens':
      return `Query too long: ${found === null ? `more than ${n(limit)} tokens` : `${n(found)} tokens, over the limit of ${n(limit)}`}. Ask for fewer fields, or split it into several queries.`;
    case 'depth':
      return `Query nested too deep: its depth is ${over}. Select fewer nested levels.`;
    case 'aliases':
      return `Too many aliases: ${over}. Split the query into several.`;
    case 'directives':
      return `Too many directives: ${over}. Use fewer directives.`;
  }
}

export type LimitKind = 'cost' | 'tokens' | 'depth' | 'aliases' | 'directives';

/** graphql-armor's Envelop plugin (Yoga is Envelop-based), with our code and wording on its rejections. */
export function armorPlugins(limits: ApiLimits) {
  // armor's errors carry no code and read as syntax errors; one stable code for "query too big",
  // and a message that says which limit and what to do (limitMessage).
  const callbacks = (kind: LimitKind, limit: number) => ({
    onReject: [
      (_ctx: unknown, error: GraphQLError) => {
        const found = Number(/found (.+)\.$/.exec(error.message)?.[1]);
        error.message = limitMessage(kind, limit, Number.isFinite(found) ? found : null);
        Object.assign(error.extensions, { code: ErrorCode.QUERY_TOO_COMPLEX, limit: kind, max: limit });
      },
    ],
    propagateOnRejection: true,
  });
  return EnvelopArmorPlugin({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, ...callbacks('depth', limits.maxDepth) },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true, ...callbacks('cost', limits.maxCost) },
    maxAliases: { n: limits.maxAliases, ...callbacks('aliases', limits.maxAliases) },
    maxTokens: { n: limits.maxTokens, ...callbacks('tokens', limits.maxTokens) },
    maxDirectives: { n: 10, ...callbacks('directives', 10) },
    // Field suggestions ("did you mean …") stay: this schema is public, and they help analysts.
    blockFieldSuggestion: { enabled: false },
  });
}

/**
 * Token buckets by key (client IP, or one per WebSocket connection): `rate` tokens a second up
 * to `burst`. Idle buckets are dropped by sweep(), so memory follows active clients.
 */
export class RateLimiter<K = string> {
  private readonly buckets = new Map<K, { tokens: number; at: number }>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

  take(key: K, now = performance.now()): boolean {
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  forget(key: K): void {
    this.buckets.delete(key);
  }

  /** Drops buckets that have refilled (a full bucket is the same as no bucket). */
  sweep(now = performance.now()): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.rate >= this.burst) this.buckets.delete(key);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
