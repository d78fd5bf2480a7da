// The dead-letter part of the end-of-run summary: grouped by what went wrong, with where.
import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../schemas/index.js';
import { groupDeadLetters, printDeadLetterGroups } from './summary.js';

const letter = (reason: string, more: Partial<DeadLetter> = {}): { topic: string; letter: DeadLetter } => ({
  topic: 'quotes',
  letter: {
    topic: 'quotes',
    node: 'replay',
    kind: 'source',
    reason,
    key: null,
    payload: Buffer.from('x'),
    timestamp: null,
    partition: null,
    offset: null,
    failedAt: 0,
    ...more,
  },
});

describe('dead-letter summary', () => {
  it('keeps codes and tickers that hold digits (U+001F, 3M) in the reason, only standalone numbers become N', () => {
    const groups = groupDeadLetters([
      letter('reuters.csv:1060: holds control character U+001F (wrong encoding?)'),
      letter('reuters.csv:1086: holds control character U+001F (wrong encoding?)'),
      letter('MMM_data.csv:12: 3M has 9 fields, expected 7'),
    ]);
    expect(groups.map((g) => [g.reason, g.count])).toEqual([
      ['source: holds control character U+001F (wrong encoding?)', 2],
      ['source: 3M has 9 fields, expected 7', 1],
    ]);
  });

  it('groups by what went wrong, keeps the FILE:LINE of the first three, and says how many more reasons', () => {
    const letters = [
      letter('ES_data.csv:605: open is empty'),
      letter('O_data.csv:599: open is empty'),
      letter('O_data.csv:722: open is empty; high is empty; low is empty'),
      letter('REGN_data.csv:588: open is empty; high is empty; low is empty'),
      letter('VRTX_data.csv:569: open is empty; high is empty; low is empty'),
      letter('X_data.csv:9: open is empty; high is empty; low is empty'),
      letter('KO_data.csv:50: has 3 fields, expected 7'),
      letter('XYZ_data.csv:12: duplicate row: XYZ on 2017-01-13 was read at XYZ_data.csv:11 (that one is replayed)'),
      letter('cannot decode as tickcast.Bar: truncated', { topic: 'bars', kind: 'decode', partition: 2, offset: 41 }),
      ...Array.from({ length: 10 }, (_, i) => letter(`F${i}.csv:1: header lacks v${'x'.repeat(i)}`)),
    ];
    const groups = groupDeadLetters(letters);
    expect(groups.slice(0, 5)).toEqual([
      {
        topic: 'quotes',
        reason: 'source: open is empty; high is empty; low is empty',
        count: 4,
        examples: ['O_data.csv:722', 'REGN_data.csv:588', 'VRTX_data.csv:569'],
      },
      { topic: 'quotes', reason: 'source: open is empty', count: 2, examples: ['ES_data.csv:605', 'O_data.csv:599'] },
      { topic: 'quotes', reason: 'source: has 3 fields, expected 7', count: 1, examples: ['KO_data.csv:50'] },
      { topic: 'quotes', reason: 'source: duplicate row', count: 1, examples: ['XYZ_data.csv:12'] },
      { topic: 'quotes', reason: 'decode: cannot decode as tickcast.Bar', count: 1, examples: ['offset 2/41'] },
    ]);
    expect(groups).toHaveLength(15);
    const lines: string[] = [];
    printDeadLetterGroups(groups, (l) => lines.push(l));
    expect(lines[0]).toMatch(/^topic\s+count\s+reason\s+first at$/);
    expect(lines[2]).toMatch(
      /^quotes\s+4\s+source: open is empty; high is empty; low is empty\s+O_data.csv:722, REGN_data.csv:588, VRTX_data.csv:569, …$/,
    );
    expect(lines[3]).toMatch(/^quotes\s+2\s+source: open is empty\s+ES_data.csv:605, O_data.csv:599$/);
    expect(lines).toHaveLength(2 + 10 + 1);
    expect(lines.at(-1)).toBe('and 5 more reasons (5 dead letters)');
  });

  it('shows what is wrong with a value, masking only what differs between the letters of a group', () => {
    const groups = groupDeadLetters([
      letter('KO_data.csv:7: dayOpen: -5 must be a finite price > 0'),
      letter('KO_data.csv:9: dayOpen: -3.5 must be a finite price > 0'),
      letter('X_data.csv:4: date "2015-02-30" is not a calendar day'),
      letter('X_data.csv:8: date "2015-13-01" is not a calendar day'),
      letter('O_data.csv:3: date "2016-02-30" is not a calendar day; volume: -1 must be finite and >= 0'),
      letter('O_data.csv:5: dayHigh 5 < dayLow 6'),
      {
        ...letter('cannot decode as tickcast.Bar: truncated at 41', {
          topic: 'bars',
          kind: 'decode',
          partition: 1,
          offset: 3,
        }),
        topic: 'bars',
      },
      {
        ...letter('cannot decode as tickcast.Bar: bad union index 7', {
          topic: 'bars',
          kind: 'decode',
          partition: 1,
          offset: 4,
        }),
        topic: 'bars',
      },
      letter('symbol: "not a ticker" is not a ticker (A-Z, digits, . ^ = -)', { kind: 'validation', key: 'x' }),
    ]);
    expect(groups.map((g) => [g.topic, g.reason, g.count, g.examples.join(', ')])).toEqual([
      ['quotes', 'source: dayOpen: N must be a finite price > 0', 2, 'KO_data.csv:7, KO_data.csv:9'],
      ['quotes', 'source: date "…" is not a calendar day', 2, 'X_data.csv:4, X_data.csv:8'],
      ['bars', 'decode: cannot decode as tickcast.Bar', 2, 'offset 1/3, offset 1/4'],
      [
        'quotes',
        'source: date "2016-02-30" is not a calendar day; volume: -1 must be finite and >= 0',
        1,
        'O_data.csv:3',
      ],
      ['quotes', 'source: dayHigh 5 < dayLow 6', 1, 'O_data.csv:5'],
      ['quotes', 'validation: symbol: "not a ticker" is not a ticker (A-Z, digits, . ^ = -)', 1, 'x'],
    ]);
  });
});
