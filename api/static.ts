// The built dashboard (ui/dist) at `/`: files as they are, hashed assets cached for good, and any
// other GET path answered with index.html so the single-page app can route (it uses #/ routes,
// but a reload of a pasted path should not 404). Nothing outside the folder is ever read.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const MISSING = `<!doctype html><meta charset="utf-8"><title>tickcast</title>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>tickcast</h1><p>The dashboard is not built yet. Run <code>npm run build</code> (it writes
<code>ui/dist</code>), then reload. The GraphQL API is at <a href="/graphql">/graphql</a>.</p></body>`;

/** A request handler for the UI folder; answers GET/HEAD only (false: not handled). */
export function staticUi(dir: string): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean> {
  const root = resolve(dir);
  return async (req, res, path) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const index = join(root, 'index.html');
    if (!existsSync(index)) {
      res.writeHead(200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : MISSING);
      return true;
    }
    let file = index;
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      decoded = '/';
    }
    const candidate = normalize(join(root, decoded));
    if (candidate.startsWith(root + sep) && extname(candidate) !== '') {
      const st = await stat(candidate).catch(() => null);
      if (st?.isFile()) file = candidate;
      else if (decoded.startsWith('/assets/')) {
        // A missing hashed asset is a stale page, not a route: a real 404.
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
        return true;
      }
    }
    const body = await readFile(file);
    const immutable = file !== index && decoded.startsWith('/assets/');
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      // Vite hashes asset names, so they never change; index.html must always be revalidated.
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
