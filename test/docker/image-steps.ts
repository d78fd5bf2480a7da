// `npm run test:docker`: the Docker image's steps without Docker (no engine runs here).
//
// Reads the Dockerfile and performs, in order, in a fresh temporary folder (one sub-folder per
// stage, standing for its file system), what it can: COPY from the build context (the git-tracked
// files minus .dockerignore, what a clean clone sends) or from an earlier stage, WORKDIR, ENV, and
// RUN lines made of npm/npx/node commands with their `NAME=value` prefixes. apt-get lines are
// skipped (this machine has the packages; it says so), and the runtime stage's apt packages are
// checked against the shared libraries the built Kafka client links to. Any instruction it does not
// understand fails the run, so an edited Dockerfile is followed or refused, never half-tested.
// As root (CI), COPY --chown and USER are performed too: the app runs as the image's uid (node:
// 1000) and can write only where the Dockerfile gave it ownership.
// Then it starts the last stage's ENTRYPOINT + CMD on a free port and checks that `/` serves the
// built dashboard (its script is served too), that POST /graphql answers, that no devDependency is
// installed and that the Kafka client loads; it stops the app with SIGTERM, as `docker stop` does.
// Progress lines, then one JSON line with the step timings. Exit code 1 when a check fails. The
// temporary folder and every process are removed, on failure too (TICKCAST_DOCKER_KEEP=1 keeps
// the folder to look at).
//
// The context is the working tree's tracked files (a clean clone in CI); `--ref REF` takes the
// Dockerfile and every file from a commit or tree instead (`-- --ref HEAD`: what was committed,
// whatever is being edited).
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { configSchema } from '../../cli/config.js';
import { freePort } from '../support/free-port.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REF = process.argv.includes('--ref') ? process.argv[process.argv.indexOf('--ref') + 1] : undefined;
const STEP_TIMEOUT_MS = 30 * 60_000;
const START_TIMEOUT_MS = 180_000;
/** `docker stop` sends SIGTERM, then SIGKILL after 10 s. */
const STOP_GRACE_MS = 10_000;
/** Libraries of every node:*-bookworm-slim image (Node itself links them). */
const BASE_PACKAGES = new Set(['libc6', 'libstdc++6', 'libgcc-s1']);
const KAFKA = 'node_modules/@confluentinc/kafka-javascript';

class StepError extends Error {}

/** As root, COPY --chown and USER are performed (ownership, and the app runs as that uid). */
const AS_ROOT = process.getuid?.() === 0;

interface Owner {
  uid: number;
  gid: number;
  home: string;
}

/** The ids a Dockerfile user names: the node images' `node` is 1000:1000 (home /home/node). */
function imageUser(spec: string, where: string): Owner {
  const [user, group] = spec.split(':');
  const id = (name: string) => (name === 'node' ? 1000 : name === 'root' ? 0 : /^\d+$/.test(name) ? Number(name) : NaN);
  const uid = id(user ?? '');
  const gid = group === undefined ? uid : id(group);
  if (Number.isNaN(uid) || Number.isNaN(gid)) {
    throw new StepError(`${where}: user "${spec}" is unknown here (node, root, or numeric ids)`);
  }
  return { uid, gid, home: user === 'node' ? '/home/node' : user === 'root' ? '/root' : '/' };
}

function chownAll(paths: string[], owner: Owner): void {
  for (let i = 0; i < paths.length; i += 500) {
    execFileSync('chown', ['-R', '-h', `${owner.uid}:${owner.gid}`, ...paths.slice(i, i + 500)]);
  }
}

interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

interface Stage {
  index: number;
  name: string;
  image: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
  aptPackages: string[];
}

const timings: Array<{ step: string; ms: number }> = [];
let running: ChildProcess | null = null;
let tmp: string | null = null;

function log(message: string): void {
  console.log(`test:docker: ${message}`);
}

async function timed<T>(step: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings.push({ step, ms: Math.round(performance.now() - t0) });
  }
}

// ---------------------------------------------------------------- Dockerfile and build context

