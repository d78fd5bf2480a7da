// Where a command writes and what it reads: the process's stdout, stderr and environment, or a
// test's. Commands take one, so their logic runs in-process in tests (cli/program.test.ts).

/** A command's output: one call per line (or several lines joined by \n), as console.log writes. */
export interface Output {
  /** Results: tables, JSON (stdout). */
  out(line: string): void;
  /** Diagnostics: what is happening, what went wrong (stderr). */
  err(line: string): void;
}

export interface CliIo extends Output {
  /** The settings' environment variables (process.env in the process). */
  env: NodeJS.ProcessEnv;
}

/** The process's own stdout and stderr. */
export const consoleOutput: Output = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** The process's stdout, stderr and environment. */
export function processIo(): CliIo {
  return { ...consoleOutput, env: process.env };
}
