// The fixture server run by hand as README.md says (`npx tsx test/support/yahoo-fixture-server-main.ts
// PORT &`) frees its port when the npx that started it is killed: npx passes the signal to its sh
// only, and tsx's CLI would live on, orphaned, with the server (stop-with-launcher.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './free-port.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const started: ChildProcess[] = [];

afterEach(() => {
  // Whatever is left of a failed run: npx is the leader of its own process group (detached).
  for (const child of started.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone
    }
  }
});

/** `npx tsx …main.ts PORT`, as README.md's manual run starts it; resolves once it prints its URL. */
async function startThroughNpx(port: number): Promise<ChildProcess> {
  const child = spawn('npx', ['tsx', 'test/support/yahoo-fixture-server-main.ts', String(port)], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed within 60 s:\n${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`http://127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before serving:\n${output}`));
    });
  });
  return child;
}

/** Whether something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls until the port is free; the deadline is generous for a loaded machine. */
async function freedWithin(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await listening(port))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !(await listening(port));
}

describe('yahoo-fixture-server-main, started through npx', () => {
  // kill, kill -9, and a hang-up of npx alone; Ctrl-C signals the whole foreground process group.
  const cases = [
    ['SIGTERM', 'npx'],
    ['SIGKILL', 'npx'],
    ['SIGHUP', 'npx'],
    ['SIGINT', 'its process group (Ctrl-C)'],
  ] as const;
  for (const [signal, to] of cases) {
    it(`frees its port on ${signal} to ${to}`, async () => {
      const port = await freePort();
      const npx = await startThroughNpx(port);
      expect(await listening(port)).toBe(true);
      process.kill(to === 'npx' ? npx.pid! : -npx.pid!, signal);
      expect(await freedWithin(port, 10_000)).toBe(true);
    });
  }
});
