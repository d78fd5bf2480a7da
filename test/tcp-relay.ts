// A TCP relay for fault tests against real servers: put it between a client and the server,
// then cut it (a dead server) or stall it (a hung one) while the client keeps running.
import { createServer, type Server, Socket } from 'node:net';

/**
 * A TCP relay in front of a server (QuestDB's HTTP port, say), to fail the network under a client:
 * `down()` stops listening and cuts every connection (a dead server), `stall()` keeps
 * connections open but drops what is sent (a hung one), `up()` relays again on the same port.
 */
export class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private stalled = false;
  port = 0;

  constructor(private readonly target: URL) {}

  async up(): Promise<void> {
    this.stalled = false;
    const server = createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => undefined);
      const upstream = new Socket();
      upstream.on('error', () => client.destroy());
      upstream.connect(Number(this.target.port), this.target.hostname);
      this.sockets.add(upstream);
      upstream.on('close', () => this.sockets.delete(upstream));
      client.on('data', (chunk: Buffer) => {
        if (!this.stalled) upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!this.stalled) client.write(chunk);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  stall(): void {
    this.stalled = true;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}
