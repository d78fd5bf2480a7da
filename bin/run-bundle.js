// `tickcast run` starts from the app's TypeScript bundled by esbuild and cached, not through tsx's
// loader hooks. With the hooks registered, every module the process loads (the packages too:
// TensorFlow.js and graphql-yoga are hundreds of files) makes a round trip to the hooks' thread;
// without them, a start answered /healthz `ok` after 1.76 s instead of 2.38 s (medians of 5 starts
// each, alternated, 2 cores, load average ~1), and the soak's restart window is mostly that start. There is still no
// build step to remember: the bundle is rebuilt (~0.3 s) whenever a file it was built from has
// changed (size or mtime), and anything that cannot use it runs through tsx as before.
//
// The bundle keeps what tsx gave each file: `import.meta.url` is the file's own URL (the app finds
// data, models and workers next to its sources), packages are imported from node_modules as they
// are, and each lazily imported module is its own chunk, loaded when it is first needed.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Bumped when the way a bundle is built changes: bundles of another version are not reused. */
const FORMAT = 1;
/** Older bundles are removed after this long (a process started from one may still load its chunks). */
const KEEP_MS = 24 * 3_600_000;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Whether this command line can run from the bundle: `run` with a pipeline the app knows by name.
 * A pipeline given as a file imports the app's sources itself (engine, operators, schemas): those
 * must be the same module instances the app runs, so such a run goes through tsx.
 */
export function bundleServes(argv, env) {
  if (argv[0] !== 'run' || env.TICKCAST_BUNDLE === 'off') return false;
  const at = argv.findIndex((a) => a === '--pipeline' || a.startsWith('--pipeline='));
  const flag = at < 0 ? undefined : argv[at].includes('=') ? argv[at].slice(argv[at].indexOf('=') + 1) : argv[at + 1];
  const pipeline = flag ?? env.TICKCAST_PIPELINE ?? '';
  return !/[/\\.]/.test(pipeline);
}

/**
 * The URL of `entry` (a path under the project) bundled with everything of the project it imports, from
 * `cacheDir` when no file it was built from has changed since, else built there first. Null when it
 * cannot be built (no esbuild, a file that does not compile): the caller runs the sources through
 * tsx, which then reports any error as it always did.
 */
export async function runBundle({
  entry = join(ROOT, 'cli/main.ts'),
  cacheDir = join(ROOT, 'node_modules/.cache/tickcast/run'),
} = {}) {
  const current = join(cacheDir, 'current.json');
  const built = readJson(current);
  if (built && built.format === FORMAT && built.entry === entry && unchanged(built.inputs)) {
    return pathToFileURL(join(cacheDir, built.dir, 'main.mjs')).href;
  }
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return null;
  }
  // Built aside and published by a rename: processes starting at once never read half a bundle.
  const dir = `build-${process.pid}-${Date.now()}`;
  const out = join(cacheDir, dir);
  try {
    mkdirSync(cacheDir, { recursive: true });
    const result = await esbuild.build({
      entryPoints: { main: entry },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0]}`,
      splitting: true,
      outdir: out,
      outExtension: { '.js': '.mjs' },
      packages: 'external',
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'silent',
      plugins: [ownUrls],
    });
    const inputs = Object.keys(result.metafile.inputs).map((p) => resolve(p));
    const record = { format: FORMAT, entry, dir, inputs: inputs.map((p) => [p, ...stamp(p)]) };
    const tmp = `${current}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(record));
    renameSync(tmp, current);
    prune(cacheDir, dir);
    return pathToFileURL(join(out, 'main.mjs')).href;
  } catch {
    rmSync(out, { recursive: true, force: true });
    return null;
  }
}

/** Each TypeScript file with `import.meta.url` as its own URL, not the bundle's. */
const ownUrls = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: 'ts',
    }));
  },
};

function stamp(path) {
  const s = statSync(path);
  return [s.size, s.mtimeMs];
}

function unchanged(inputs) {
  try {
    return inputs.every(([path, size, mtimeMs]) => {
      const [s, m] = stamp(path);
      return s === size && m === mtimeMs;
    });
  } catch {
    return false; // a file gone
  }
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/** Bundles other than `keep` older than KEEP_MS. */
function prune(cacheDir, keep) {
  for (const name of readdirSync(cacheDir)) {
    if (!name.startsWith('build-') || name === keep) continue;
    const path = join(cacheDir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another process pruned it first.
    }
  }
}
