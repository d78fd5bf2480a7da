// TEST DOUBLE of a Confluent Schema Registry — not a registry. It implements, in memory, only
// the documented REST subset that @kafkajs/confluent-schema-registry calls, so the Kafka tests
// exercise the real client and the real wire format without a registry server (none runs here:
// see the Kafka section of engine/README.md). Compatibility checks are BACKWARD only, decided by
// avsc's schema resolution (engine/schema-compat.ts), and answered like the real one (409).
//   POST /subjects/:s/versions   GET /subjects/:s/versions/(latest|:v)   POST /subjects/:s
//   GET /schemas/ids/:id         GET|PUT /config/:s                       GET /subjects
//   POST /compatibility/subjects/:s/versions/latest
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type avro from 'avsc';
import { backwardProblems } from '../../engine/transports/kafka/schema-compat.js';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

interface Version {
  id: number;
  version: number;
  schema: string;
}

export interface SchemaRegistryTestDouble {
  url: string;
  /** Requests served, e.g. `POST /subjects/quotes-value/versions`. */
  requests: string[];
  /** The next `n` registrations fail with 500, as a busy registry's store may (lock timeouts). */
  failNextRegistrations(n: number): void;
  close(): Promise<void>;
}

export async function startSchemaRegistryTestDouble(port = 0): Promise<SchemaRegistryTestDouble> {
  const schemas: string[] = []; // id - 1 → schema text
  const subjects = new Map<string, Version[]>();
  const config = new Map<string, string>();
  const requests: string[] = [];
  let failRegistrations = 0;

  const idOf = (schema: string) => {
    const i = schemas.indexOf(schema);
    if (i >= 0) return i + 1;
    schemas.push(schema);
    return schemas.length;
  };
  const normal = (text: string) => JSON.stringify(JSON.parse(text));
  const incompatibility = (subject: string, schema: string): string[] => {
    const level = config.get(subject) ?? 'BACKWARD';
    const latest = subjects.get(subject)?.at(-1);
    if (!latest || level === 'NONE') return [];
    return backwardProblems(JSON.parse(latest.schema) as avro.Schema, JSON.parse(schema) as avro.Schema);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    requests.push(`${method} ${url.pathname}`);
    const body = method === 'POST' || method === 'PUT' ? await readJson(req) : {};
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': CONTENT_TYPE });
      res.end(JSON.stringify(payload));
    };
    const notFound = (code: number, message: string) => send(404, { error_code: code, message });

    // /subjects
    if (parts[0] === 'subjects' && parts.length === 1 && method === 'GET') return send(200, [...subjects.keys()]);
    if (parts[0] === 'subjects' && parts[1]) {
      const subject = parts[1];
      const versions = subjects.get(subject) ?? [];
      if (parts[2] === 'versions' && parts.length === 3 && method === 'POST') {
        if (failRegistrations > 0) {
          failRegistrations--;
          return send(500, { error_code: 50001, message: 'Timeout trying to lock table' });
        }
        const schema = normal(String((body as { schema?: unknown }).schema));
        const same = versions.find((v) => v.schema === schema);
        if (same) return send(200, { id: same.id });
        const problems = incompatibility(subject, schema);
        if (problems.length > 0) {
          return send(409, {
            error_code: 409,
            message: `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: ${problems.join('; ')}`,
          });
        }
        const v = { id: idOf(schema), version: (versions.at(-1)?.version ?? 0) + 1, schema };
        subjects.set(subject, [...versions, v]);
        return send(200, { id: v.id });
      }
      if (parts[2] === 'versions' && parts[3] && method === 'GET') {
        const v = parts[3] === 'latest' ? versions.at(-1) : versions.find((x) => x.version === Number(parts[3]));
        if (!versions.length) return notFound(40401, `Subject '${subject}' not found.`);
        if (!v) return notFound(40402, `Version ${parts[3]} not found.`);
        return send(200, { subject, version: v.version, id: v.id, schema: v.schema });
      }
      if (parts.length === 2 && method === 'POST') {
        const schema = normal(String((body as { schema?: unknown }).schema));
        const v = versions.find((x) => x.schema === schema);
        if (!v) return notFound(40403, 'Schema not found');
        return send(200, { subject, version: v.version, id: v.id, schema: v.schema });
      }
    }
    if (parts[0] === 'schemas' && parts[1] === 'ids' && parts[2] && method === 'GET') {
      const schema = schemas[Number(parts[2]) - 1];
      if (!schema) return notFound(40403, 'Schema not found');
      return send(200, { schema });
    }
    if (parts[0] === 'config' && parts[1]) {
      if (method === 'PUT') {
        const level = String((body as { compatibility?: unknown }).compatibility).toUpperCase();
        config.set(parts[1], level);
        return send(200, { compatibility: level });
      }
      const level = config.get(parts[1]);
      if (!level) return notFound(40408, `Subject '${parts[1]}' does not have subject-level compatibility configured`);
      return send(200, { compatibilityLevel: level });
    }
    if (parts[0] === 'compatibility' && parts[1] === 'subjects' && parts[2] && method === 'POST') {
      const problems = incompatibility(parts[2], normal(String((body as { schema?: unknown }).schema)));
      return send(200, { is_compatible: problems.length === 0, messages: problems });
    }
    send(404, { error_code: 404, message: `HTTP 404 Not Found (${method} ${url.pathname})` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': CONTENT_TYPE });
      res.end(JSON.stringify({ error_code: 500, message: String(err) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    requests,
    failNextRegistrations: (n) => {
      failRegistrations = n;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text ? JSON.parse(text) : {};
}
