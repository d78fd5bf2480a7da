// The bundle `tickcast run` starts from (bin/run-bundle.js), by example: built once, reused while
// its files are unchanged, rebuilt when one changes, each file keeping its own import.meta.url,
// and null (run through tsx) when the sources do not compile or a pipeline file is given.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleServes, runBundle } from './run-bundle.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(): { src: string; cacheDir: string; entry: string } {
  const src = mkdtempSync(join(tmpdir(), 'run-bundle-'));
  dirs.push(src);
  writeFileSync(join(src, 'main.ts'), "export { where, version } from './lib/where.ts';\n");
  return { src, cacheDir: join(src, 'cache'), entry: join(src, 'main.ts') };
}

/** lib/where.ts at `version`: its size changes with it, as an edit's would. */
function writeLib(src: string, version: number): void {
  mkdirSync(join(src, 'lib'), { recursive: true });
  writeFileSync(
    join(src, 'lib/where.ts'),
    `export const where: string = import.meta.url;\nexport const version = ${version};\n`,
  );
}

describe('runBundle', () => {
  it('builds once, reuses while unchanged, rebuilds after a change; files keep their own import.meta.url', async () => {
    const { src, cacheDir, entry } = project();
    writeLib(src, 1);
    const first = await runBundle({ entry, cacheDir });
    expect(first).not.toBeNull();
    const m1 = (await import(first!)) as { where: string; version: number };
    expect(m1.where).toBe(pathToFileURL(join(src, 'lib/where.ts')).href);
    expect(m1.version).toBe(1);
    expect(await runBundle({ entry, cacheDir })).toBe(first);
    writeLib(src, 22);
    const second = await runBundle({ entry, cacheDir });
    expect(second).not.toBe(first);
    expect(((await import(second!)) as { version: number }).version).toBe(22);
  });

  it('gives null when the sources do not compile: the run goes through tsx, which reports it', async () => {
    const { src, cacheDir, entry } = project();
    writeLib(src, 1);
    writeFileSync(join(src, 'lib/where.ts'), 'export const = ;\n');
    expect(await runBundle({ entry, cacheDir })).toBeNull();
  });

  it('serves processes starting at once: each gets a whole bundle', async () => {
    const { src, cacheDir, entry } = project();
    writeLib(src, 3);
    const urls = await Promise.all([1, 2, 3].map(() => runBundle({ entry, cacheDir })));
    for (const url of urls) expect(((await import(url!)) as { version: number }).version).toBe(3);
  });
});

describe('bundleServes', () => {
  it('is `run` with a pipeline known by name, unless TICKCAST_BUNDLE=off', () => {
    expect(bundleServes(['run'], {})).toBe(true);
    expect(bundleServes(['run', '--pipeline', 'sma-cross'], {})).toBe(true);
    expect(bundleServes(['run'], { TICKCAST_PIPELINE: 'price-prediction' })).toBe(true);
    expect(bundleServes(['run'], { TICKCAST_BUNDLE: 'off' })).toBe(false);
    expect(bundleServes(['dag'], {})).toBe(false);
  });

  it('is not a pipeline given as a file: it imports the app sources, which must be the ones running', () => {
    expect(bundleServes(['run', '--pipeline', './my-pipeline.ts'], {})).toBe(false);
    expect(bundleServes(['run', '--pipeline=pipelines/x.ts'], {})).toBe(false);
    expect(bundleServes(['run'], { TICKCAST_PIPELINE: 'my.ts' })).toBe(false);
  });
});
