// Configuration as a user gets it wrong: each bad value is named with what is allowed.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, loadConfig, newsFolderProblems } from './config.js';

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
