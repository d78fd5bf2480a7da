// The tickcast command as users run it: a real process, real files. What a process shows (exit
// codes as the shell sees them, signals, a parent going away, a run end to end); the commands'
// output and argument errors are tested in-process (cli/program.test.ts).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { freePort } from './support/free-port.js';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/tickcast.js');
const run = promisify(execFile);

async function tickcast(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Resolves once the child's output (`output()`, kept current by a listener added before this
 * one) holds `text`; rejects when the child exits first, or after `ms`. */
function said(child: ChildProcess, output: () => string, text: string, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.stderr!.off('data', check);
      child.off('exit', exited);
      if (err) reject(err);
      else resolve();
    };
    const check = () => {
      if (output().includes(text)) done();
    };
    const exited = () => done(new Error(`exited before saying "${text}": ${output()}`));
    const timer = setTimeout(() => done(new Error(`did not say "${text}" within ${ms} ms: ${output()}`)), ms);
    child.stderr!.on('data', check);
    child.once('exit', exited);
    check();
  });
}

/** A folder with the bundled Finviz headlines of `tickers` (real rows, unchanged). */
function newsFolder(dir: string, tickers: readonly string[]): string {
  const folder = join(dir, 'news');
  mkdirSync(folder);
  const [header, ...rows] = readFileSync(join(ROOT, 'data/news/finviz_headlines_2016_texas-ucf.csv'), 'utf8').split(
    '\n',
  );
  const kept = rows.filter((r) => tickers.includes(r.split(',').at(-1) ?? ''));
  writeFileSync(join(folder, 'finviz.csv'), `${[header, ...kept].join('\n')}\n`);
  return folder;
}

