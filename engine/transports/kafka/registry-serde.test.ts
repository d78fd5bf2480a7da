// The Confluent wire format and start-up registration, through the real
// @kafkajs/confluent-schema-registry client against a TEST DOUBLE of the registry's REST API
// (test/support/schema-registry-test-double.ts): no registry server runs here.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineSchema, type Features, type Quote, schemas } from '../../../schemas/index.js';
import {
  type SchemaRegistryTestDouble,
  startSchemaRegistryTestDouble,
} from '../../../test/support/schema-registry-test-double.js';
import { defineOperator, definePipeline, TestDriver } from '../../index.js';
import { RegistrySerde, SchemaIncompatibleError } from './registry-serde.js';

const quote: Quote = {
  symbol: 'AAPL',
  ts: Date.UTC(2017, 2, 1, 20),
  price: 139.8,
  dayOpen: null,
  dayHigh: null,
  dayLow: null,
  dayVolume: 100,
  source: 'test',
};

/** The Quote schema with one more field (`extra` changes the new field). */
function quoteWith(field: { name: string; type: unknown; default?: unknown }) {
  const avsc = schemas.Quote.avsc as { fields: unknown[] };
  return defineSchema<Quote>({ ...schemas.Quote.avsc, fields: [...avsc.fields, field] });
}

let registry: SchemaRegistryTestDouble;
beforeEach(async () => {
  registry = await startSchemaRegistryTestDouble();
});
afterEach(async () => {
  await registry.close();
});

