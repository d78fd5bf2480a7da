// The usual security headers on every response. The dashboard's policy allows only its own
// origin (its scripts are Vite's hashed modules; the only data: URI is the favicon); GraphiQL at
// /graphql is one self-contained page (inline script and styles, editor workers from blob: URLs),
// so its policy allows exactly that and still loads nothing from elsewhere. No one may frame either.
import type { ServerResponse } from 'node:http';

const COMMON = [
  "default-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "img-src 'self' data:",
  "connect-src 'self'",
];

/** For the dashboard and everything else the server answers. */
export const APP_CSP = [...COMMON, "script-src 'self'", "style-src 'self' 'unsafe-inline'", "font-src 'self'"].join(
  '; ',
);

/** For /graphql, which serves GraphiQL to browsers (`@graphql-yoga/render-graphiql`, all inline). */
export const GRAPHIQL_CSP = [
  ...COMMON,
  "script-src 'self' 'unsafe-inline' blob:",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
].join('; ');

export function setSecurityHeaders(res: ServerResponse, path: string): void {
  res.setHeader('content-security-policy', path === '/graphql' ? GRAPHIQL_CSP : APP_CSP);
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
}
