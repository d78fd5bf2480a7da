// A free TCP port for a server a test or benchmark starts (tickcast, Prometheus): asked of the
// kernel on loopback, then released. Above 20000, as the project's tests keep to high ports.
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    if (port > 20_000) return port;
  }
}
