import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config.js';
import { loadUniverse } from './universe.js';

describe('loadUniverse (TICKCAST_SYMBOLS)', () => {
  it('reads the bundled S&P 500 constituents file (503 tickers, Yahoo spelling)', () => {
    const symbols = loadUniverse('data/universe/sp500-constituents.csv');
    expect(symbols).toHaveLength(503);
    expect(symbols).toContain('BRK-B');
    expect(symbols.slice(0, 2)).toEqual(['A', 'AAPL']);
  });

  it('takes a comma list (upper-cased, BRK.B → BRK-B, repeats once) or a file of one ticker a line', () => {
    expect(loadUniverse(' aapl, MSFT,brk.b,AAPL ')).toEqual(['AAPL', 'MSFT', 'BRK-B']);
    const file = join(mkdtempSync(join(tmpdir(), 'universe-')), 'mine.txt');
    writeFileSync(file, 'KO\nPEP\n\n');
    expect(loadUniverse(file)).toEqual(['KO', 'PEP']);
  });

  it('refuses what is not a universe, naming the variable', () => {
    expect(() => loadUniverse('AAPL,not a ticker')).toThrow(ConfigError);
    expect(() => loadUniverse('AAPL,not a ticker')).toThrow(
      /TICKCAST_SYMBOLS="AAPL,not a ticker": not tickers: "not a ticker"/,
    );
    expect(() => loadUniverse('missing/universe.csv')).toThrow(/no such file/);
    expect(() => loadUniverse(',', '--symbols')).toThrow(/--symbols=",": no tickers in it/);
  });
});