describe('RegistrySerde', () => {
  it('registers <topic>-value with BACKWARD compatibility and writes magic byte + schema id + Avro', async () => {
    const serde = new RegistrySerde({ url: registry.url });
    await serde.prepare([
      { name: 'quotes', schema: schemas.Quote },
      { name: 'bars', schema: schemas.Bar },
    ]);
    expect(registry.requests).toContain('POST /subjects/quotes-value/versions');
    expect(registry.requests).toContain('PUT /config/quotes-value');
    const bytes = serde.encode('quotes', schemas.Quote, quote);
    expect(bytes[0]).toBe(0);
    const id = bytes.readInt32BE(1);
    expect(id).toBeGreaterThan(0);
    expect(bytes.subarray(5)).toEqual(schemas.Quote.type.toBuffer(quote));
    expect(serde.decode('quotes', schemas.Quote, bytes)).toEqual(quote);
    expect(serde.encode('bars', schemas.Bar, { ...quote, ...barFields }).readInt32BE(1)).not.toBe(id);

    // A second start-up with the same schemas gets the same ids.
    const again = new RegistrySerde({ url: registry.url });
    await again.prepare([{ name: 'quotes', schema: schemas.Quote }]);
    expect(again.encode('quotes', schemas.Quote, quote).readInt32BE(1)).toBe(id);
  });

  it('retries a registration the registry fails with a server error (workers starting together)', async () => {
    registry.failNextRegistrations(2);
    const serde = new RegistrySerde({ url: registry.url });
    await serde.prepare([{ name: 'quotes', schema: schemas.Quote }]);
    const posts = registry.requests.filter((r) => r === 'POST /subjects/quotes-value/versions');
    expect(posts).toHaveLength(3);
    expect(serde.decode('quotes', schemas.Quote, serde.encode('quotes', schemas.Quote, quote))).toEqual(quote);
  });

  it('refuses an incompatible change at start-up, naming the subject and the field', async () => {
    await new RegistrySerde({ url: registry.url }).prepare([{ name: 'quotes', schema: schemas.Quote }]);
    const breaking = quoteWith({ name: 'exchange', type: 'string' });
    const err = await new RegistrySerde({ url: registry.url })
      .prepare([{ name: 'quotes', schema: breaking }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaIncompatibleError);
    expect((err as Error).message).toMatch(/subject quotes-value/);
    expect((err as Error).message).toMatch(/field 'exchange' is new and has no default/);

    const retyped = defineSchema<Quote>({
      ...schemas.Quote.avsc,
      fields: (schemas.Quote.avsc as { fields: Array<{ name: string }> }).fields.map((f) =>
        f.name === 'price' ? { ...f, type: 'string' } : f,
      ),
    });
    await expect(
      new RegistrySerde({ url: registry.url }).prepare([{ name: 'quotes', schema: retyped }]),
    ).rejects.toThrow(/quotes-value.*field 'price' changed type from double to string/);
  });

  it('accepts a compatible change and still decodes records written with the previous version', async () => {
    const v1 = new RegistrySerde({ url: registry.url });
    await v1.prepare([{ name: 'quotes', schema: schemas.Quote }]);
    const old = v1.encode('quotes', schemas.Quote, quote);

    const withDefault = quoteWith({ name: 'exchange', type: 'string', default: 'XNAS' });
    const v2 = new RegistrySerde({ url: registry.url });
    await v2.prepare([{ name: 'quotes', schema: withDefault }]);
    const fresh = v2.encode('quotes', withDefault, { ...quote, exchange: 'XNYS' } as Quote);
    expect(fresh.readInt32BE(1)).not.toBe(old.readInt32BE(1));
    expect(v2.decode('quotes', withDefault, old)).toEqual({ ...quote, exchange: 'XNAS' });
  });

  it('fails to decode bytes without the magic byte or with an unknown schema id', async () => {
    const serde = new RegistrySerde({ url: registry.url });
    await serde.prepare([{ name: 'quotes', schema: schemas.Quote }]);
    expect(() => serde.decode('quotes', schemas.Quote, schemas.Quote.type.toBuffer(quote))).toThrow(
      /not in the Confluent wire format/,
    );
    const unknown = Buffer.concat([Buffer.from([0, 0, 0, 0, 99]), schemas.Quote.type.toBuffer(quote)]);
    expect(() => serde.decode('quotes', schemas.Quote, unknown)).toThrow(/schema id 99 is not a known version/);
  });

  it('sends undecodable messages to the DLQ with the reason, and keeps going', async () => {
    const seen: Quote[] = [];
    const sink = defineOperator<Quote>({
      kind: 'sink',
      name: 'seen',
      input: schemas.Quote,
      async write(records) {
        seen.push(...records.map((r) => r.value));
      },
    });
    const pipeline = definePipeline({
      name: 'registry-dlq',
      topics: { quotes: { schema: schemas.Quote, partitions: 1, external: true } },
      nodes: [{ id: 'seen', operator: sink, reads: 'quotes' }],
    });
    const serde = new RegistrySerde({ url: registry.url });
    const d = await TestDriver.create(pipeline, { serde });
    await d.pipeRaw('quotes', schemas.Quote.type.toBuffer(quote), { key: 'AAPL' }); // plain Avro, no header
    await d.pipe('quotes', quote);
    await d.run();
    expect(seen).toEqual([quote]);
    const [letter] = d.deadLetters('quotes');
    expect(letter).toMatchObject({ kind: 'decode', key: 'AAPL' });
    expect(letter!.reason).toMatch(/cannot decode as tickcast.Quote: not in the Confluent wire format/);
  });

  it('carries a feature row as an array of doubles and gives it back as a Float32Array, also from an older schema', async () => {
    const row: Features = {
      symbol: 'AAPL',
      ts: Date.UTC(2017, 2, 1),
      close: 139.8,
      spec: 'basic@test',
      values: Float32Array.of(0.25, Number.NaN, -3),
      history: 300,
    };
    // A schema version without the annotation, registered first (as a deployment before it would have).
    const plain = defineSchema<Features>(
      JSON.parse(JSON.stringify(schemas.Features.avsc).replace(',"logicalType":"float32-array"', '')),
    );
    const old = new RegistrySerde({ url: registry.url });
    await old.prepare([{ name: 'features', schema: plain }]);
    const written = old.encode('features', plain, {
      ...row,
      values: [0.25, Number.NaN, -3] as unknown as Float32Array,
    });
    // This version: compatible, registered beside it; a new process reads both versions.
    const serde = new RegistrySerde({ url: registry.url });
    await serde.prepare([{ name: 'features', schema: schemas.Features }]);
    const reader = new RegistrySerde({ url: registry.url });
    await reader.prepare([{ name: 'features', schema: schemas.Features }]);
    for (const bytes of [written, serde.encode('features', schemas.Features, row)]) {
      const back = reader.decode('features', schemas.Features, bytes);
      expect(back.values).toBeInstanceOf(Float32Array);
      expect([...back.values]).toEqual([0.25, Number.NaN, -3]);
    }
  });
});

const barFields = { interval: '1d', open: 1, high: 1, low: 1, close: 1, volume: 0, quotes: 1 };
