// Avro in the Confluent wire format: byte 0 = magic 0, bytes 1-4 = schema id (big-endian),
// then the Avro binary. Schemas are registered as subjects `<topic>-value` with BACKWARD
// compatibility at start-up (prepare), through @kafkajs/confluent-schema-registry. Encoding and
// decoding are synchronous (the engine's Serde contract), so every id they may meet is fetched
// in prepare; bytes with an unknown id or no magic byte fail to decode and go to the DLQ.
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import pRetry, { AbortError } from 'p-retry';
import { avroOptions, type Schema } from '../../../schemas/index.js';
import type { Serde } from '../../serde.js';
import { backwardProblems } from './schema-compat.js';

const MAGIC = 0;
/** Older versions of a subject fetched at start-up, so records they wrote still decode. */
const VERSIONS_KEPT = 20;

export class SchemaIncompatibleError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: string[],
  ) {
    super(
      `schema registry: subject ${subject} refuses the new schema (BACKWARD compatibility): ${problems.join('; ')}. ` +
        'Give new fields a default and do not change field types.',
    );
    this.name = 'SchemaIncompatibleError';
  }
}

export interface RegistrySerdeOptions {
  /** Base URL of a Confluent-compatible schema registry, e.g. http://localhost:8081. */
  url: string;
  /** Attempts per registry request (default 3). */
  retries?: number;
  /** Retries of a registration the registry failed with a server error (default 5). */
  registerRetries?: number;
}

export class RegistrySerde implements Serde {
  readonly kind = 'confluent-avro';
  private readonly registry: SchemaRegistry;
  /** topic → id of the schema it is written with. */
  private readonly ids = new Map<string, number>();
  /** schema id → the Avro type that wrote it. */
  private readonly writers = new Map<number, avro.Type>();
  private readonly resolvers = new Map<string, ReturnType<avro.Type['createResolver']>>();

  constructor(private readonly opts: RegistrySerdeOptions) {
    this.registry = new SchemaRegistry({
      host: opts.url,
      clientId: 'tickcast',
      retry: { retries: opts.retries ?? 3, initialRetryTimeInSecs: 0.2, maxRetryTimeInSecs: 2 },
    });
  }

  static subject(topic: string): string {
    return `${topic}-value`;
  }

  // biome-ignore lint/suspicious/noExplicitAny: topics carry different record types
  async prepare(topics: ReadonlyArray<{ name: string; schema: Schema<any> }>): Promise<void> {
    for (const { name, schema } of topics) {
      const subject = RegistrySerde.subject(name);
      const latest = await this.latestId(subject);
      if (latest !== null) {
        const previous = await this.writer(subject, latest);
        if (previous.fingerprint('sha256').toString('hex') !== schema.fingerprint) {
          const problems = backwardProblems(previous.schema() as avro.Schema, schema.avsc as avro.Schema);
          if (problems.length > 0) throw new SchemaIncompatibleError(subject, problems);
        }
      }
      let id: number;
      try {
        // Workers starting together register the same subjects at once; a registry may answer one of
        // them with a server error (Apicurio's store: "Timeout trying to lock table") or a conflict
        // on creating the subject. Those are retried; a refusal (4xx, e.g. 409 incompatible) is not.
        ({ id } = await pRetry(
          async () => {
            try {
              return await this.registry.register(
                { type: SchemaType.AVRO, schema: JSON.stringify(schema.avsc) },
                { subject, compatibility: COMPATIBILITY.BACKWARD },
              );
            } catch (err) {
              const status = statusOf(err);
              // Apicurio answers a subject created concurrently by another worker with 409
              // "already exists": registering again then finds it (and adds or reuses the version).
              if (status === 409 && /already exists/i.test(errorText(err))) throw err;
              if (status !== undefined && status < 500) throw new AbortError(err as Error);
              throw err;
            }
          },
          { retries: this.opts.registerRetries ?? 5, minTimeout: 200, maxTimeout: 3000, randomize: true },
        ));
      } catch (err) {
        if (statusOf(err) === 409) throw new SchemaIncompatibleError(subject, [errorText(err)]);
        throw new Error(`schema registry ${this.opts.url}: cannot register ${subject}: ${errorText(err)}`, {
          cause: err,
        });
      }
      this.ids.set(name, id);
      this.writers.set(id, schema.type);
      await this.loadVersions(subject);
    }
  }

  encode<T>(topic: string, schema: Schema<T>, value: T): Buffer {
    const id = this.ids.get(topic);
    if (id === undefined) throw new Error(`topic ${topic} has no registered schema (prepare was not called for it)`);
    const body = schema.type.toBuffer(value);
    const out = Buffer.allocUnsafe(5 + body.length);
    out[0] = MAGIC;
    out.writeInt32BE(id, 1);
    body.copy(out, 5);
    return out;
  }

  decode<T>(topic: string, schema: Schema<T>, bytes: Buffer): T {
    if (bytes.length < 5 || bytes[0] !== MAGIC) {
      throw new Error(`not in the Confluent wire format (${bytes.length} bytes, first byte ${bytes[0] ?? 'none'})`);
    }
    const id = bytes.readInt32BE(1);
    const writer = this.writers.get(id);
    if (!writer) throw new Error(`schema id ${id} is not a known version of ${RegistrySerde.subject(topic)}`);
    const body = bytes.subarray(5);
    if (writer === schema.type) return schema.type.fromBuffer(body) as T;
    // Written with another version: resolve it to the reader's schema (BACKWARD guarantees we can).
    const key = `${id}/${schema.fingerprint}`;
    let resolver = this.resolvers.get(key);
    if (!resolver) {
      resolver = schema.type.createResolver(writer);
      this.resolvers.set(key, resolver);
    }
    return schema.type.fromBuffer(body, resolver) as T;
  }

  private async latestId(subject: string): Promise<number | null> {
    try {
      return await this.registry.getLatestSchemaId(subject);
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw new Error(`schema registry ${this.opts.url}: cannot read ${subject}: ${errorText(err)}`, { cause: err });
    }
  }

  private async writer(subject: string, id: number): Promise<avro.Type> {
    const known = this.writers.get(id);
    if (known) return known;
    const fetched = await this.registry.getSchema(id);
    // Rebuilt with the engine's options (unions unwrapped, logical types), as the reader types are.
    const type = avro.Type.forSchema(
      (fetched as avro.Type).schema({ exportAttrs: true }) as avro.Schema,
      avroOptions(),
    );
    if (!type) throw new Error(`schema registry: ${subject} id ${id} is not Avro`);
    this.writers.set(id, type);
    return type;
  }

  private async loadVersions(subject: string): Promise<void> {
    for (let version = 1; version <= VERSIONS_KEPT; version++) {
      let id: number;
      try {
        id = await this.registry.getRegistryId(subject, version);
      } catch (err) {
        if (statusOf(err) === 404) return;
        throw err;
      }
      await this.writer(subject, id);
    }
  }
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
