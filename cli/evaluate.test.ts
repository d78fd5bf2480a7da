// `tickcast evaluate` and `tickcast calibration` asked for days the data cannot score: an error
// that names the data's range (exit 2), not an empty table.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tickcast } from '../test/support/cli-in-process.js';

const ROOT = new URL('..', import.meta.url).pathname;

describe('tickcast evaluate and calibration: a window with nothing to score', () => {
  // KO's prices run from 2013-02-08 to 2018-02-07.
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-window-'));
  copyFileSync(join(ROOT, 'data/sp500-daily/KO_data.csv'), join(dir, 'KO_data.csv'));
  const range = `the data in ${dir} runs from 2013-02-08 to 2018-02-07`;

  it('evaluate --from after the data says where the data is (exit 2)', async () => {
    const r = await tickcast(['evaluate', '--data', dir, '--from', '2099-01-01']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--from 2099-01-01: outside the data (${range}): give days within it`);
    expect(r.stdout).toBe('');
  });

  it('evaluate --from after --to says --from must come first, before reading any data (exit 2)', async () => {
    const r = await tickcast(['evaluate', '--data', dir, '--from', '2018-01-01', '--to', '2017-01-01']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--from 2018-01-01 is after --to 2017-01-01: --from must come before --to');
    const byDefault = await tickcast(['evaluate', '--data', dir, '--to', '2016-12-30']);
    expect(byDefault.stderr).toContain('--from 2017-02-08 is after --to 2016-12-30');
  });

  it("evaluate --horizon 21 from the data's last days: no 21-day return is realised yet (exit 2)", async () => {
    const r = await tickcast(['evaluate', '--data', dir, '--from', '2018-01-29', '--horizon', '21']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `--from 2018-01-29: no 21-day return is realised in it (${range}): give an earlier --from or a shorter --horizon`,
    );
  });

  it('calibration refuses the same windows (exit 2)', async () => {
    const late = await tickcast(['calibration', '--data', dir, '--from', '2099-01-01']);
    expect(late.code).toBe(2);
    expect(late.stderr).toContain(`--from 2099-01-01: outside the data (${range}): give days within it`);
    const early = await tickcast(['calibration', '--data', dir, '--from', '2010-01-04', '--to', '2012-12-31']);
    expect(early.code).toBe(2);
    expect(early.stderr).toContain(`--from 2010-01-04 --to 2012-12-31: outside the data (${range})`);
    const reversed = await tickcast(['calibration', '--data', dir, '--from', '2018-01-01', '--to', '2017-01-01']);
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toContain('--from 2018-01-01 is after --to 2017-01-01: --from must come before --to');
  });
});
