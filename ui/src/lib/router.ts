// Hash routes: #/ (watchlist), #/symbol/KO, #/pipeline, #/model. A static server needs
// nothing special, and a reload keeps the view.
import { type Readable, readable } from 'svelte/store';

export type Route =
  | { view: 'watchlist' }
  | { view: 'symbol'; symbol: string }
  | { view: 'pipeline' }
  | { view: 'model' }
  | { view: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return { view: 'watchlist' };
  if (parts[0] === 'symbol' && parts[1]) return { view: 'symbol', symbol: decodeURIComponent(parts[1]).toUpperCase() };
  if (parts[0] === 'pipeline' && parts.length === 1) return { view: 'pipeline' };
  if (parts[0] === 'model' && parts.length === 1) return { view: 'model' };
  return { view: 'not-found', path };
}

export const route: Readable<Route> = readable(parseRoute(location.hash), (set) => {
  const update = () => set(parseRoute(location.hash));
  addEventListener('hashchange', update);
  return () => removeEventListener('hashchange', update);
});

export const href = {
  watchlist: '#/',
  symbol: (s: string) => `#/symbol/${encodeURIComponent(s)}`,
  pipeline: '#/pipeline',
  model: '#/model',
};
