// The app under soak: `node bin/tickcast.js run` as a real child process on a free port and a
// temp database, its output kept in a log file, its memory read from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface AppSettings {
  port: number;
  db: string;
  paceMs: number;
  /** TICKCAST_API_RATE: /graphql requests a second per client IP. */
  apiRate: number;
  /** TICKCAST_FAULTS, e.g. `store-writes@90s+20s` (counted from this process's start). */
  faults?: string;
  /** Appended: everything the app prints. */
  logFile: string;
}

export class AppProcess {
  readonly child: ChildProcess;
  /** When it was spawned (wall-clock ms). */
  readonly spawnedAt = Date.now();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly log: WriteStream;

  /** `onLine`: each line it prints (progress frames split at \r too), with the time it arrived. */
  constructor(settings: AppSettings, onLine: (line: string, at: number) => void) {
    // The soak's settings only: none of the caller's TICKCAST_* leak in.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TICKCAST_')));
    this.child = spawn(process.execPath, ['bin/tickcast.js', 'run'], {
      cwd: ROOT,
      env: {
        ...env,
        TICKCAST_HOST: '127.0.0.1',
        TICKCAST_PORT: String(settings.port),
        TICKCAST_DB: settings.db,
        TICKCAST_PACE: `${settings.paceMs}ms`,
        TICKCAST_NEWS: 'none',
        TICKCAST_EXPLAIN: 'off',
        TICKCAST_API_RATE: String(settings.apiRate),
        ...(settings.faults ? { TICKCAST_FAULTS: settings.faults } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.log = createWriteStream(settings.logFile, { flags: 'a' });
    this.log.write(`--- ${new Date(this.spawnedAt).toISOString()} spawned pid ${this.child.pid}\n`);
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        this.log.write(chunk);
        const lines = (partial + chunk).split(/[\r\n]/);
        partial = lines.pop() ?? '';
        const at = Date.now();
        for (const line of lines) if (line.trim() !== '') onLine(line, at);
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.log.end(`--- exited code ${code} signal ${signal}\n`);
        resolve({ code, signal });
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident memory (MB) from /proc; null once it has exited. */
  rssMb(): number | null {
    if (!this.running) return null;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : null;
    } catch {
      return null;
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; how it ended and how long it took. */
  async stop(
    graceMs = 30_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; killed: boolean }> {
    const t = Date.now();
    if (!this.running) return { ...(await this.exited), ms: 0, killed: false };
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return { ...result, ms: Date.now() - t, killed: result.signal === 'SIGKILL' };
  }
}

/** Waits for /healthz to answer 200; the time it did, or null at the deadline (or when `alive` says no). */
export async function waitHealthy(url: string, deadline: number, alive: () => boolean): Promise<number | null> {
  while (Date.now() < deadline && alive()) {
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return Date.now();
    await sleep(100);
  }
  return null;
}
