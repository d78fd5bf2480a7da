import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReplayClock, TestDriver } from '../../engine/index.js';
import { tickerFromFileName } from '../../models/daily-csv.js';
import type { Quote } from '../../schemas/index.js';
import { replay } from './replay.js';

const DATA = new URL('../../data/sp500-daily', import.meta.url).pathname;

describe('replay', () => {
  it('replays real daily rows in event-time order, one quote per ticker and day', async () => {
    const d = await TestDriver.forOperator(
      replay({ dir: DATA, symbols: ['AAPL', 'MSFT'], from: Date.UTC(2018, 1, 1), to: Date.UTC(2018, 1, 7) }),
    );
    await d.runSource();
    const quotes = d.read<Quote>('quotes');
    expect(quotes.map((q) => `${new Date(q.ts).toISOString().slice(0, 10)} ${q.symbol}`)).toEqual([
      '2018-02-01 AAPL',
      '2018-02-01 MSFT',
      '2018-02-02 AAPL',
      '2018-02-02 MSFT',
      '2018-02-05 AAPL',
      '2018-02-05 MSFT',
      '2018-02-06 AAPL',
      '2018-02-06 MSFT',
      '2018-02-07 AAPL',
      '2018-02-07 MSFT',
    ]);
    // AAPL_data.csv: 2018-02-07,163.085,163.4,159.0685,159.54,51608580,AAPL
    expect(quotes[8]).toEqual({
      symbol: 'AAPL',
      ts: Date.UTC(2018, 1, 7, 21),
      price: 159.54,
      dayOpen: 163.085,
      dayHigh: 163.4,
      dayLow: 159.0685,
      dayVolume: 51608580,
      source: 'replay',
    });
    expect(d.deadLetters('quotes')).toEqual([]);
  });

  it('sends every broken row to quotes.dlq with file, line and reason, and replays the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    writeFileSync(
      join(dir, 'XYZ_data.csv'),
      [
        'date,open,high,low,close,volume,Name',
        '2017-01-03,10,11,9,10.5,1000,XYZ',
        '2017-01-04,10,11', // too few fields
        '2017-01-05,,11,9,10,1000,XYZ', // empty cell (as in the real O and REGN files)
        '2017-01-06,10,9,11,10,1000,XYZ', // high < low
        '2017-01-09,10,11,9,NaN,1000,XYZ', // NaN price
        '2017-01-10,10,11,9,-10,1000,XYZ', // negative price
        '2017-01-11,10,11,9,10,-5,XYZ', // negative volume
        '2017-01-12,10,11,9,Infinity,1000,XYZ', // infinite price
        'yesterday,10,11,9,10,1000,XYZ', // bad date
        '2017-01-13,10,11,9,10.25,1000,XYZ',
        '2017-01-13,10,11,9,10.25,1000,XYZ', // duplicate
      ].join('\n'),
    );
    // No Name column: the ticker comes from the file name.
    writeFileSync(join(dir, 'abc.csv'), 'date,open,high,low,close,volume\n2017-01-03,5,6,4,5.5,300\n');
    const d = await TestDriver.forOperator(replay({ dir }));
    await d.runSource();
    expect(d.read<Quote>('quotes').map((q) => `${q.symbol} ${q.price}`)).toEqual(['ABC 5.5', 'XYZ 10.5', 'XYZ 10.25']);
    const reasons = d.deadLetters('quotes').map((l) => l.reason);
    expect(reasons).toEqual([
      'XYZ_data.csv:3: has 3 fields, expected 7',
      'XYZ_data.csv:4: open is empty',
      'XYZ_data.csv:5: dayHigh 9 < dayLow 11',
      'XYZ_data.csv:6: close "NaN" is not a number',
      'XYZ_data.csv:7: price: -10 must be a finite price > 0',
      'XYZ_data.csv:8: dayVolume: -5 must be finite and >= 0',
      'XYZ_data.csv:9: price: Infinity must be a finite price > 0',
      'XYZ_data.csv:10: date "yesterday" is not YYYY-MM-DD',
      'XYZ_data.csv:12: duplicate row: XYZ on 2017-01-13 was read at XYZ_data.csv:11 (that one is replayed)',
    ]);
    expect(d.deadLetters('quotes')[0]!.payload.toString()).toBe('2017-01-04,10,11');
    expect(d.deadLetters('quotes').every((l) => l.kind === 'source' && l.node === 'replay')).toBe(true);
  });

  it('replays the first of two rows for a ticker and day, and dead-letters the second with both places and its raw line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-dup-'));
    writeFileSync(
      join(dir, 'KO_data.csv'),
      [
        'date,open,high,low,close,volume,Name',
        '2013-03-07,38,39,37,38.5,100,KO',
        '2013-03-07,40,41,39,40.5,200,KO',
      ].join('\n'),
    );
    // The same day again in another file (its Name column says KO).
    writeFileSync(join(dir, 'ko_copy.csv'), 'date,open,high,low,close,volume,Name\n2013-03-07,1,2,1,1.5,5,KO\n');
    const d = await TestDriver.forOperator(replay({ dir }));
    await d.runSource();
    expect(d.read<Quote>('quotes').map((q) => `${q.symbol} ${q.price}`)).toEqual(['KO 38.5']);
    const letters = d.deadLetters('quotes');
    expect(letters.map((l) => [l.reason, l.payload.toString()])).toEqual([
      [
        'KO_data.csv:3: duplicate row: KO on 2013-03-07 was read at KO_data.csv:2 (that one is replayed)',
        '2013-03-07,40,41,39,40.5,200,KO',
      ],
      [
        'ko_copy.csv:2: duplicate row: KO on 2013-03-07 was read at KO_data.csv:2 (that one is replayed)',
        '2013-03-07,1,2,1,1.5,5,KO',
      ],
    ]);
  });

  it('replays every other file completely when one has a stray quote, one is binary and one is empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-broken-'));
    // A real file with a `"` after the first comma of line 50 (the issue's reproduction).
    const ko = readFileSync(join(DATA, 'KO_data.csv'), 'utf8').split('\n');
    const line50 = ko[49]!.replace(',', ',"');
    ko[49] = line50;
    writeFileSync(join(dir, 'KO_data.csv'), ko.join('\n'));
    copyFileSync(join(DATA, 'AAPL_data.csv'), join(dir, 'AAPL_data.csv'));
    writeFileSync(join(dir, 'BIN_data.csv'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff, 0x10, 0x0a]));
    writeFileSync(join(dir, 'EMPTY_data.csv'), '');
    writeFileSync(join(dir, 'BLANK_data.csv'), '\ufeff\n\n');
    const d = await TestDriver.forOperator(replay({ dir }));
    await d.runSource();
    const quotes = d.read<Quote>('quotes');
    const count = (s: string) => quotes.filter((q) => q.symbol === s).length;
    expect(count('AAPL')).toBe(1259);
    expect(count('KO')).toBe(1258);
    expect(quotes.some((q) => q.symbol === 'KO' && q.ts === Date.UTC(2013, 3, 19, 21))).toBe(false);
    const letters = d.deadLetters('quotes');
    expect(letters.map((l) => l.reason)).toEqual([
      'BIN_data.csv:1: is not a text file: it holds NUL bytes (binary data, or UTF-16 text), 9 bytes',
      'BLANK_data.csv:1: is empty: no header',
      'EMPTY_data.csv:1: is empty: no header',
      'KO_data.csv:50: has a quote that is never closed',
    ]);
    expect(letters[0]!.payload).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff, 0x10, 0x0a]));
    expect(letters[3]!.payload.toString()).toBe(line50);
  });

  it('an entry that cannot be read (a folder named X.csv, no permission, a dangling link) is one dead letter; the rest is replayed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-unreadable-'));
    copyFileSync(join(DATA, 'AAPL_data.csv'), join(dir, 'AAPL_data.csv'));
    mkdirSync(join(dir, 'DIR_data.csv'));
    symlinkSync(join(dir, 'gone.txt'), join(dir, 'LINK_data.csv'));
    writeFileSync(join(dir, 'ZZZ_data.csv'), 'date,open,high,low,close,volume\n2017-01-03,5,6,4,5.5,300\n');
    // No read permission: root reads it anyway, so it only counts when the tests do not run as root.
    const asRoot = process.getuid?.() === 0;
    chmodSync(join(dir, 'ZZZ_data.csv'), 0o000);
    const d = await TestDriver.forOperator(replay({ dir }));
    await d.runSource();
    const quotes = d.read<Quote>('quotes');
    expect(quotes.filter((q) => q.symbol === 'AAPL')).toHaveLength(1259);
    expect(quotes.filter((q) => q.symbol === 'ZZZ')).toHaveLength(asRoot ? 1 : 0);
    const letters = d.deadLetters('quotes');
    expect(letters.map((l) => l.reason)).toEqual([
      'DIR_data.csv:1: is a directory, not a file (EISDIR)',
      'LINK_data.csv:1: cannot be read: it does not exist (a dangling link, or removed while the folder was read) (ENOENT)',
      ...(asRoot ? [] : ['ZZZ_data.csv:1: cannot be read: permission denied (EACCES)']),
    ]);
    expect(letters.every((l) => l.kind === 'source' && l.node === 'replay' && l.payload.length === 0)).toBe(true);
  });

  it('refuses an impossible date instead of rolling it over onto the next real day', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-dates-'));
    writeFileSync(
      join(dir, 'XYZ_data.csv'),
      [
        'date,open,high,low,close,volume,Name',
        '2015-02-27,10,11,9,10.5,1000,XYZ',
        '2015-02-30,20,21,19,20.5,2000,XYZ', // Date.parse rolls it to 2015-03-02
        '2015-03-02,10,11,9,10.75,1000,XYZ',
        '2015-13-01,10,11,9,10,1000,XYZ',
        ' 2015-03-03 ,10,11,9,11,1000,XYZ', // padded: read
      ].join('\n'),
    );
    const d = await TestDriver.forOperator(replay({ dir }));
    await d.runSource();
    expect(d.read<Quote>('quotes').map((q) => `${new Date(q.ts).toISOString().slice(0, 10)} ${q.price}`)).toEqual([
      '2015-02-27 10.5',
      '2015-03-02 10.75',
      '2015-03-03 11',
    ]);
    expect(d.deadLetters('quotes').map((l) => l.reason)).toEqual([
      'XYZ_data.csv:3: date "2015-02-30" is not a calendar day',
      'XYZ_data.csv:5: date "2015-13-01" is not a calendar day',
    ]);
  });

  it('takes the ticker from Name, else from the file name without _data', () => {
    expect(tickerFromFileName('AAPL_data.csv')).toBe('AAPL');
    expect(tickerFromFileName('brk.b.csv')).toBe('BRK.B');
  });

  it('paces the replay: one trading day per given interval', async () => {
    const d = await TestDriver.forOperator(
      replay({ dir: DATA, symbols: ['AAPL'], from: Date.UTC(2018, 1, 5), to: Date.UTC(2018, 1, 7), paceMs: 40 }),
    );
    const started = performance.now();
    await d.runSource();
    // Three days at 40 ms each: at least two full pauses must have passed.
    expect(performance.now() - started).toBeGreaterThanOrEqual(80);
    expect(d.read('quotes')).toHaveLength(3);
  });

  it('advances a shared clock past each replayed day, and ends it when done', async () => {
    const clock = createReplayClock();
    const advanced: number[] = [];
    const advance = clock.advance;
    clock.advance = (time) => {
      advanced.push(time);
      advance(time);
    };
    const d = await TestDriver.forOperator(
      replay({ dir: DATA, symbols: ['AAPL'], from: Date.UTC(2018, 1, 1), to: Date.UTC(2018, 1, 5), clock }),
    );
    await d.runSource();
    // Thursday, Friday, Monday: the clock is at the end of each UTC day once it is replayed.
    expect(advanced).toEqual([Date.UTC(2018, 1, 2), Date.UTC(2018, 1, 3), Date.UTC(2018, 1, 6)]);
    expect(clock.now).toBe(Number.POSITIVE_INFINITY);

    // Stopped early, it ends the clock too: nobody waits on it forever.
    const stopped = createReplayClock();
    const stop = new AbortController();
    stop.abort();
    const d2 = await TestDriver.forOperator(replay({ dir: DATA, symbols: ['AAPL'], clock: stopped }));
    await d2.runSource(undefined, { signal: stop.signal });
    expect(d2.read('quotes')).toEqual([]);
    expect(stopped.now).toBe(Number.POSITIVE_INFINITY);
  });

  it('fails clearly on a folder without CSVs', async () => {
    const d = await TestDriver.forOperator(replay({ dir: mkdtempSync(join(tmpdir(), 'empty-')) }));
    await expect(d.runSource()).rejects.toThrow(/replay: no .csv files in/);
  });
});
