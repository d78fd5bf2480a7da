// A test double started by hand through npx (`npx tsx test/support/….ts &`) runs under a chain of
// processes: npm exec → sh → tsx's CLI → the double. A kill of npx reaches none of them but sh
// (npm passes SIGINT and SIGTERM on to its child only), and tsx's CLI, orphaned, lives on: the
// double would hold its port until the machine restarts. So, as `tickcast run` watches its parent
// when npm started it (cli/run.ts), the double watches every link of that chain and stops when
// one breaks (a process in it has gone, or was re-parented).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A process's parent and command line: from /proc on Linux, else from ps; null when it is gone. */
function processInfo(pid: number): { ppid: number; args: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { ppid, args };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux') return null;
  }
  try {
    const line = execFileSync('ps', ['-o', 'ppid=,args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const m = /^(\d+)\s+(.*)$/.exec(line);
    return m ? { ppid: Number(m[1]), args: m[2]! } : null;
  } catch {
    return null; // ps exits 1 for a pid that is gone
  }
}

/** npm's own process: its title is `npm exec …` (npx), `npm run …`; or node running npm's CLI. */
const isNpm = (args: string) => /^npm(\s|$)|[/\\]np[mx]-cli\.js(\s|$)/.test(args);

/**
 * Calls `stop` once, when a process between this one and the npm that started it has gone: each
 * [child, parent] link up to npm is checked every `everyMs`. Started without npm (no
 * npm_command in the environment) or with no npm among its first few ancestors, it watches
 * nothing: a double started directly outlives its starter, as a server should.
 */
export function stopWithLauncher(stop: (why: string) => void, everyMs = 500): { cancel(): void } {
  const links: Array<[child: number, parent: number]> = [];
  let npm = false;
  let child = process.pid;
  let parent = process.ppid;
  for (let depth = 0; process.env.npm_command && depth < 6 && parent > 1; depth++) {
    const info = processInfo(parent);
    if (!info) break;
    links.push([child, parent]);
    npm = isNpm(info.args);
    if (npm) break;
    [child, parent] = [parent, info.ppid];
  }
  if (!npm) return { cancel() {} };
  const timer = setInterval(() => {
    const broken = links.some(([c, p]) => (c === process.pid ? process.ppid : processInfo(c)?.ppid) !== p);
    if (broken) {
      clearInterval(timer);
      stop('its launcher (npx) exited');
    }
  }, everyMs);
  timer.unref();
  return { cancel: () => clearInterval(timer) };
}
