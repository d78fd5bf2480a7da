import { describe, expect, it } from 'vitest';
import { BAR_TABLE, PREDICTION_TABLE, SCORE_TABLE, storeTableLayout, toJsonText } from './record-columns.js';

const columns = (t: typeof BAR_TABLE) =>
  storeTableLayout(t, ['batch']).columns.map(
    (c) => `${c.column} ${c.kind}${c.nullable ? '?' : ''}${c.symbol ? ' symbol' : ''}`,
  );

describe('the store tables derived from the record schemas', () => {
  // The names and kinds the stores wrote by hand before, which existing databases hold.
  it('keeps the bars columns', () => {
    expect(columns(BAR_TABLE)).toEqual([
      'symbol string symbol',
      'ts timestamp',
      'interval string symbol',
      'open double',
      'high double',
      'low double',
      'close double',
      'volume double',
      'quotes int',
      'source string symbol',
    ]);
  });

  it('keeps the predictions columns, snake_case, and adds new fields as nullable columns', () => {
    expect(columns(PREDICTION_TABLE).slice(0, 14)).toEqual([
      'id string',
      'symbol string symbol',
      'ts timestamp',
      'horizon int',
      'target_ts timestamp',
      'last_close double',
      'predicted_close double',
      'predicted_return double',
      'lower double',
      'upper double',
      'model string symbol',
      'model_version string',
      'regime string symbol',
      'created_at timestamp',
    ]);
    // A field added since needs a default, so a column for it can be added to an existing table.
    for (const c of storeTableLayout(PREDICTION_TABLE).columns.slice(14)) expect(c.nullable).toBe(true);
  });

  it('stores a score without the fields derived on read', () => {
    expect(columns(SCORE_TABLE)).toEqual([
      'id string',
      'symbol string symbol',
      'ts timestamp',
      'target_ts timestamp',
      'horizon int',
      'model string symbol',
      'model_version string',
      'regime string symbol',
      'last_close double',
      'predicted_close double',
      'lower double',
      'upper double',
      'realised_close double?',
    ]);
  });

  it('keys rows by (symbol, interval, ts) and (symbol, horizon, ts)', () => {
    expect(storeTableLayout(BAR_TABLE)).toMatchObject({ table: 'bars', key: ['symbol', 'interval'], time: 'ts' });
    expect(storeTableLayout(SCORE_TABLE)).toMatchObject({ table: 'scores', key: ['symbol', 'horizon'], time: 'ts' });
  });

  it('writes a JSON column with a feature row (a Float32Array) as an array, as the wire has it', () => {
    expect(toJsonText({ values: Float32Array.of(0.5, 2) })).toBe('{"values":[0.5,2]}');
  });
});
