import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { doctorChecks, printChecks } from './doctor.js';

describe('tickcast doctor', () => {
  it('finds Node, the Kafka client and tfjs here, and on embedded defaults needs nothing else', async () => {
    const checks = await doctorChecks(loadConfig({ TICKCAST_PORT: '0' }), {});
    expect(checks.map((c) => c.what)).toEqual([
      'Node.js',
      'Kafka client (@confluentinc/kafka-javascript)',
      'TensorFlow.js backend',
    ]);
    expect(printChecks(checks, () => {})).toBe(true);
  });

  it('says which configured server is down and how to fix it, and that the API port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    // A port nothing listens on: the one just freed by a throwaway server.
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const dead = (gone.address() as { port: number }).port;
    await new Promise<void>((r) => gone.close(() => r()));
    try {
      const config = loadConfig({
        TICKCAST_PORT: String(port),
        TICKCAST_TRANSPORT: 'kafka',
        KAFKA_BROKERS: `127.0.0.1:${dead}`,
        SCHEMA_REGISTRY_URL: `http://127.0.0.1:${dead}`,
      });
      const lines: string[] = [];
      const checks = await doctorChecks(config, { CHROMA_URL: `http://127.0.0.1:${dead}` });
      expect(printChecks(checks, (l) => lines.push(l))).toBe(false);
      const text = lines.join('\n');
      expect(text).toMatch(new RegExp(`FAIL\\s+API port 127\\.0\\.0\\.1:${port} \\(TICKCAST_PORT\\)\\s+in use`));
      expect(text).toMatch(new RegExp(`FAIL\\s+Kafka broker 127\\.0\\.0\\.1:${dead}\\s+connect ECONNREFUSED`));
      expect(text).toMatch(/FAIL\s+Chroma .*ECONNREFUSED/);
      expect(text).toContain('or point KAFKA_BROKERS at a running one');
      expect(text).toContain('or point SCHEMA_REGISTRY_URL at a running one');
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
