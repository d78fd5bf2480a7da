import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadShipped } from './shipped.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('loadShipped: the net whose median is the predictions rankScore', () => {
  it('is the net behind the shipped pair, the same as `ranking` where constant points replace its median', async () => {
    const shipped = (await loadShipped())!;
    expect(shipped.manifest.points?.some((p) => p.point !== 'net')).toBe(true);
    expect(shipped.net).not.toBeNull();
    expect(shipped.net).toBe(shipped.ranking);
    expect(shipped.net!.name).toBe(shipped.manifest.normal.name);
    expect(shipped.net!.horizons).toEqual(shipped.normal.horizons);
  });

  it('is null when a baseline ships: there is no net to rank by', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipped-'));
    dirs.push(dir);
    const manifest = {
      normal: { name: 'persistence', version: '1' },
      earningsIntervalScale: 1.2,
      horizons: [1, 5],
      featureSpec: 'basic@test',
    };
    writeFileSync(join(dir, 'shipped.json'), JSON.stringify(manifest));
    const shipped = (await loadShipped(dir))!;
    expect(shipped.normal.name).toBe('persistence');
    expect(shipped.net).toBeNull();
    expect(shipped.ranking).toBeNull();
  });
});