describe('tickcast CLI', () => {
  it('runs the SMA-cross example to the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-sma-'));
    // Explanations are on by default, but this pipeline explains nothing: no vector store opens
    // (so a Kafka run of it needs no Chroma).
    const r = await tickcast(['run', '--pipeline', 'sma-cross', '--until-end'], {
      TICKCAST_DB: join(dir, 'store.duckdb'),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sma-cross: finished/);
    expect(r.stdout).not.toMatch(/vector store/);
    expect(r.stdout).toMatch(/^sma-cross\s+ended\s+62,915\s+\d/m);
  });

  // Under npm (`npx tickcast`, `npm start`) a killed npm would leave tickcast orphaned: it stops.
  // Started directly (under nohup, a process manager) it keeps serving when its starter exits.
  it.each([
    ['through npm, stops', { npm_command: 'exec' }, false],
    ['directly (nohup), keeps running', {}, true],
  ] as const)('when the process that started it goes away: %s', async (_, npmEnv, keepsRunning) => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-orphan-'));
    // A shell stands in for the starter: it starts tickcast in the background, prints its pid, waits.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TICKCAST_PORT: '0',
      TICKCAST_EXPLAIN: 'off',
      TICKCAST_DB: join(dir, 'store.duckdb'),
      ...npmEnv,
    };
    if (!('npm_command' in npmEnv)) delete env.npm_command;
    const shell = spawn(
      'sh',
      ['-c', `"${process.execPath}" "${BIN}" run --pace 1s 2> "${join(dir, 'err')}" & echo $!; wait`],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const [first] = (await once(shell.stdout!, 'data')) as [Buffer];
    const pid = Number(first.toString().trim());
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      // Running: wait until it serves (its progress shows), then kill the shell, not tickcast. The
      // shell may not have opened its log yet when it prints the pid.
      const log = () => (existsSync(join(dir, 'err')) ? readFileSync(join(dir, 'err'), 'utf8') : '');
      await vi.waitFor(() => expect(log()).toContain('GraphQL on'), { timeout: 20_000, interval: 100 });
      expect(alive()).toBe(true);
      shell.kill('SIGKILL');
      if (keepsRunning) {
        // It checks once a second: three checks later it still serves.
        await new Promise((r) => setTimeout(r, 3500));
        expect(alive()).toBe(true);
        expect(log()).not.toContain('parent process exited');
      } else {
        // Not this process's child: no exit event reaches it; it checks for its parent once a second.
        await vi.waitFor(() => expect(alive()).toBe(false), { timeout: 15_000, interval: 100 });
        expect(log()).toContain('tickcast: parent process exited, stopping');
      }
    } finally {
      if (alive()) process.kill(pid, 'SIGKILL');
    }
  });

  it('a SIGTERM while it starts (the API already answering) stops it cleanly, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-early-term-'));
    const child = spawn(process.execPath, [BIN, 'run', '--pace', '1s'], {
      cwd: ROOT,
      env: { ...process.env, TICKCAST_PORT: '0', TICKCAST_EXPLAIN: 'off', TICKCAST_DB: join(dir, 'store.duckdb') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      // As `docker stop` does to a container that has just come up: at once, models still loading.
      if (err.includes('GraphQL on') && child.signalCode === null && !child.killed) child.kill('SIGTERM');
    });
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect({ code, signal }, err).toEqual({ code: 0, signal: null });
    expect(err).toContain('tickcast: SIGTERM, stopping');
  });

  it('runs to the end of the data, prints a summary and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-cli-'));
    mkdirSync(join(dir, 'csv'));
    for (const t of ['AAPL', 'KO', 'REGN']) {
      copyFileSync(join(ROOT, 'data/sp500-daily', `${t}_data.csv`), join(dir, 'csv', `${t}_data.csv`));
    }
    const env = {
      TICKCAST_DATA_DIR: join(dir, 'csv'),
      TICKCAST_DB: join(dir, 'store.duckdb'),
      TICKCAST_NEWS: newsFolder(dir, ['AAPL', 'KO', 'REGN']),
    };
    const r = await tickcast(['run', '--until-end'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/price-prediction: finished/);
    // 3 files of 1,259 rows, one REGN row with an empty cell: 3,776 bars, 3 horizons each.
    // Scored: all but each symbol's last 1 + 5 + 21 predictions, still pending (3 × 27 = 81).
    expect(r.stdout).toContain('store (duckdb): 3,776 bars, 11,328 predictions, 11,247 scored, 3 symbols');
    // Grouped by what went wrong, with the file and line of the first ones.
    expect(r.stdout).toMatch(/quotes\s+1\s+source: open is empty; high is empty; low is empty\s+REGN_data\.csv:588$/m);
    expect(r.stderr).toMatch(/progress: 3,776\/3,776 quotes through/);
    // 300 Finviz rows, 3 of them repeats: 297 headlines embedded, and a fact sheet per symbol at least.
    expect(r.stdout).toMatch(
      /vector store \(duckdb, transformers\.js:all-MiniLM-L6-v2@q8\): 297 headlines, \d+ fact sheets/,
    );

    // Then, with nothing running, `tickcast explain` reads the same files.
    const e = await tickcast(['explain', 'aapl', '--json'], env);
    expect(e.code, e.stderr).toBe(0);
    const explanation = JSON.parse(e.stdout) as {
      symbol: string;
      grounded: boolean;
      explainer: string;
      text: string;
      citations: Array<{ kind: string }>;
    };
    expect(explanation).toMatchObject({ symbol: 'AAPL', grounded: true, explainer: 'template' });
    expect(explanation.text).toMatch(/^The model expects AAPL to (rise|fall|stay about flat)/);
    expect(explanation.citations.some((c) => c.kind === 'fact')).toBe(true);
    const text = await tickcast(['explain', 'KO', '--horizon', '5'], env);
    expect(text.stdout).toMatch(/^KO, 5 trading days ahead/);
    expect(text.stdout).toMatch(/written by template; grounded/);
    const unknown = await tickcast(['explain', 'ZZZZ'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('tickcast: unknown symbol "ZZZZ": no data for it');
  });

  it('keeps serving /metrics and /healthz after the replay, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-serve-'));
    mkdirSync(join(dir, 'csv'));
    copyFileSync(join(ROOT, 'data/sp500-daily/KO_data.csv'), join(dir, 'csv/KO_data.csv'));
    const port = 41_000 + Math.floor(Math.random() * 2000);
    const child = spawn(process.execPath, [BIN, 'run'], {
      cwd: ROOT,
      env: {
        ...process.env,
        CI: 'true',
        TICKCAST_DATA_DIR: join(dir, 'csv'),
        TICKCAST_DB: join(dir, 's.duckdb'),
        TICKCAST_PORT: String(port),
        TICKCAST_NEWS: 'none',
      },
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    try {
      await said(child, () => stderr, 'replay finished', 90_000);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', store: { kind: 'duckdb', ok: true } });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('tickcast_records_in_total{node="store-bars"} 1259');
      // While it serves, `tickcast explain` asks it (the database file is the server's).
      const e = await tickcast(['explain', 'KO', '--json'], { TICKCAST_PORT: String(port) });
      expect(e.code, e.stderr).toBe(0);
      expect(JSON.parse(e.stdout)).toMatchObject({ symbol: 'KO', grounded: true, cached: false });
      const again = await tickcast(['explain', 'KO', '--json'], { TICKCAST_PORT: String(port) });
      expect(JSON.parse(again.stdout)).toMatchObject({ symbol: 'KO', cached: true });
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    expect(child.exitCode).toBe(0);
  });

  it('evaluates the shipped model against the baselines on held-out days, one JSON line last', async () => {
    const r = await tickcast(['evaluate', '--from', '2017-02-08', '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/persistence@1\s+normal/);
    expect(r.stdout).toMatch(/drift@1\s+normal/);
    expect(r.stdout).toMatch(/\(shipped\)\s+earnings/);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { [k: string]: unknown };
    expect(last).toMatchObject({ horizon: 1, n: expect.any(Number), maeRatio: expect.any(Number) });
    // Persistence is the yardstick: the ratio is the shipped MAE over persistence's on the same rows.
    expect(last.maeRatio as number).toBeCloseTo((last.mae as number) / (last.maePersistence as number), 5);
    expect(Object.keys(last)).toEqual(
      expect.arrayContaining(['mae', 'maePersistence', 'hitRate', 'rankIc', 'coverage80', 'earnings']),
    );
    // Against every baseline: the model's MAE ÷ the best one's on the same rows, and its rank IC's t.
    expect(r.stdout).toMatch(/constantDrift@1\s+normal/);
    expect(r.stdout).toContain('constantDrift: median 1-day log return');
    // The shipped 1-day median is constantDrift's (the net had no skill on validation): it has no
    // cross-section, so its rank IC is null and the net behind it reports the ranking.
    expect(last).toMatchObject({
      rankIcT: null,
      ranking: {
        model: expect.stringMatching(/^mlp@/),
        rankIcT: expect.any(Number),
        rankIcNonOverlapping: { every: 1, dates: expect.any(Number) },
        rankIcByYear: { 2017: { ic: expect.any(Number), t: expect.any(Number) } },
      },
      baselines: {
        persistence: { mae: last.maePersistence },
        constantDrift: { mae: expect.any(Number), maeRatio: expect.any(Number), hitRate: expect.any(Number) },
        alwaysUp: { hitRate: expect.any(Number) },
      },
      bestBaseline: expect.stringMatching(/^(persistence|drift|constantDrift)$/),
      earningsCoverage: 1, // every bundled ticker has earnings dates
    });
    const baselines = last.baselines as Record<string, { mae: number }>;
    const best = Math.min(...Object.values(baselines).flatMap((b) => (b.mae === undefined ? [] : [b.mae])));
    expect(last.skillVsBest as number).toBeCloseTo((last.mae as number) / best, 4);
  });

  it('replays the online interval calibration from the data start: coverage in its band at every horizon', async () => {
    const r = await tickcast(['calibration', '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/h21\s+normal\s+[\d,]+\s+[\d.]+%\s+[\d.]+%\s+78%–82%\s+ok/);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      groups: Array<{ horizon: number; regime: string; raw: number; calibrated: number; inBand: boolean }>;
      allInBand: boolean;
    };
    expect(last.groups.map((g) => `${g.horizon}:${g.regime}`)).toEqual([
      '1:earnings',
      '1:normal',
      '5:earnings',
      '5:normal',
      '21:earnings',
      '21:normal',
    ]);
    // The targets: 78–82% on normal days, 75–85% on earnings days, at h1, h5 and h21.
    for (const g of last.groups) {
      const [lo, hi] = g.regime === 'normal' ? [0.78, 0.82] : [0.75, 0.85];
      expect(g.calibrated, `${g.horizon}:${g.regime}`).toBeGreaterThanOrEqual(lo);
      expect(g.calibrated, `${g.horizon}:${g.regime}`).toBeLessThanOrEqual(hi);
    }
    // Off (η = 0), the models' own intervals: h21 normal falls outside its band.
    const off = await tickcast(['calibration', '--eta', '0', '--json']);
    const own = JSON.parse(off.stdout.trim().split('\n').at(-1)!) as typeof last;
    expect(own.allInBand).toBe(false);
    // Out of band fails the command (CI runs it), saying which groups.
    expect(off.code).toBe(1);
    expect(off.stderr).toMatch(
      /tickcast calibration: coverage out of band in \d+ of 6 groups: .*h21 normal [\d.]+% \(band 78\.0%–82\.0%\)/,
    );
  });

  it('says in one line which setting to change when the API cannot listen (exit 2, no stack trace)', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await tickcast(['run'], { TICKCAST_PORT: String(port), TICKCAST_EXPLAIN: 'off' });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`TICKCAST_PORT=${port}: port ${port} is in use (stop what holds it`);
      expect(r.stderr).not.toContain('Internal error emitted on the WebSocket server');
      expect(r.stderr).not.toMatch(/^\s+at /m);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });

  it('`run --help` prints the options and exits: the socket it listened on early is let go', async () => {
    const port = await freePort();
    const r = await tickcast(['run', '--help'], { TICKCAST_PORT: String(port) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: tickcast run');
    // Nothing is left listening there.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('a pipeline file Node would load as CommonJS is refused with what to rename, not a require(esm) cycle', async () => {
    // Kept outside the repo, with no package.json of "type": "module" above it.
    const dir = mkdtempSync(join(tmpdir(), 'tickcast-user-pipeline-'));
    const file = join(dir, 'my-pipeline.ts');
    writeFileSync(
      file,
      `export { smaCrossModule as pipeline } from ${JSON.stringify(join(ROOT, 'pipelines/sma-cross.ts'))};\n`,
    );
    const r = await tickcast(['run', '--pipeline', file, '--until-end'], { TICKCAST_EXPLAIN: 'off' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${file}: loaded as CommonJS (no package.json with "type": "module" above it): name it .mts`,
    );
  });

  it('refuses horizons the shipped model cannot serve, and a horizon given twice', async () => {
    const two = await tickcast(['run', '--until-end'], { TICKCAST_HORIZONS: '2' });
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/TICKCAST_HORIZONS=2: the shipped model \S+ forecasts 1, 5, 21 trading days, not 2/);
    const twice = await tickcast(['run', '--until-end'], { TICKCAST_HORIZONS: '1,1' });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('TICKCAST_HORIZONS="1,1": each horizon once');
  });

  it('refuses a bad configuration value (exit 2), and exactly-once on the memory transport', async () => {
    const r = await tickcast(['run', '--until-end'], { TICKCAST_TRANSPORT: 'carrier-pigeon' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TICKCAST_TRANSPORT="carrier-pigeon"');
    const memory = await tickcast(['run', '--until-end', '--exactly-once'], {});
    expect(memory.code).toBe(2);
    expect(memory.stderr).toContain('exactly-once needs TICKCAST_TRANSPORT=kafka');
  });
});
