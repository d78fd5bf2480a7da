// `tickcast run` off a terminal (its output to a file), in-process: at Ctrl-C its progress shows
// its last frame once, and "replay finished; still serving" is said once, and never after the
// run has begun stopping: at the end of the replay then Ctrl-C, at Ctrl-C during the replay, and
// at Ctrl-C while the end-of-run summary is written.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliIo } from './io.js';
import { runCli } from './program.js';

const ROOT = new URL('..', import.meta.url).pathname;
const FINISHED = 'tickcast: replay finished; still serving';

let dir: string;
let before: { SIGINT: Set<unknown>; SIGTERM: Set<unknown> };
/** What the run wrote to stderr: its progress lines (not a terminal: a line every 3 s and on stop). */
let stderr: string[];
let exited: Promise<number | undefined>;
let isTTY: boolean | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tickcast-run-stop-'));
  mkdirSync(join(dir, 'csv'));
  copyFileSync(join(ROOT, 'data/sp500-daily/KO_data.csv'), join(dir, 'csv/KO_data.csv'));
  before = { SIGINT: new Set(process.listeners('SIGINT')), SIGTERM: new Set(process.listeners('SIGTERM')) };
  stderr = [];
  isTTY = process.stderr.isTTY;
  process.stderr.isTTY = false; // as when piped to a file, whatever runs the tests
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  }) as typeof process.stderr.write);
  // Its shutdown ends the process: here, it says so instead.
  exited = new Promise((resolve) => {
    vi.spyOn(process, 'exit').mockImplementation(((code?: number) => resolve(code)) as typeof process.exit);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  process.stderr.isTTY = isTTY as boolean;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const l of process.listeners(signal)) if (!before[signal].has(l)) process.off(signal, l);
  }
  rmSync(dir, { recursive: true, force: true });
});

/** `tickcast run` in this process; `onOut` sees each stdout line as it is written. */
function run(extra: string[], onOut: (line: string) => void = () => {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (l) => {
      out.push(l);
      onOut(l);
    },
    err: (l) => void err.push(l),
    env: {
      TICKCAST_DATA_DIR: join(dir, 'csv'),
      TICKCAST_EXPLAIN: 'off',
      TICKCAST_MODEL: 'persistence',
      TICKCAST_HOST: '127.0.0.1',
      TICKCAST_PORT: '0',
      TICKCAST_LOG_LEVEL: 'warn',
    },
  };
  const code = runCli(['run', '--db', join(dir, 's.duckdb'), ...extra], io);
  return { code, out, err };
}

/** The SIGINT handler the run added, called as the signal would call it. */
function sigint(): void {
  const handler = process.listeners('SIGINT').find((l) => !before.SIGINT.has(l));
  expect(handler, 'a SIGINT handler').toBeDefined();
  (handler as (signal: string) => void)('SIGINT');
}

const progressLines = () => stderr.filter((s) => s.startsWith('progress: '));
const count = (lines: string[], text: string) => lines.filter((l) => l.includes(text)).length;

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('tickcast run, stopped off a terminal (in-process)', () => {
  it('at the end of the replay, then Ctrl-C: the last frame and "replay finished" once each', async () => {
    const r = run([]);
    expect(await r.code, r.err.join('\n')).toBe(0); // returns once the replay is through, serving
    const frames = progressLines();
    expect(frames.at(-1)).toMatch(/^progress: 1,259\/1,259 quotes through/);
    expect(count(r.err, FINISHED)).toBe(1);
    sigint();
    expect(await exited).toBe(0);
    expect(r.err.at(-1)).toBe('\ntickcast: SIGINT, stopping');
    expect(progressLines()).toEqual(frames);
    expect(count(r.err, FINISHED)).toBe(1);
  });

  it('Ctrl-C during the replay: one last frame, and no "replay finished"', async () => {
    // One trading day every 10 ms: the replay lasts ~13 s; the first progress line comes at 3 s.
    const r = run(['--pace', '10ms']);
    await until('a progress line', () => progressLines().length > 0, 60_000);
    const frames = progressLines().length;
    sigint();
    expect(await exited).toBe(0);
    expect(await r.code, r.err.join('\n')).toBe(0);
    expect(progressLines()).toHaveLength(frames + 1);
    expect(progressLines().at(-1)).not.toMatch(/^progress: 1,259\/1,259/);
    expect(count(r.err, 'tickcast: SIGINT, stopping')).toBe(1);
    expect(count(r.err, FINISHED)).toBe(0);
  });

  it('Ctrl-C while the summary is written: the summary completes, the last frame once, no "replay finished"', async () => {
    let signalled = false;
    const r = run([], () => {
      if (signalled) return;
      signalled = true;
      sigint();
    });
    expect(await r.code, r.err.join('\n')).toBe(0);
    expect(await exited).toBe(0);
    expect(signalled).toBe(true);
    expect(r.out.join('\n')).toContain('store (duckdb): 1,259 bars');
    expect(count(progressLines(), 'progress: 1,259/1,259 quotes through')).toBe(1);
    expect(progressLines().at(-1)).toMatch(/^progress: 1,259\/1,259 quotes through/);
    expect(count(r.err, FINISHED)).toBe(0);
  });
});