/** Instructions with their first line; comments, parser directives and continuations handled. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('#') || (buf === '' && line === '')) return;
    if (buf === '') start = i + 1;
    if (line.endsWith('\\')) {
      buf += `${line.slice(0, -1)} `;
      return;
    }
    buf += line;
    const m = /^([A-Za-z]+)\s+(.+)$/s.exec(buf.trim());
    if (!m) throw new StepError(`Dockerfile:${start}: cannot read "${buf.trim()}"`);
    out.push({ line: start, keyword: m[1]!.toUpperCase(), args: m[2]!.trim() });
    buf = '';
  });
  if (buf !== '') throw new StepError(`Dockerfile:${start}: ends inside a continued line`);
  return out;
}

/** A .dockerignore pattern as Docker reads it: anchored at the context root, `**` any depth. */
function ignoreRegex(pattern: string): RegExp {
  const p = posix.normalize(pattern.replace(/^\/+/, ''));
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*' && p[i + 1] === '*') {
      i++;
      if (p[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[' || c === '\\')
      throw new StepError(`.dockerignore: "${pattern}": [ and \\ are not supported here`);
    else re += c.replace(/[.+^${}()|]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** What a clean clone's `docker build .` sends: the git-tracked files, minus .dockerignore. */
function buildContext(root: string, ref?: string): string[] {
  const rules = existsSync(join(root, '.dockerignore'))
    ? readFileSync(join(root, '.dockerignore'), 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => ({ keep: l.startsWith('!'), re: ignoreRegex(l.replace(/^!/, '')) }))
    : [];
  const list = ref ? ['ls-tree', '-r', '--name-only', '-z', ref] : ['ls-files', '-z'];
  const files = execFileSync('git', list, { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  return files.filter((file) => {
    // A pattern that matches a parent folder excludes what is under it; the last match decides.
    const paths = file.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) if (paths.some((p) => rule.re.test(p))) excluded = !rule.keep;
    // A tracked file deleted in the working tree is not in a clone made after that commit.
    return !excluded && existsSync(join(root, file));
  });
}

/** Shell words of one command: quotes and backslashes; any other shell syntax is refused. */
function shellWords(text: string, where: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else if (c === '$' && quote === '"') throw new StepError(`${where}: $ expansion is not performed here`);
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if ('|;&<>$`(){}*?~#'.includes(c)) {
      throw new StepError(
        `${where}: shell syntax "${c}" is not performed here (npm/npx/node commands joined by && only)`,
      );
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new StepError(`${where}: unclosed quote`);
  if (inWord) words.push(cur);
  return words;
}

function execForm(args: string, where: string): string[] {
  try {
    const list = JSON.parse(args) as unknown;
    if (Array.isArray(list) && list.every((s) => typeof s === 'string')) return list;
  } catch {}
  throw new StepError(`${where}: only the exec form (a JSON list of strings) is performed here`);
}

// ---------------------------------------------------------------- processes

/** The environment of a fresh image: this machine's PATH (minus npm's node_modules/.bin entries),
 * HOME (the npm cache) and network settings, without npm's variables or any tickcast setting. */
function cleanEnv(): Record<string, string> {
  const drop = new Set([...Object.keys(configSchema.shape), 'INIT_CWD', 'NODE_ENV', 'NODE_OPTIONS']);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || drop.has(k) || /^(npm_|TICKCAST_)/i.test(k)) continue;
    env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((p) => p !== '' && !p.includes('node_modules'))
    .join(':');
  return env;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {}
}

/** Runs one command (its own process group), keeping the tail of its output for a failure. */
async function runCommand(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  where: string,
  as?: Owner,
): Promise<void> {
  const ids = as ? { uid: as.uid, gid: as.gid } : {};
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, ...ids, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running = child;
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STEP_TIMEOUT_MS);
  const result = await new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  running = null;
  if (result.code !== 0) {
    const tail = output.trimEnd().split('\n').slice(-30).join('\n');
    const why = result.error?.message ?? (result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`);
    throw new StepError(`${where}: \`${argv.join(' ')}\` failed (${why}); its output ends:\n${tail}`);
  }
}

// ---------------------------------------------------------------- instructions

function stagePath(stage: Stage, path: string): string {
  return join(stage.root, posix.resolve(stage.workdir, path));
}

/** The stage's USER: as root here, its ids and HOME (made in the stage, as the base image has it);
 * and the stage's own /tmp, so that nothing is left in this machine's. */
async function runAs(stage: Stage, where: string): Promise<{ env: Record<string, string>; as?: Owner }> {
  const tmpDir = join(stage.root, 'tmp');
  if (!existsSync(tmpDir)) {
    await mkdir(tmpDir, { recursive: true });
    await chmod(tmpDir, 0o1777);
  }
  if (!stage.user || !AS_ROOT) return { env: { TMPDIR: tmpDir } };
  const as = imageUser(stage.user, where);
  const home = join(stage.root, as.home);
  if (!existsSync(home)) {
    await mkdir(home, { recursive: true });
    chownAll([home], as);
  }
  return { env: { TMPDIR: tmpDir, HOME: home }, as };
}

async function copyInstruction(
  ins: Instruction,
  where: string,
  stage: Stage,
  stages: Stage[],
  context: { root: string; files: string[] },
  later: Instruction[],
): Promise<void> {
  const words = shellWords(ins.args, where);
  const flags: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const m = /^--(from|chown|link)(?:=(.*))?$/.exec(words.shift()!);
    if (!m) throw new StepError(`${where}: COPY flag not performed here (--from, --chown and --link are)`);
    flags[m[1]!] = m[2] ?? '';
  }
  if (words.length < 2) throw new StepError(`${where}: COPY needs a source and a destination`);
  const dest = words.pop()!;
  const notes: string[] = [];
  const owner = flags.chown ? imageUser(flags.chown, where) : null;
  if (owner) notes.push(AS_ROOT ? `owned by ${owner.uid}:${owner.gid}` : '--chown not performed: not root here');
  const chown = (paths: string[]) => {
    if (owner && AS_ROOT) chownAll(paths, owner);
  };

  if (flags.from !== undefined) {
    const from = stages.find((s) => s.name === flags.from || String(s.index) === flags.from);
    if (!from || from === stage) throw new StepError(`${where}: no earlier stage named "${flags.from}"`);
    for (const src of words) {
      const source = join(from.root, posix.resolve(from.workdir, src));
      if (!existsSync(source)) throw new StepError(`${where}: ${src} does not exist in stage ${from.name}`);
      const target = stagePath(stage, dest);
      // The stage is not read again: moving gives the same tree as copying, without 1-2 GB of copy.
      const usedLater = later.some(
        (l) => l.keyword === 'COPY' && [from.name, String(from.index)].includes(/--from=(\S+)/.exec(l.args)?.[1] ?? ''),
      );
      const empty = !existsSync(target) || (lstatSync(target).isDirectory() && (await readdir(target)).length === 0);
      if (!usedLater && words.length === 1 && lstatSync(source).isDirectory() && empty) {
        if (existsSync(target)) await rmdir(target);
        await mkdir(dirname(target), { recursive: true });
        await rename(source, target);
        notes.push(`moved, as stage ${from.name} is not read again`);
        // What was copied, not the folder WORKDIR made (root's, as in Docker).
        chown((await readdir(target)).map((entry) => join(target, entry)));
      } else {
        // A folder's contents go into the destination; a file into it when it ends with "/".
        const to = lstatSync(source).isDirectory() || !dest.endsWith('/') ? target : join(target, basename(source));
        await mkdir(dirname(to), { recursive: true });
        await cp(source, to, { recursive: true, verbatimSymlinks: true, force: true });
        chown(lstatSync(source).isDirectory() ? (await readdir(source)).map((e) => join(to, e)) : [to]);
      }
    }
    log(`  ${from.name}:${words.join(' ')} → ${dest}${notes.length ? ` (${notes.join('; ')})` : ''}`);
    return;
  }

  const directoryDest = dest.endsWith('/') || words.length > 1;
  let count = 0;
  for (const src of words) {
    const rel = posix.normalize(src).replace(/\/$/, '');
    const files = rel === '.' ? context.files : context.files.filter((f) => f === rel || f.startsWith(`${rel}/`));
    if (files.length === 0) {
      throw new StepError(`${where}: ${src} is not in the build context (git-tracked files minus .dockerignore)`);
    }
    const isFile = files.length === 1 && files[0] === rel;
    for (const file of files) {
      const relative = isFile ? basename(file) : rel === '.' ? file : file.slice(rel.length + 1);
      const target = isFile && !directoryDest ? stagePath(stage, dest) : join(stagePath(stage, dest), relative);
      await mkdir(dirname(target), { recursive: true });
      await cp(join(context.root, file), target, { verbatimSymlinks: true, force: true });
      chown([target]);
      count++;
    }
  }
  log(`  ${count} file${count === 1 ? '' : 's'} from the build context${notes.length ? ` (${notes.join('; ')})` : ''}`);
}

async function runInstruction(ins: Instruction, where: string, stage: Stage): Promise<void> {
  if (ins.args.startsWith('[')) throw new StepError(`${where}: RUN in exec form is not performed here (shell form)`);
  const commands = ins.args.split(/\s*&&\s*/);
  const isApt = (c: string) => /^apt-get\s/.test(c) || c.trim() === 'rm -rf /var/lib/apt/lists/*';
  if (commands.some(isApt)) {
    if (!commands.every(isApt)) throw new StepError(`${where}: a RUN mixes apt-get with other commands`);
    const packages = commands
      .filter((c) => /^apt-get\s+install\s/.test(c))
      .flatMap((c) => c.split(/\s+/).slice(2))
      .filter((w) => !w.startsWith('-'));
    stage.aptPackages.push(...packages);
    log(`  skipped: apt-get (system packages; this machine has them): ${packages.join(' ')}`);
    return;
  }
  for (const command of commands) {
    const words = shellWords(command, where);
    const env: Record<string, string> = {};
    while (words[0] && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) {
      const w = words.shift()!;
      env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
    }
    if (!['npm', 'npx', 'node'].includes(words[0] ?? '')) {
      throw new StepError(`${where}: "${words[0]}" is not performed here (npm, npx, node, and apt-get lines, are)`);
    }
    const { env: userEnv, as } = await runAs(stage, where);
    await runCommand(words, stagePath(stage, '.'), { ...cleanEnv(), ...userEnv, ...stage.env, ...env }, where, as);
  }
}

function envInstruction(ins: Instruction, where: string, stage: Stage): void {
  const words = shellWords(ins.args, where);
  if (!words[0]?.includes('=')) {
    stage.env[words[0] ?? ''] = words.slice(1).join(' ');
    return;
  }
  for (const w of words) {
    if (!w.includes('=')) throw new StepError(`${where}: ENV expects NAME=value pairs`);
    stage.env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
  }
}

/** Performs the Dockerfile's instructions in `dir`; returns the stages, the last one the image. */
async function performDockerfile(
  instructions: Instruction[],
  dir: string,
  context: { root: string; files: string[] },
): Promise<Stage[]> {
  log(`build context: ${context.files.length} git-tracked files after .dockerignore`);
  const stages: Stage[] = [];
  for (const [i, ins] of instructions.entries()) {
    const where = `Dockerfile:${ins.line}`;
    const label = `${ins.keyword} ${ins.args}`.replace(/\s+/g, ' ');
    const stage = stages.at(-1);
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m || m[1]!.startsWith('--')) throw new StepError(`${where}: FROM <image> [AS <name>] only`);
      if (stages.some((s) => s.name === m[1]))
        throw new StepError(`${where}: FROM an earlier stage is not performed here`);
      const index = stages.length;
      const name = m[2] ?? String(index);
      const root = join(dir, `stage-${index}-${name}`);
      await mkdir(root, { recursive: true });
      stages.push({ index, name, image: m[1]!, root, workdir: '/', env: {}, aptPackages: [] });
      log(`stage ${name}: FROM ${m[1]} (a fresh folder; the steps run on this machine's Node ${process.version})`);
      continue;
    }
    if (!stage) throw new StepError(`${where}: ${ins.keyword} before FROM`);
    const step = `${stage.name}: ${label}`;
    switch (ins.keyword) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, ins.args);
        await mkdir(stagePath(stage, '.'), { recursive: true });
        break;
      case 'ENV':
        envInstruction(ins, where, stage);
        break;
      case 'USER':
        stage.user = ins.args;
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(ins.args, where);
        // Docker resets CMD when ENTRYPOINT is set after it.
        stage.cmd = undefined;
        break;
      case 'CMD':
        stage.cmd = execForm(ins.args, where);
        break;
      case 'LABEL':
      case 'EXPOSE':
        break;
      case 'COPY':
        log(`${step}`);
        await timed(step, () => copyInstruction(ins, where, stage, stages, context, instructions.slice(i + 1)));
        continue;
      case 'RUN':
        log(`${step}`);
        await timed(step, () => runInstruction(ins, where, stage));
        continue;
      default:
        throw new StepError(
          `${where}: ${ins.keyword} is not performed by test/docker/image-steps.ts: teach it there, or change the Dockerfile`,
        );
    }
    log(`${step}`);
  }
  if (stages.length === 0) throw new StepError('Dockerfile: no FROM');
  return stages;
}

