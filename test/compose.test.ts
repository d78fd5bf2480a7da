// docker-compose.yml cannot run here (no Docker engine), so this reads it and checks that it
// agrees with cli/config.ts: every tickcast variable is one the config knows and accepts, each
// address names a compose service on the port the config's default uses, and each server
// publishes that port. A change to a default port or a renamed variable fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema, loadConfig } from '../cli/config.js';

interface ComposeService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  container_name?: string;
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const tickcast = ['tickcast-source', 'tickcast-worker', 'tickcast-api'];
const defaults = loadConfig({});

/** Each address variable of the config, the compose service it must name, and its default port. */
const addresses: Array<{ variable: keyof typeof defaults; service: string }> = [
  { variable: 'KAFKA_BROKERS', service: 'kafka' },
  { variable: 'SCHEMA_REGISTRY_URL', service: 'schema-registry' },
  { variable: 'QUESTDB_URL', service: 'questdb' },
  { variable: 'QUESTDB_PG', service: 'questdb' },
  { variable: 'CHROMA_URL', service: 'chroma' },
  { variable: 'OLLAMA_HOST', service: 'ollama' },
];

/** Addresses with no default (unset = the embedded alternative): the servers' own default ports. */
const SERVER_PORTS: Partial<Record<keyof typeof defaults, string>> = { CHROMA_URL: '8000', OLLAMA_HOST: '11434' };

function defaultPort(variable: keyof typeof defaults): string {
  return SERVER_PORTS[variable] ?? hostPort(String(defaults[variable])).port;
}

function hostPort(address: string): { host: string; port: string } {
  const m = /^(?:[a-z]+:\/\/)?(?:[^@/]+@)?([^:/]+):(\d+)/.exec(address);
  if (!m) throw new Error(`no host:port in ${address}`);
  return { host: m[1]!, port: m[2]! };
}

describe('docker-compose.yml', () => {
  it('has the servers and the three tickcast roles, each with a health check, and a job that pulls the models', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['chroma', 'kafka', 'ollama', 'ollama-pull', 'questdb', 'schema-registry', ...tickcast].sort(),
    );
    for (const [name, s] of Object.entries(services)) {
      if (name !== 'ollama-pull') expect(s.healthcheck?.test, name).toBeDefined();
    }
    // The job pulls exactly the models the tickcast services are configured with.
    const config = loadConfig(services['tickcast-api']!.environment ?? {});
    const pull = (services['ollama-pull']!.entrypoint ?? []).join(' ');
    expect(pull).toContain(`ollama pull ${config.OLLAMA_MODEL}`);
    expect(pull).toContain(`ollama pull ${config.OLLAMA_EMBED_MODEL}`);
    expect(config.TICKCAST_EMBEDDER).toBe('ollama');
  });

  it('configures tickcast only with variables the config knows, all valid', () => {
    for (const name of tickcast) {
      const env = services[name]!.environment ?? {};
      const unknown = Object.keys(env).filter((k) => !(k in configSchema.shape));
      expect(unknown, name).toEqual([]);
      const config = loadConfig(env);
      expect(config.TICKCAST_TRANSPORT, name).toBe('kafka');
      expect(config.TICKCAST_STORE, name).toBe('questdb');
      expect(`tickcast-${config.TICKCAST_ROLE}`).toBe(name);
      expect(services[name]!.command).toEqual(['run', '--role', config.TICKCAST_ROLE]);
    }
  });

  it('points every address at its compose service on the default port, which that service publishes', () => {
    for (const name of tickcast) {
      const config = loadConfig(services[name]!.environment ?? {});
      for (const { variable, service } of addresses) {
        const { host, port } = hostPort(String(config[variable]));
        expect({ variable, host }).toEqual({ variable, host: service });
        expect({ variable, port }).toEqual({ variable, port: defaultPort(variable) });
        expect(services[service]!.ports ?? [], `${service} publishes ${port}`).toContain(`${port}:${port}`);
      }
    }
  });

  it('publishes the API on the configured port, and leaves workers free to scale', () => {
    const api = loadConfig(services['tickcast-api']!.environment ?? {});
    expect(api.TICKCAST_PORT).toBe(defaults.TICKCAST_PORT);
    expect(api.TICKCAST_HOST).toBe('0.0.0.0');
    expect(services['tickcast-api']!.ports).toEqual([`${api.TICKCAST_PORT}:${api.TICKCAST_PORT}`]);
    const worker = services['tickcast-worker']!;
    // --scale needs no fixed container name and no fixed host port.
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
  });

  it('starts tickcast only once Kafka, the registry, QuestDB and Chroma are healthy and the models are pulled', () => {
    for (const name of tickcast) {
      expect(services[name]!.depends_on).toEqual({
        kafka: { condition: 'service_healthy' },
        'schema-registry': { condition: 'service_healthy' },
        questdb: { condition: 'service_healthy' },
        chroma: { condition: 'service_healthy' },
        'ollama-pull': { condition: 'service_completed_successfully' },
      });
    }
  });
});
