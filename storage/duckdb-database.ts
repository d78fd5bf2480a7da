// One embedded store's handle on a DuckDB database, shared by the time-series store and the
// vector store (which live in the same file):
// - the instance: DuckDB allows one per file in a process, so a file is opened through its
//   instance cache (both stores share it; each closes its own handle, the database closes with
//   the last); ':memory:' is a private database per store;
// - a writer and a reader connection, each with its own queue: a connection runs one statement
//   at a time (concurrent use can crash the native binding), and reads do not wait behind writes;
// - one store of each kind per file in the process (two writers could duplicate keys; other
//   processes are kept out by DuckDB's file lock).
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import { SerialQueue } from './serial-queue.js';

// Rows per appended data chunk: DuckDB's vector size, the most one chunk can hold.
const CHUNK_ROWS = 2048;

/** Database files open in this process, by store kind and absolute path. */
const openFiles = new Set<string>();

export interface DuckDbHandleOptions<T> {
  /** Database file (parent directories are created), or ':memory:'. */
  path: string;
  /** The store, in messages: 'DuckDB store', 'DuckDB vector store'. */
  name: string;
  /** The error when this kind of store already has the file open in this process. */
  alreadyOpen(file: string): string;
  /** Runs on the writer connection before the handle is handed out (tables, checks); its result is returned. */
  setup(writer: DuckDBConnection, where: string): Promise<T>;
}

export class DuckDbHandle {
  private readonly writes = new SerialQueue();
  private readonly reads = new SerialQueue();
  private isClosed = false;

  private constructor(
    private readonly name: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    private readonly openKey: string | undefined,
    /** The database, for error messages. */
    readonly where: string,
  ) {}

  static async open<T>(opts: DuckDbHandleOptions<T>): Promise<{ db: DuckDbHandle; ready: T }> {
    const file = opts.path === '' || opts.path.startsWith(':memory:') ? undefined : resolve(opts.path);
    const where = `the DuckDB database ${file ?? opts.path}`;
    const openKey = file === undefined ? undefined : `${opts.name}\u0000${file}`;
    if (file !== undefined && openKey !== undefined) {
      if (openFiles.has(openKey)) throw new Error(opts.alreadyOpen(file));
      openFiles.add(openKey);
    }
    try {
      if (file !== undefined) await mkdir(dirname(file), { recursive: true });
      const instance =
        file === undefined
          ? await DuckDBInstance.create(opts.path || ':memory:')
          : await DuckDBInstance.fromCache(file);
      let writer: DuckDBConnection | undefined;
      try {
        writer = await instance.connect();
        const ready = await opts.setup(writer, where);
        const reader = await instance.connect();
        return { db: new DuckDbHandle(opts.name, instance, writer, reader, openKey, where), ready };
      } catch (err) {
        // The writer first: a cached instance whose connection stays open made the next open hang.
        writer?.closeSync();
        instance.closeSync();
        throw err;
      }
    } catch (err) {
      if (openKey !== undefined) openFiles.delete(openKey);
      throw err;
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The error every call gets once the store is closed. */
  closedError(): Error {
    return new Error(`the ${this.name} is closed`);
  }

  /** Runs `f` in one transaction on the writer connection, after the writes queued before it. */
  write(f: (writer: DuckDBConnection) => Promise<void>): Promise<void> {
    if (this.isClosed) return Promise.reject(this.closedError());
    return this.writes.run(() => inTransaction(this.writer, f));
  }

  read(sql: string, params?: Params): Promise<DuckDBValue[][]> {
    if (this.isClosed) return Promise.reject(this.closedError());
    return this.reads.run(async () => (await this.reader.runAndReadAll(sql, params?.values, params?.types)).getRows());
  }

  async ping(): Promise<boolean> {
    if (this.isClosed) return false;
    try {
      return num((await this.read('SELECT 1'))[0]?.[0]) === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    // Let queued work finish, so an upsert that was accepted is never cut off.
    await Promise.all([this.writes.drain(), this.reads.drain()]);
    this.writer.closeSync();
    this.reader.closeSync();
    // Closes this handle; a file's database stays open while the other store holds one.
    this.instance.closeSync();
    if (this.openKey !== undefined) openFiles.delete(this.openKey);
  }
}

/** BEGIN, `f`, COMMIT; a failure rolls back and rethrows (the original error is the one worth reporting). */
export async function inTransaction(c: DuckDBConnection, f: (c: DuckDBConnection) => Promise<void>): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  try {
    await f(c);
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Appends chunks to `table` (in the connection's open transaction, so a failure rolls them back too). */
export async function appendChunks(
  c: DuckDBConnection,
  table: string,
  chunks: readonly DuckDBDataChunk[],
): Promise<void> {
  const appender = await c.createAppender(table);
  try {
    for (const chunk of chunks) appender.appendDataChunk(chunk);
  } finally {
    appender.closeSync();
  }
}

/**
 * Rows as appender chunks: `columns` turns a slice of rows into one value array per column.
 * Converting everything before the database is touched makes a bad value fail the whole batch up
 * front, not half way through.
 */
export function toChunks<R>(
  types: readonly DuckDBType[],
  rows: readonly R[],
  columns: (slice: readonly R[]) => DuckDBValue[][],
): DuckDBDataChunk[] {
  const chunks: DuckDBDataChunk[] = [];
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    const slice = rows.slice(start, start + CHUNK_ROWS);
    const chunk = DuckDBDataChunk.create([...types], slice.length);
    chunk.setColumns(columns(slice));
    chunks.push(chunk);
  }
  return chunks;
}

/** Positional query parameters with explicit types, so a bound ts compares as BIGINT (and can use zone maps). */
export class Params {
  readonly values: DuckDBValue[] = [];
  readonly types: DuckDBType[] = [];

  add(value: DuckDBValue, type: DuckDBType): string {
    this.values.push(value);
    this.types.push(type);
    return `$${this.values.length}`;
  }

  addStrings(values: readonly string[]): string {
    return this.add(listValue([...values]), LIST(VARCHAR));
  }
}

export function str(v: DuckDBValue | undefined): string {
  if (typeof v === 'string') return v;
  throw new TypeError(`expected a string from DuckDB, got ${String(v)}`);
}

export function num(v: DuckDBValue | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new TypeError(`expected a number from DuckDB, got ${String(v)}`);
}
