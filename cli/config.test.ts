// Configuration as a user gets it wrong: each bad value is named with what is allowed.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('loadConfig', () => {
  it('says what a port may be, whatever is wrong with it', () => {
    for (const port of ['abc', '70000', '-1', '4000.5']) {
      expect(problems({ TICKCAST_PORT: port })).toEqual([
        `TICKCAST_PORT=${JSON.stringify(port)}: a port number: 0 (any free one) to 65535`,
      ]);
    }
    expect(loadConfig({ TICKCAST_PORT: '0' }).TICKCAST_PORT).toBe(0);
  });
});
