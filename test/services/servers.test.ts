// The servers scripts/services.sh starts answer as the clients expect: Kafka speaks the Kafka
// protocol, and the schema registry speaks Confluent's REST API with BACKWARD compatibility.
// Run by `npm run test:services` (excluded from plain `npm test`: it needs the servers).
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { KAFKA_BROKERS, SCHEMA_REGISTRY_URL } from '../support/service-addresses.js';

/** Sends Kafka's ApiVersions request (v0) and returns the broker's error code and API count. */
async function apiVersions(broker: string): Promise<{ errorCode: number; apis: number }> {
  const [host = '127.0.0.1', port = '9092'] = broker.split(',')[0]!.split(':');
  const clientId = Buffer.from('tickcast-test');
  // size, api_key 18 (ApiVersions), api_version 0, correlation_id, client_id (int16-length string)
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(7, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host, () => socket.write(Buffer.concat([size, body])));
    let received = Buffer.alloc(0);
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer from Kafka at ${broker}`)));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
      socket.end();
      // size, correlation_id, error_code, [api_key, min, max]
      expect(received.readInt32BE(4)).toBe(7);
      resolve({ errorCode: received.readInt16BE(8), apis: received.readInt32BE(10) });
    });
  });
}

describe('Kafka (KAFKA_BROKERS)', () => {
  it('answers ApiVersions as a Kafka broker', async () => {
    const { errorCode, apis } = await apiVersions(KAFKA_BROKERS);
    expect(errorCode).toBe(0);
    expect(apis).toBeGreaterThan(40);
  });
});

describe('Schema registry (SCHEMA_REGISTRY_URL, Confluent API)', () => {
  const json = 'application/vnd.schemaregistry.v1+json';
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${SCHEMA_REGISTRY_URL}${path}`, {
      method,
      headers: { 'content-type': json, accept: json },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('registers a project schema, serves it by id, and refuses a BACKWARD-incompatible change', async () => {
    const subject = `bars-${Date.now().toString(36)}-value`;
    const schema = JSON.parse(await readFile('schemas/bar.avsc', 'utf8')) as { fields: unknown[] };
    expect((await call('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' })).status).toBe(200);

    const registered = await call('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(schema) });
    expect(registered.status).toBe(200);
    const id = registered.body.id;
    expect(typeof id).toBe('number');
    const byId = await call('GET', `/schemas/ids/${id}`);
    expect(JSON.parse(String(byId.body.schema))).toMatchObject({ name: 'Bar', namespace: 'tickcast' });
    // The same schema again is the same id, not a new version.
    expect((await call('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(schema) })).body.id).toBe(id);

    // A new field with a default is a BACKWARD-compatible change; one without a default is not.
    const withDefault = { ...schema, fields: [...schema.fields, { name: 'vwap', type: 'double', default: 0 }] };
    expect((await call('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(withDefault) })).status).toBe(
      200,
    );
    const breaking = { ...schema, fields: [...schema.fields, { name: 'trades', type: 'long' }] };
    const refused = await call('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(breaking) });
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toContain('trades');
    expect((await call('GET', `/subjects/${subject}/versions`)).body).toEqual([1, 2]);
  });
});