// ---------------------------------------------------------------- checks

function check(ok: boolean, message: string): void {
  if (!ok) throw new StepError(`check failed: ${message}`);
  log(`  ok: ${message}`);
}

/** Every stage runs the same Node major (native modules are built for it), one `engines` admits. */
function checkNodeImages(stages: Stage[], engines: string): void {
  const majors = stages.map((s) => /^node:(\d+)/.exec(s.image)?.[1]);
  if (majors.some((m) => m === undefined)) throw new StepError('a stage is not FROM node:<major>…');
  check(new Set(majors).size === 1, `every stage is FROM node:${majors[0]} (the native modules need the build's Node)`);
  check(semver.intersects(`${majors[0]}.x`, engines), `Node ${majors[0]} is admitted by engines "${engines}"`);
}

/** The runtime stage installs a package for each shared library the Kafka client links to. */
function checkRuntimeLibraries(app: string, stage: Stage): void {
  const dirs = [join(app, KAFKA, 'build/Release'), join(app, KAFKA, 'build/deps')];
  const elves = dirs.flatMap((d) =>
    existsSync(d)
      ? readdirSync(d)
          .filter((f) => /\.(node|so(\.\d+)*)$/.test(f))
          .map((f) => join(d, f))
      : [],
  );
  const missingTool = ['readelf', 'ldd', 'dpkg'].find((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missingTool) {
    log(`  skipped: the runtime libraries check (needs readelf, ldd and dpkg; ${missingTool} is missing)`);
    return;
  }
  // The libraries each file names itself (NEEDED), where this machine (Debian, as the image) finds
  // them (ldd), and the package that ships each (dpkg -S): what apt must install at run time.
  const bundled = new Set(elves.map((f) => basename(f)));
  const needed = new Map<string, { by: string; path?: string }>();
  for (const file of elves) {
    const dynamic = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
    const resolved = execFileSync('ldd', [file], { encoding: 'utf8' });
    for (const m of dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)) {
      const soname = m[1]!;
      if (bundled.has(soname) || needed.has(soname)) continue;
      const path = resolved.split('\n').find((l) => l.trim().startsWith(`${soname} => /`));
      needed.set(soname, { by: basename(file), path: path?.split(' => ')[1]?.split(' (')[0] });
    }
  }
  const installed = new Set([...BASE_PACKAGES, ...stage.aptPackages]);
  const missing: string[] = [];
  const used = new Set<string>();
  for (const [soname, { by, path }] of needed) {
    // ld.so itself is part of libc6, and /lib is /usr/lib on merged-/usr systems (dpkg knows one).
    const candidates = path ? [path, path.replace(/^\/lib/, '/usr/lib'), realpathSync(path)] : [];
    const owner = candidates
      .map((c) => spawnSync('dpkg', ['-S', c], { encoding: 'utf8' }))
      .find((r) => r.status === 0)
      ?.stdout.split(':')[0];
    if (!owner) {
      if (!soname.startsWith('ld-linux')) missing.push(`${soname} (needed by ${by}; no Debian package ships it here)`);
      continue;
    }
    used.add(owner);
    if (!installed.has(owner)) missing.push(`${owner} (${soname}, needed by ${by})`);
  }
  check(
    missing.length === 0,
    missing.length === 0
      ? `the runtime stage installs every library the Kafka client links to (${[...used].sort().join(', ')})`
      : `the runtime stage lacks: ${missing.join('; ')}`,
  );
  const extra = stage.aptPackages.filter((p) => !used.has(p));
  if (extra.length > 0) log(`  note: the runtime stage also installs ${extra.join(', ')}`);
}

