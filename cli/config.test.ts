// Configuration as a user gets it wrong: each bad value is named with what is allowed.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  API_SETTINGS,
  ConfigError,
  configSchema,
  loadConfig,
  newsFolderProblems,
  readConfig,
  settingsExcept,
} from './config.js';

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
    // Blank is not 0 (any free port), as Number(' ') would have it; a number with spaces is the number.
    expect(problems({ TICKCAST_PORT: ' ' })).toEqual([`TICKCAST_PORT=" ": a port number: 0 (any free one) to 65535`]);
    expect(problems({ YAHOO_RATE: ' ', TICKCAST_MARKET_MIN_SIMILARITY: '\t' })).toHaveLength(2);
    expect(loadConfig({ TICKCAST_PORT: ' 4001 ' }).TICKCAST_PORT).toBe(4001);
  });

  // zod's own messages ("Invalid input: expected number, received NaN", "Too big: expected int to
  // be <=9007199254740991", 'Invalid option: expected one of "memory"|"kafka"') say what failed, not what to give.
  it('says what is allowed in plain words for every setting, one line per variable', () => {
    const garbage = ['zzz', '-5', '1.5', '99999999999999999999', ' ', 'a b,c', 'http://x'];
    for (const key of Object.keys(configSchema.shape)) {
      for (const value of garbage) {
        for (const line of problems({ [key]: value })) {
          expect(line).toMatch(new RegExp(`^${key}=${JSON.stringify(JSON.stringify(value)).slice(1, -1)}: \\S`));
          expect(line, line).not.toMatch(/Invalid|expected|received|Too (small|big)|[<>]=?\d/);
        }
        expect(problems({ [key]: value }).length).toBeLessThanOrEqual(1);
      }
    }
    expect(problems({ TICKCAST_PARTITIONS: 'zzz', TICKCAST_BATCH_SIZE: '99999999999999999999' })).toEqual([
      'TICKCAST_PARTITIONS="zzz": a whole number from 1 to 1024',
      'TICKCAST_BATCH_SIZE="99999999999999999999": a whole number from 1 to 100000',
    ]);
    expect(problems({ TICKCAST_TRANSPORT: 'carrier-pigeon', TICKCAST_ROLE: 'boss' })).toEqual([
      'TICKCAST_TRANSPORT="carrier-pigeon": memory or kafka',
      'TICKCAST_ROLE="boss": all, source, worker or api',
    ]);
    expect(problems({ SCHEMA_REGISTRY_URL: 'registry' })).toEqual([
      'SCHEMA_REGISTRY_URL="registry": a URL such as http://localhost:8081',
    ]);
    expect(problems({ YAHOO_RATE: 'lots' })).toEqual([
      'YAHOO_RATE="lots": requests a minute from 0 (no limit) to 100000',
    ]);
  });

  it('checks only the settings asked for, and with them what else the command needs, in one message', () => {
    const env = { TICKCAST_PORT: 'abc', TICKCAST_PARTITIONS: 'many', TICKCAST_DATA_DIR: '/nonexistent' };
    // A command that serves nothing: the bad port and partitions it does not read do not stop it.
    expect(loadConfig(env, { settings: ['TICKCAST_DATA_DIR', 'TICKCAST_PIPELINE'] })).toEqual({
      TICKCAST_DATA_DIR: '/nonexistent',
      TICKCAST_PIPELINE: 'price-prediction',
    });
    // Its own checks run beside the bad values (those at their defaults meanwhile): one message.
    const seen: unknown[] = [];
    const also = (c: { TICKCAST_PARTITIONS: number; TICKCAST_DATA_DIR: string }) => {
      seen.push(c.TICKCAST_PARTITIONS);
      return [`TICKCAST_DATA_DIR=${JSON.stringify(c.TICKCAST_DATA_DIR)}: no such folder`];
    };
    const one = () => loadConfig(env, { settings: settingsExcept(...API_SETTINGS), also });
    expect(one).toThrow(ConfigError);
    try {
      one();
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([
        'TICKCAST_PARTITIONS="many": a whole number from 1 to 1024',
        'TICKCAST_DATA_DIR="/nonexistent": no such folder',
      ]);
    }
    expect(seen).toEqual([4, 4]);
  });

  it('reads every setting, each bad one at its default beside what is wrong with it (for doctor)', () => {
    const { config, problems } = readConfig({ TICKCAST_PORT: 'abc', TICKCAST_POLL: 'zzz', TICKCAST_PARTITIONS: '8' });
    expect(config.TICKCAST_PORT).toBe(4000);
    expect(config.TICKCAST_POLL).toBeUndefined();
    expect(config.TICKCAST_PARTITIONS).toBe(8);
    expect(problems).toEqual({
      TICKCAST_POLL: 'TICKCAST_POLL="zzz": a duration such as 500ms, 1s or 2m (plain numbers are ms)',
      TICKCAST_PORT: 'TICKCAST_PORT="abc": a port number: 0 (any free one) to 65535',
    });
  });

  it('takes the market-news similarity as a number from -1 to 1, 0.3 by default', () => {
    for (const v of ['abc', '2', '-1.5']) {
      expect(problems({ TICKCAST_MARKET_MIN_SIMILARITY: v })).toEqual([
        `TICKCAST_MARKET_MIN_SIMILARITY=${JSON.stringify(v)}: a number from -1 to 1`,
      ]);
    }
    expect(loadConfig({}).TICKCAST_MARKET_MIN_SIMILARITY).toBe(0.3);
    expect(loadConfig({ TICKCAST_MARKET_MIN_SIMILARITY: '0.45' }).TICKCAST_MARKET_MIN_SIMILARITY).toBe(0.45);
  });

  it('takes the Kafka commit interval as a duration up to 60s, 1s by default (0: every batch)', () => {
    expect(loadConfig({}).KAFKA_COMMIT_INTERVAL).toBe(1000);
    expect(loadConfig({ KAFKA_COMMIT_INTERVAL: '0' }).KAFKA_COMMIT_INTERVAL).toBe(0);
    expect(loadConfig({ KAFKA_COMMIT_INTERVAL: '250ms' }).KAFKA_COMMIT_INTERVAL).toBe(250);
    expect(problems({ KAFKA_COMMIT_INTERVAL: '2m' })).toEqual(['KAFKA_COMMIT_INTERVAL="2m": at most 60s']);
    expect(problems({ KAFKA_COMMIT_INTERVAL: 'soon' })[0]).toMatch(/^KAFKA_COMMIT_INTERVAL="soon": a duration such as/);
  });
});

