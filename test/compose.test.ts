// docker-compose.yml cannot run here (no Docker engine), so this reads it and checks that it
// agrees with cli/config.ts: every tickcast variable is one the config knows and accepts, each
// address names a compose service on the port the config's default uses, and each server
// publishes that port. A change to a default port or a renamed variable fails here.
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
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
  profiles?: string[];
  volumes?: string[];
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const tickcast = ['tickcast-source', 'tickcast-worker', 'tickcast-api'];
const monitoring = ['prometheus', 'grafana'];
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
      ['chroma', 'kafka', 'ollama', 'ollama-pull', 'questdb', 'schema-registry', ...tickcast, ...monitoring].sort(),
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

  it('runs Chroma of the 1.0 line, the one the services tests run from the chromadb package (services/README.md)', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      dependencies: Record<string, string>;
      overrides: Record<string, unknown>;
    };
    // What `npm run test:services` runs: the chromadb client and the server in its pinned bindings.
    expect(pkg.dependencies.chromadb).toBe('3.5.0');
    expect(pkg.overrides['chromadb-js-bindings-linux-x64-gnu']).toBe('1.0.5');
    // What compose runs: an image of the same 1.0 server line, pinned (never latest).
    expect(services.chroma!.image).toMatch(/^chromadb\/chroma:1\.0\.\d+$/);
    expect(readFileSync('services/README.md', 'utf8')).toContain(
      `compose runs the \`${services.chroma!.image}\` image`,
    );
  });

  describe('monitoring (docker compose --profile monitoring up -d)', () => {
    /** The host file or folder a bind mount of `service` puts at `target` in its container. */
    function mounted(service: string, target: string): string {
      for (const volume of services[service]!.volumes ?? []) {
        const [source, at] = volume.split(':');
        if (source?.startsWith('./') && (target === at || target.startsWith(`${at}/`))) {
          return posix.join(source, posix.relative(at!, target));
        }
      }
      throw new Error(`${service} mounts nothing from the repository at ${target}`);
    }
    const readYaml = <T>(file: string) => parse(readFileSync(file, 'utf8')) as T;

    it('is off unless asked for: Prometheus and Grafana are in the monitoring profile, nothing else is', () => {
      for (const [name, s] of Object.entries(services)) {
        expect(s.profiles, name).toEqual(monitoring.includes(name) ? ['monitoring'] : undefined);
      }
    });

    it("has Prometheus scrape every tickcast service on its API port, with the repository's alert rules", () => {
      const prometheus = services.prometheus!;
      const flag = (prometheus.command ?? []).find((a) => a.startsWith('--config.file='))!;
      const configFile = mounted('prometheus', flag.slice('--config.file='.length));
      const config = readYaml<{
        rule_files: string[];
        scrape_configs: Array<{
          job_name: string;
          dns_sd_configs?: Array<{ names: string[]; type: string; port: number }>;
        }>;
      }>(configFile);
      for (const rules of config.rule_files)
        expect(existsSync(posix.join(posix.dirname(configFile), rules))).toBe(true);
      const job = config.scrape_configs.find((c) => c.job_name === 'tickcast')!;
      // By DNS: Docker answers a service name with each of its containers (every scaled worker).
      expect(job.dns_sd_configs).toHaveLength(1);
      const [sd] = job.dns_sd_configs!;
      expect(sd!.names.sort()).toEqual([...tickcast].sort());
      expect(sd!.type).toBe('A');
      for (const name of tickcast) {
        const config = loadConfig(services[name]!.environment ?? {});
        expect(sd!.port, name).toBe(config.TICKCAST_PORT);
        // Reachable from the Prometheus container, not only from its own.
        expect(config.TICKCAST_HOST, name).toBe('0.0.0.0');
      }
      expect(prometheus.ports).toEqual(['9090:9090']);
    });

    it('has Grafana read that Prometheus and load the dashboard, whose panels use that data source', () => {
      const grafana = services.grafana!;
      expect(grafana.depends_on).toEqual({ prometheus: { condition: 'service_healthy' } });
      const provisioning = mounted('grafana', '/etc/grafana/provisioning');
      const { datasources } = readYaml<{ datasources: Array<{ uid: string; type: string; url: string }> }>(
        posix.join(provisioning, 'datasources/prometheus.yml'),
      );
      expect(datasources).toHaveLength(1);
      const [source] = datasources;
      const { host, port } = hostPort(source!.url);
      expect(host).toBe('prometheus');
      expect(services.prometheus!.ports).toContain(`${port}:${port}`);
      const { providers } = readYaml<{ providers: Array<{ options: { path: string } }> }>(
        posix.join(provisioning, 'dashboards/tickcast.yml'),
      );
      const dashboards = mounted('grafana', providers[0]!.options.path);
      const home = mounted('grafana', grafana.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!);
      expect(posix.dirname(home)).toBe(posix.normalize(dashboards));
      const dashboard = JSON.parse(readFileSync(home, 'utf8')) as {
        panels: Array<{ type: string; datasource?: unknown }>;
      };
      for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
        expect(panel.datasource).toEqual({ type: source!.type, uid: source!.uid });
      }
    });
  });
});