function checkNoDevDependencies(app: string): void {
  const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const dev = Object.entries(lock.packages)
    .filter(([path, p]) => path !== '' && p.dev === true)
    .map(([path]) => path);
  const present = dev.filter((path) => existsSync(join(app, path)));
  check(
    present.length === 0 && !existsSync(join(app, 'node_modules/vite')),
    present.length === 0
      ? `none of the lock's ${dev.length} dev-only packages is installed (vite, vitest, typescript absent)`
      : `dev-only packages installed: ${present.slice(0, 10).join(', ')}${present.length > 10 ? ', …' : ''}`,
  );
}

/** Starts the image's command; resolves with the server's URL from its "GraphQL on" line. */
async function startImage(argv: string[], cwd: string, env: Record<string, string>, as?: Owner): Promise<string> {
  const ids = as ? { uid: as.uid, gid: as.gid } : {};
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd,
    env,
    ...ids,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running = child;
  let stderr = '';
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(`no "GraphQL on" line within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    function fail(why: string) {
      clearTimeout(timer);
      reject(
        new StepError(
          `${argv.join(' ')}: ${why}; its stderr ends:\n${stderr.trimEnd().split('\n').slice(-30).join('\n')}`,
        ),
      );
    }
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-20_000);
      const m = /GraphQL on (http:\/\/\S+)\/graphql/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('error', (e) => fail(e.message));
    child.on('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before serving`));
  });
}