describe('newsFolderProblems', () => {
  it('refuses a headline folder that is missing or holds no .csv file, with the fix; none is fine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-news-'));
    const label = (d: string) => `TICKCAST_NEWS=${JSON.stringify(d)}`;
    expect(newsFolderProblems(label(dir), dir)).toEqual([
      `TICKCAST_NEWS=${JSON.stringify(dir)}: holds no .csv files (point it at headline CSVs, or set it to none)`,
    ]);
    const missing = join(dir, 'nosuch');
    expect(newsFolderProblems(label(missing), missing)).toEqual([
      `TICKCAST_NEWS=${JSON.stringify(missing)}: no such folder (point it at headline CSVs, or set it to none)`,
    ]);
    mkdirSync(join(dir, 'notes'));
    writeFileSync(join(dir, 'README.txt'), 'headlines go here');
    expect(newsFolderProblems(label(dir), dir)).toHaveLength(1);
    writeFileSync(join(dir, 'finviz.CSV'), 'ticker,date,headline\n');
    expect(newsFolderProblems(label(dir), dir)).toEqual([]);
    expect(newsFolderProblems(label('none'), 'none')).toEqual([]);
  });

  it('picks the Kafka consumer of at-least-once nodes: kafkajs by default, or rdkafka', () => {
    expect(loadConfig({}).KAFKA_CONSUMER).toBe('kafkajs');
    expect(loadConfig({ KAFKA_CONSUMER: 'rdkafka' }).KAFKA_CONSUMER).toBe('rdkafka');
    expect(problems({ KAFKA_CONSUMER: 'librdkafka' })[0]).toMatch(/^KAFKA_CONSUMER="librdkafka": .*kafkajs.*rdkafka/);
  });
});
