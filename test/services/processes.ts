// Child `tickcast` processes for the services tests, and a poller that, on timeout, says what it
// saw last and what those processes logged. A worker runs in its own process there, as in
// production: if it dies (a SIGKILL, or an abort inside librdkafka), the test sees an exit code
// and the logs instead of losing its own test process.
import { type ChildProcess, spawn } from 'node:child_process';

export interface Proc {
  name: string;
  child: ChildProcess;
  /** The last 400 lines of stdout and stderr. */
  output: string[];
  /** Resolves with the exit code (null when a signal ended it, see `child.signalCode`). */
  exited: Promise<number | null>;
}

/** `tickcast run ARGS` with ENV; its API on a free port (fixed ones met other jobs' client sockets). */
export function startTickcast(name: string, args: readonly string[], env: NodeJS.ProcessEnv): Proc {
  return startProcess(name, process.execPath, ['bin/tickcast.js', 'run', ...args], { ...env, TICKCAST_PORT: '0' });
}

/** Any server process (e.g. Prometheus), its output kept; one that cannot start exits with -1 and says why. */
export function startProcess(name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Proc {
  const child = spawn(command, args, { ...(env ? { env } : {}), stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    if (output.length > 400) output.splice(0, output.length - 400);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', (err) => {
      output.push(String(err));
      resolve(-1);
    });
  });
  return { name, child, output, exited };
}

/** SIGKILLs whichever of `procs` still run and waits for them (for afterAll). */
export async function killAll(procs: readonly Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
}

/** The last lines each process logged, for a failure message. */
export function logsOf(procs: readonly Proc[], lines = 15): string {
  return procs
    .map((p) => `--- ${p.name} (exit ${p.child.exitCode ?? p.child.signalCode})\n${p.output.slice(-lines).join('\n')}`)
    .join('\n');
}

/** Polls `probe` every 250 ms until it returns a value; on timeout, fails with its last error and the logs. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | false>,
  procs: readonly Proc[] = [],
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const value = await probe().catch((err: unknown) => {
      last = err;
      return undefined;
    });
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what} (last: ${String(last)})\n${logsOf(procs)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
