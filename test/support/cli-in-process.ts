// Runs a `tickcast` command line in this process, as the CLI tests do: its output lines and
// exit code, with only `env` as its environment (nothing of the test process's leaks in).
import type { CliIo } from '../../cli/io.js';
import { runCli } from '../../cli/program.js';

export async function tickcast(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => void out.push(l), err: (l) => void err.push(l), env: { ...env } };
  const code = await runCli(args, io);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
