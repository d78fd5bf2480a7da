// The price CSV reader as training and evaluation use it (loadDailyBars), and the shared line reader.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvRecords, parseIsoDay, splitCsvLine, UNCLOSED_QUOTE, unreadableFile } from './csv-lines.js';
import { loadDailyBars, parseDailyCsv } from './daily-csv.js';

const DATA = new URL('../data/sp500-daily', import.meta.url).pathname;

describe('daily CSVs', () => {
  it('loads every readable row of every file; broken rows and unreadable files are counted, not thrown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daily-'));
    const ko = readFileSync(join(DATA, 'KO_data.csv'), 'utf8').split('\n');
    ko[49] = ko[49]!.replace(',', ',"');
    writeFileSync(join(dir, 'KO_data.csv'), ko.join('\n'));
    copyFileSync(join(DATA, 'AAPL_data.csv'), join(dir, 'AAPL_data.csv'));
    writeFileSync(join(dir, 'BIN_data.csv'), Buffer.from([0, 1, 2, 3]));
    writeFileSync(join(dir, 'EMPTY_data.csv'), '');
    const { bars, rejected } = await loadDailyBars(dir);
    expect([...bars.keys()].sort()).toEqual(['AAPL', 'KO']);
    expect(bars.get('AAPL')).toHaveLength(1259);
    expect(bars.get('KO')).toHaveLength(1258);
    expect(rejected).toBe(3);
  });

  it('counts a folder named X.csv or a dangling link as one unreadable file, and loads the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daily-unreadable-'));
    copyFileSync(join(DATA, 'AAPL_data.csv'), join(dir, 'AAPL_data.csv'));
    mkdirSync(join(dir, 'DIR_data.csv'));
    symlinkSync(join(dir, 'gone.txt'), join(dir, 'LINK_data.csv'));
    const { bars, rejected } = await loadDailyBars(dir);
    expect([...bars.keys()]).toEqual(['AAPL']);
    expect(bars.get('AAPL')).toHaveLength(1259);
    expect(rejected).toBe(2);
  });

  it('reports each problem with its line and the raw line', () => {
    const rejected: string[] = [];
    const rows = parseDailyCsv(
      'date,open,high,low,close,volume\r\n2016-02-29,1,2,1,2,5\r\n2016-02-30,1,2,1,2,5\r\n2016-03-01,"1,2,1,2,5\r\n2016-03-02,1,2,1,\xff,5\r\n',
      'ABC',
      (line, reason, raw) => rejected.push(`${line}: ${reason} | ${raw.toString()}`),
    );
    expect(rows.map((r) => r.quote.symbol + r.day)).toEqual([`ABC${Date.UTC(2016, 1, 29)}`]);
    expect(rejected).toEqual([
      '3: date "2016-02-30" is not a calendar day | 2016-02-30,1,2,1,2,5',
      '4: has a quote that is never closed | 2016-03-01,"1,2,1,2,5',
      '5: close "\xff" is not a number | 2016-03-02,1,2,1,\xff,5',
    ]);
    const latin1: string[] = [];
    parseDailyCsv(
      Buffer.from('date,open,high,low,close,volume,Name\n2016-03-02,1,2,1,2,5,AB\xc9\n', 'latin1'),
      'X',
      (l, r) => latin1.push(`${l}: ${r}`),
    );
    expect(latin1).toEqual(['2: is not valid UTF-8']);
  });

  it('splits lines as CSV, and tells a stray quote from a field spanning lines', () => {
    expect(splitCsvLine('a,b,c')).toEqual(['a', 'b', 'c']);
    expect(splitCsvLine('a,"b,c",d')).toEqual(['a', 'b,c', 'd']);
    expect(splitCsvLine('a,b"c,d')).toEqual(['a', 'b"c', 'd']);
    expect(splitCsvLine('a,"b,c')).toBe(UNCLOSED_QUOTE);
    const records = [
      ...csvRecords(['h1,h2,h3', 'x,"two', 'lines",y', '', 'p,"stray,q', 'r,s,t'], {
        start: 1,
        fields: 3,
        maxContinuation: 3,
      }),
    ];
    expect(records).toEqual([
      { line: 2, raw: 'x,"two\nlines",y', fields: ['x', 'two\nlines', 'y'] },
      { line: 5, raw: 'p,"stray,q', fields: UNCLOSED_QUOTE },
      { line: 6, raw: 'r,s,t', fields: ['r', 's', 't'] },
    ]);
  });

  it('parses dates strictly, and knows an unreadable file', () => {
    expect(parseIsoDay('2016-02-29')).toBe(Date.UTC(2016, 1, 29));
    expect(parseIsoDay('2015-02-29')).toBe('date "2015-02-29" is not a calendar day');
    expect(parseIsoDay('2015-2-1')).toBe('date "2015-2-1" is not YYYY-MM-DD');
    expect(unreadableFile(Buffer.from(''))).toBe('is empty: no header');
    expect(unreadableFile(Buffer.from('\ufeff \r\n'))).toBe('is empty: no header');
    expect(unreadableFile(Buffer.from('a\0b'))).toMatch(/^is not a text file/);
    expect(unreadableFile(Buffer.from('date\n'))).toBeNull();
  });
});
