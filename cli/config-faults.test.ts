import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseFaults } from './config.js';

describe('TICKCAST_FAULTS (tests and soaks only)', () => {
  it('is empty by default', () => {
    expect(loadConfig({}).TICKCAST_FAULTS).toEqual([]);
  });

  it('parses store-write windows: start after start-up, then length', () => {
    expect(loadConfig({ TICKCAST_FAULTS: 'store-writes@60s+20s' }).TICKCAST_FAULTS).toEqual([
      { kind: 'store-writes', atMs: 60_000, forMs: 20_000 },
    ]);
    expect(parseFaults('store-writes@1m+500ms, store-writes@1.5m+2s')).toEqual([
      { kind: 'store-writes', atMs: 60_000, forMs: 500 },
      { kind: 'store-writes', atMs: 90_000, forMs: 2000 },
    ]);
    // Plain numbers are ms, as in every duration setting.
    expect(parseFaults('store-writes@0+250')).toEqual([{ kind: 'store-writes', atMs: 0, forMs: 250 }]);
  });

  it.each([
    'store-writes',
    'store-writes@60s',
    'store-writes@60s+',
    'store-reads@60s+20s',
    'store-writes@-5s+20s',
    'store-writes@60x+20s',
    'store-writes@60s+0s',
    'on',
  ])('refuses %j at start-up, naming the variable and the form', (value) => {
    expect(() => loadConfig({ TICKCAST_FAULTS: value })).toThrow(ConfigError);
    try {
      loadConfig({ TICKCAST_FAULTS: value });
    } catch (err) {
      expect((err as ConfigError).problems).toHaveLength(1);
      expect((err as ConfigError).problems[0]).toMatch(/^TICKCAST_FAULTS=".*": .*(store-writes@60s\+20s|more than 0)/);
    }
  });
});
