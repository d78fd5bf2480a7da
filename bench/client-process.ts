// A forked load-generator process (`api-client.ts`), driven over IPC: the API bench and the soak
// keep their clients out of the process that measures. A client process that dies fails what
// waits on it at once, rather than leaving it waiting.
import { type ChildProcess, fork } from 'node:child_process';
import type { ClientCommand, ClientReply } from './api-client.js';

export class ClientProcess {
  private readonly child: ChildProcess;
  /** Commands awaiting their reply, oldest first; a reply settles the oldest of its type. */
  private readonly waiting: Array<{
    type: ClientReply['type'];
    resolve: (reply: ClientReply) => void;
    reject: (err: Error) => void;
  }> = [];

  constructor() {
    this.child = fork(new URL('./api-client.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'] });
    this.child.on('message', (reply: ClientReply) => {
      const i = this.waiting.findIndex((w) => w.type === reply.type);
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(reply);
    });
    this.child.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`client process exited with ${code}`));
    });
  }

  /** Sends a command; resolves with the next reply of type `expect` (commands of other types may run meanwhile). */
  ask<T extends ClientReply['type']>(command: ClientCommand, expect: T): Promise<Extract<ClientReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({
        type: expect,
        resolve: (reply) => resolve(reply as Extract<ClientReply, { type: T }>),
        reject,
      });
      this.child.send(command);
    });
  }

  exit(): void {
    if (this.child.connected) this.child.send({ cmd: 'exit' } satisfies ClientCommand);
    setTimeout(() => this.child.kill(), 2000).unref();
  }
}
