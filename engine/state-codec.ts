// What a changelog record holds for one key (its state and pending timers), as bytes. JSON by
// default; an operator may declare its own StateCodec (as a Kafka Streams store declares its
// serde) when JSON is too slow or too lossy for its state: JSON turns NaN and ±Infinity into null,
// and a state of a few thousand numbers costs more to stringify and parse than to update.

import avro from 'avsc';
import { avroOptions } from '../schemas/index.js';

/** An operator's own encoding of its keyed state (`state: { description, codec }`). */
export interface StateCodec<S> {
  /** The bytes need only stay valid until the next call (the engine copies them at once). */
  encode(state: S): Uint8Array;
  /** `bytes` may be a view into a larger buffer, at any byte offset. */
  decode(bytes: Uint8Array): S;
}

/** One key's changelog record: its state and its pending timers (either may be absent). */
export interface ChangelogEntry {
  s?: unknown;
  t?: number[];
}

/**
 * First byte of a framed (codec) changelog value. A JSON value of this engine is an object and
 * starts with `{`, so the byte alone tells the two apart, and changelogs written before codecs
 * existed still restore.
 */
export const CHANGELOG_FRAME = 0x01;
/** Frame: format byte, flags, 2 bytes spare, u32 timer count; 8 bytes so what follows stays 8-aligned. */
const HEADER_BYTES = 8;
const HAS_STATE = 1;

/**
 * The changelog value of one key: null (a tombstone) when it has neither state nor timers; JSON
 * `{ s, t }` without a codec; else the frame: header, the timers as float64 (little-endian), then
 * the codec's bytes (8-aligned from the frame's start, so a codec can view them as a Float64Array).
 */
export function encodeChangelogEntry(s: unknown, t: number[], codec: StateCodec<unknown> | undefined): Buffer | null {
  if (s === undefined && t.length === 0) return null;
  if (!codec) {
    const entry: ChangelogEntry = {};
    if (s !== undefined) entry.s = s;
    if (t.length > 0) entry.t = t;
    return Buffer.from(JSON.stringify(entry));
  }
  const state = s === undefined ? null : codec.encode(s);
  const timersEnd = HEADER_BYTES + 8 * t.length;
  const out = Buffer.allocUnsafe(timersEnd + (state?.length ?? 0));
  out[0] = CHANGELOG_FRAME;
  out[1] = state ? HAS_STATE : 0;
  out[2] = 0;
  out[3] = 0;
  out.writeUInt32LE(t.length, 4);
  for (let i = 0; i < t.length; i++) out.writeDoubleLE(t[i]!, HEADER_BYTES + 8 * i);
  if (state) out.set(state, timersEnd);
  return out;
}

/** Reads a changelog value written by `encodeChangelogEntry`, framed or JSON (older records). */
export function decodeChangelogEntry(value: Buffer, codec: StateCodec<unknown> | undefined): ChangelogEntry {
  if (value[0] !== CHANGELOG_FRAME) return JSON.parse(value.toString()) as ChangelogEntry;
  if (!codec) {
    // Written by a version of the operator that had a codec: JSON.parse would fail less clearly.
    throw new Error('a framed (binary) changelog record, but the operator declares no state codec to read it');
  }
  if (value.length < HEADER_BYTES) throw new Error(`a framed changelog record of ${value.length} bytes: truncated`);
  const count = value.readUInt32LE(4);
  const timersEnd = HEADER_BYTES + 8 * count;
  if (value.length < timersEnd) throw new Error(`a framed changelog record of ${value.length} bytes: truncated`);
  const entry: ChangelogEntry = {};
  if (count > 0) {
    const t = new Array<number>(count);
    for (let i = 0; i < count; i++) t[i] = value.readDoubleLE(HEADER_BYTES + 8 * i);
    entry.t = t;
  }
  if ((value[1]! & HAS_STATE) !== 0) entry.s = codec.decode(value.subarray(timersEnd));
  return entry;
}

/**
 * A state codec from an Avro schema of the state: for a state of records (strings, numbers, nulls)
 * rather than of long numeric arrays. Exact where JSON is not (NaN and ±Infinity survive), smaller
 * (no field names), and encoded into one reused buffer: ~5× faster than JSON on the score
 * operator's state (issue 15). The bytes start with 4 bytes of the schema's fingerprint, and
 * bytes of another schema are refused, not guessed at: a changed state schema needs a new
 * changelog (a new operator name, or its changelog topic deleted).
 */
export function avroStateCodec<S>(schema: avro.Schema): StateCodec<S> {
  const type = avro.Type.forSchema(schema, avroOptions());
  const mark = type.fingerprint('sha256').subarray(0, 4);
  let scratch = Buffer.allocUnsafe(16_384);
  mark.copy(scratch);
  return {
    encode(state) {
      let end = type.encode(state, scratch, mark.length);
      if (end < 0) {
        // Too small by −end bytes: grow once to fit (and some), then encode again.
        scratch = Buffer.allocUnsafe(2 * (scratch.length - end));
        mark.copy(scratch);
        end = type.encode(state, scratch, mark.length);
      }
      return scratch.subarray(0, end);
    },
    decode(bytes) {
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (buf.length < mark.length || !buf.subarray(0, mark.length).equals(mark)) {
        const got = buf.subarray(0, mark.length).toString('hex');
        throw new Error(
          `state of ${type.name ?? 'an Avro schema'} written with another schema (fingerprint ${got}…, this one ${mark.toString('hex')}…)`,
        );
      }
      return type.fromBuffer(buf.subarray(mark.length)) as S;
    },
  };
}
