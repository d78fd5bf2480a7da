// The app's diagnostic log: pino (levels, structured fields), on stderr. Two formats: `text` for
// people at a terminal (`tickcast: message key=value`, the look of the CLI's own lines) and `json`
// (one pino object per line) for log collectors. The CLI's results (tables, summaries) are output,
// not log lines: they stay on stdout.
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';
export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVEL_NAMES: Record<number, string> = { 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
// pino's own fields: the rest of a record is its structured context.
const BASE = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name']);

/** One pino record as a line for people: `tickcast: [warn] message key=value`. */
export function textLine(json: string): string {
  const o = JSON.parse(json) as Record<string, unknown>;
  const level = Number(o.level);
  const tag = level >= 40 ? `[${LEVEL_NAMES[level] ?? level}] ` : '';
  const fields = Object.entries(o)
    .filter(([k]) => !BASE.has(k))
    .map(([k, v]) => {
      if (k === 'err' && v && typeof v === 'object') {
        const e = v as { message?: string; stack?: string };
        return level >= 50 && e.stack ? `\n${e.stack}` : ` err=${JSON.stringify(e.message ?? '')}`;
      }
      return ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    })
    .join('');
  return `${o.name ?? 'tickcast'}: ${tag}${o.msg ?? ''}${fields}\n`;
}

export function createLogger(
  opts: { level?: LogLevel; format?: LogFormat; name?: string; stream?: NodeJS.WritableStream } = {},
): Logger {
  const out = opts.stream ?? process.stderr;
  const destination =
    opts.format === 'json'
      ? out
      : new Writable({
          write(chunk: Buffer, _encoding, done) {
            out.write(textLine(chunk.toString()));
            done();
          },
        });
  return pino({ name: opts.name ?? 'tickcast', level: opts.level ?? 'info', base: { pid: process.pid } }, destination);
}

/** For code that takes a `(line) => void` callback: each line logged at `level`. */
export const lineLogger =
  (log: Logger, level: 'info' | 'warn' | 'error' = 'info') =>
  (line: string): void =>
    log[level](line);
