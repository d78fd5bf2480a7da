// @vitest-environment happy-dom
// Hash routes: what each hash opens, the links that lead there, and the `route` store following
// the address bar.
import { get } from 'svelte/store';
import { afterEach, describe, expect, it } from 'vitest';
import { href, parseRoute, type Route, route } from './router';

describe('parseRoute', () => {
  it('opens the watchlist for an empty hash or #/', () => {
    expect(parseRoute('')).toEqual({ view: 'watchlist' });
    expect(parseRoute('#')).toEqual({ view: 'watchlist' });
    expect(parseRoute('#/')).toEqual({ view: 'watchlist' });
  });

  it('opens a symbol, upper-cased and decoded', () => {
    expect(parseRoute('#/symbol/ko')).toEqual({ view: 'symbol', symbol: 'KO' });
    expect(parseRoute('#/symbol/BRK.B')).toEqual({ view: 'symbol', symbol: 'BRK.B' });
    expect(parseRoute('#/symbol/brk%2Fa')).toEqual({ view: 'symbol', symbol: 'BRK/A' });
  });

  it('opens the pipeline and model views', () => {
    expect(parseRoute('#/pipeline')).toEqual({ view: 'pipeline' });
    expect(parseRoute('#/model/')).toEqual({ view: 'model' });
  });

  it('says not found, with the path, for anything else', () => {
    expect(parseRoute('#/symbol')).toEqual({ view: 'not-found', path: '/symbol' });
    expect(parseRoute('#/pipeline/extra')).toEqual({ view: 'not-found', path: '/pipeline/extra' });
    expect(parseRoute('#/model/x')).toEqual({ view: 'not-found', path: '/model/x' });
    expect(parseRoute('#/nope')).toEqual({ view: 'not-found', path: '/nope' });
  });
});

describe('href', () => {
  it('builds links that parseRoute reads back', () => {
    expect(parseRoute(href.watchlist)).toEqual({ view: 'watchlist' });
    expect(href.symbol('BRK/A')).toBe('#/symbol/BRK%2FA');
    expect(parseRoute(href.symbol('BRK/A'))).toEqual({ view: 'symbol', symbol: 'BRK/A' });
    expect(parseRoute(href.pipeline)).toEqual({ view: 'pipeline' });
    expect(parseRoute(href.model)).toEqual({ view: 'model' });
  });
});

describe('route', () => {
  afterEach(() => {
    location.hash = '';
  });

  it('follows the hash while subscribed, and stops listening after', async () => {
    const seen: Route[] = [];
    const hashChanged = () =>
      new Promise<void>((resolve) => addEventListener('hashchange', () => resolve(), { once: true }));
    const stop = route.subscribe((r) => seen.push(r));
    expect(seen).toEqual([{ view: 'watchlist' }]);

    let changed = hashChanged();
    location.hash = href.symbol('ko');
    await changed;
    expect(get(route)).toEqual({ view: 'symbol', symbol: 'KO' });
    expect(seen.at(-1)).toEqual({ view: 'symbol', symbol: 'KO' });

    stop();
    const count = seen.length;
    changed = hashChanged();
    location.hash = href.pipeline;
    await changed;
    expect(seen).toHaveLength(count);
  });
});