async function checkServer(url: string, app: string): Promise<void> {
  const index = await fetch(`${url}/`);
  const html = await index.text();
  const built = readFileSync(join(app, 'ui/dist/index.html'), 'utf8');
  check(
    index.status === 200 && !html.includes('dashboard is not built') && html === built,
    `GET / is the built dashboard (ui/dist/index.html, ${html.length} bytes; HTTP ${index.status})`,
  );
  const script = /<script[^>]+src="(?:\.?\/)?(assets\/[^"]+\.js)"/.exec(html)?.[1];
  if (!script) throw new StepError('GET /: the page names no assets/*.js script');
  const asset = await fetch(`${url}/${script}`);
  const js = await asset.text();
  check(
    asset.status === 200 && /javascript/.test(asset.headers.get('content-type') ?? '') && js.length > 0,
    `GET /${script}: HTTP ${asset.status}, ${asset.headers.get('content-type')}, ${js.length} bytes`,
  );
  const graphql = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  const body = (await graphql.json().catch(() => null)) as { data?: { __typename?: string } } | null;
  check(
    graphql.status === 200 && body?.data?.__typename === 'Query',
    `POST /graphql { __typename }: HTTP ${graphql.status}, ${JSON.stringify(body)}`,
  );
}

/** SIGTERM, as `docker stop`; returns how it ended. */
async function stopImage(): Promise<string> {
  const child = running;
  if (!child || child.exitCode !== null || child.signalCode !== null) return 'already exited';
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit code ${code}`)),
  );
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_GRACE_MS);
  const how = await exited;
  clearTimeout(timer);
  running = null;
  return how;
}

// ---------------------------------------------------------------- main

async function cleanup(): Promise<void> {
  if (running) {
    killGroup(running, 'SIGKILL');
    running = null;
  }
  if (tmp && process.env.TICKCAST_DOCKER_KEEP === '1') log(`kept ${tmp}`);
  else if (tmp) await rm(tmp, { recursive: true, force: true, maxRetries: 3 });
  tmp = null;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  tmp = await mkdtemp(join(tmpdir(), 'tickcast-image-'));
  await chmod(tmp, 0o755);
  let root = ROOT;
  if (REF) {
    // The committed files as they are (git archive), beside the stages.
    root = join(tmp, 'context');
    await mkdir(root);
    execFileSync('sh', ['-c', 'git archive --format=tar "$0" | tar -x -C "$1"', REF, root], { cwd: ROOT });
    log(`context: ${REF} (git archive), not the working tree`);
  }
  const context = { root, files: buildContext(root, REF) };
  const instructions = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } })
    .engines.node;
  log(`Dockerfile: ${instructions.length} instructions, performed in ${tmp}`);

  const stages = await performDockerfile(instructions, tmp, context);
  const image = stages.at(-1)!;
  const app = stagePath(image, '.');
  const argv = [...(image.entrypoint ?? []), ...(image.cmd ?? [])];
  if (argv.length === 0) throw new StepError('Dockerfile: the last stage has no ENTRYPOINT or CMD');

  log('checks of the image folder');
  checkNodeImages(stages, engines);
  checkNoDevDependencies(app);
  check(existsSync(join(app, 'ui/dist/index.html')), 'ui/dist/index.html is in the image');
  check(existsSync(join(app, KAFKA)), 'the Kafka client (an optional dependency) was built and kept');
  const user = await runAs(image, 'Dockerfile: USER');
  await timed('kafka client loads', () =>
    runCommand(
      ['node', '--input-type=module', '-e', "await import('@confluentinc/kafka-javascript')"],
      app,
      { ...cleanEnv(), ...user.env, ...image.env },
      'the Kafka client',
      user.as,
    ),
  );
  log('  ok: the Kafka client loads');
  checkRuntimeLibraries(app, image);

  const port = await freePort();
  const env = {
    ...cleanEnv(),
    ...user.env,
    ...image.env,
    TICKCAST_HOST: '127.0.0.1',
    TICKCAST_PORT: String(port),
    // Quick: no headline embedding and no explanation path; the replay and the API run as usual.
    TICKCAST_NEWS: 'none',
    TICKCAST_EXPLAIN: 'off',
  };
  log(
    `start: ${argv.join(' ')} in ${image.workdir} on 127.0.0.1:${port}` +
      (image.user
        ? user.as
          ? ` as uid ${user.as.uid}:${user.as.gid} (USER ${image.user})`
          : ` as this machine's user (USER ${image.user} needs root here)`
        : ''),
  );
  const url = await timed('start until "GraphQL on"', () => startImage(argv, app, env, user.as));
  check(url === `http://127.0.0.1:${port}`, `it serves on ${url}`);
  await timed('HTTP checks', () => checkServer(url, app));
  const how = await timed('SIGTERM until exit', () => stopImage());
  check(how === 'exit code 0', `SIGTERM: ${how} within ${STOP_GRACE_MS / 1000} s (docker stop's grace period)`);
  await timed('remove the folder', cleanup);
  log('passed');
  console.log(
    JSON.stringify({ ok: true, node: process.version, totalMs: Math.round(performance.now() - t0), timings }),
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (e) {
  console.error(`test:docker: FAILED: ${e instanceof StepError ? e.message : (e as Error).stack}`);
  await cleanup();
  console.log(JSON.stringify({ ok: false, node: process.version, timings }));
  process.exitCode = 1;
}
