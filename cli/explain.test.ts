// `tickcast explain` reads the stores a run wrote: a database file that is not there is the
// user's mistake to name (exit 2), and is not created.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tickcast } from '../test/support/cli-in-process.js';
import { freePort } from '../test/support/free-port.js';

describe('tickcast explain without a database', () => {
  it('--db naming a file that does not exist: says so and what to do, creates nothing (exit 2)', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'tickcast-explain-')), 'nosuch.duckdb');
    const r = await tickcast(['explain', 'AAPL', '--db', db], { TICKCAST_NEWS: 'none' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no such database file: ${db} (run \`tickcast run\` first or pass --db)`);
    expect(r.stderr).not.toContain('unknown symbol');
    expect(existsSync(db)).toBe(false);
  });

  it('no server running and TICKCAST_DB not written yet: the same message (exit 2)', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'tickcast-explain-')), 'tickcast.duckdb');
    const r = await tickcast(['explain', 'AAPL'], { TICKCAST_DB: db, TICKCAST_PORT: String(await freePort()) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no such database file: ${db} (run \`tickcast run\` first or pass --db)`);
    expect(existsSync(db)).toBe(false);
  });
});
