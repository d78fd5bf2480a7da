// package.json's `engines` is a promise: every Node version it admits is one that every installed
// package admits too (npm only warns about a mismatch, in a log few read). graphql-yoga's newest
// helpers require Node 22.15, so `overrides` pins the releases before them (see the README).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

describe('engines', () => {
  it('admits only Node versions that every installed package supports', () => {
    const ours = pkg.engines.node;
    const narrower: string[] = [];
    for (const [path, p] of Object.entries(lock.packages)) {
      // Packages for other platforms (sharp's win32 builds, …) are not installed here.
      if (path === '' || !existsSync(join(ROOT, path))) continue;
      const theirs = Array.isArray(p.engines) ? undefined : p.engines?.node;
      if (theirs && !semver.subset(ours, theirs)) narrower.push(`${path}@${p.version}: node ${theirs}`);
    }
    expect(narrower, `engines.node is "${ours}"`).toEqual([]);
  });

  it('is satisfied by the Node running the tests', () => {
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
  });
});

describe('tools/svelte-check', () => {
  it('checks the components with the svelte the dashboard is built with', () => {
    const tool = JSON.parse(readFileSync(join(ROOT, 'tools/svelte-check/package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const svelte = lock.packages['node_modules/svelte']?.version;
    expect(tool.devDependencies.svelte).toBe(svelte);
  });
});
