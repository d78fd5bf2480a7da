// The diagnostic log as a person and a log collector see it.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, lineLogger } from './log.js';

function capture(format: 'text' | 'json', level: 'info' | 'warn' = 'info') {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
  return { log: createLogger({ format, level, stream }), lines };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('log', () => {
  it('text: one line per record, the level only when it matters, context as key=value', async () => {
    const { log, lines } = capture('text');
    log.info('replay finished');
    log.warn({ node: 'store-bars', attempt: 2 }, 'store write failed, retrying');
    log.error({ err: new Error('disk full') }, 'request failed');
    await flush();
    expect(lines[0]).toBe('tickcast: replay finished');
    expect(lines[1]).toBe('tickcast: [warn] store write failed, retrying node=store-bars attempt=2');
    expect(lines[2]).toBe('tickcast: [error] request failed');
    expect(lines[3]).toBe('Error: disk full'); // the stack follows an error
  });

  it('json: pino objects, filtered by level', async () => {
    const { log, lines } = capture('json', 'warn');
    log.info('not shown');
    lineLogger(log, 'warn')('a warning line');
    await flush();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, msg: 'a warning line', name: 'tickcast' });
  });
});
