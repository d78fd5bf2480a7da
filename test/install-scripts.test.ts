// Dependencies' install scripts: package.json's `allowScripts` (npm >= 11.16) names every installed
// package that has one, so npm 11 does not warn that some are "not yet covered" and npm 12, which
// runs only the allowed ones, runs the same. Allowed: the Kafka client (it builds librdkafka's
// binding) and esbuild (it checks its platform binary). Denied: onnxruntime-node (a CUDA download
// from NuGet, below), core-js (a donation banner) and protobufjs (a version-scheme notice).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; hasInstallScript?: boolean }>;
};

/** allowScripts' verdict for a package: name-only or name@version keys; undefined when none names it. */
function verdict(name: string, version: string | undefined): boolean | undefined {
  const keys = Object.keys(pkg.allowScripts).filter((k) => k === name || k === `${name}@${version}`);
  if (keys.length === 0) return undefined;
  return keys.every((k) => pkg.allowScripts[k]); // a deny wins, as in npm
}

describe('install scripts', () => {
  it('allowScripts covers every package in the lockfile that has one', () => {
    const uncovered = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.hasInstallScript)
      .map(([path, p]) => ({ name: path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), ...p }))
      .filter((p) => verdict(p.name, p.version) === undefined)
      .map((p) => `${p.name}@${p.version}`);
    expect(uncovered).toEqual([]);
  });

  it('runs the Kafka client build', () => {
    expect(verdict('@confluentinc/kafka-javascript', undefined)).toBe(true);
  });

  it("skips onnxruntime-node's NuGet download on every npm: allowScripts (npm >= 11.16) and .npmrc (npm 10, 11.x)", () => {
    expect(verdict('onnxruntime-node', undefined)).toBe(false);
    // npm passes a project .npmrc key to install scripts as npm_config_<key with _ for ->.
    const npmrc = readFileSync(join(ROOT, '.npmrc'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#') && !l.startsWith(';'))
      .map((l) => l.split('=').map((s) => s.trim()) as [string, string]);
    const env = Object.fromEntries(npmrc.map(([k, v]) => [`npm_config_${k.replace(/-/g, '_').toLowerCase()}`, v]));
    // The script's own reading of it: false is "skip the download" (script/install.js exits).
    const { parseInstallFlag } = createRequire(join(ROOT, 'node_modules/onnxruntime-node/package.json'))(
      './script/install-utils.js',
    ) as { parseInstallFlag(): unknown };
    const saved = { ...process.env };
    try {
      for (const k of ['ONNXRUNTIME_NODE_INSTALL', 'ONNXRUNTIME_NODE_INSTALL_CUDA']) delete process.env[k];
      Object.assign(process.env, env);
      expect(parseInstallFlag()).toBe(false);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
