// A faster escape for the QuestDB client's ILP rows. @questdb/nodejs-client 4.2 writes every table name, column
// name and symbol value one character at a time (`writeEscaped`: a `Buffer.write` per character, to escape the few
// that need it). At 5,000 symbols that was ~17% of a Kafka worker's CPU, most of the store's writes (issue 15).
// Here a string with nothing to escape — all of ours, nearly always — is written in one call, and any other
// goes to the client's own loop: the bytes are the same either way (`questdb-ilp-escape.test.ts`).
// Its `write` then called `Buffer.write`, a call into native code, for every string, mostly of one character
// ("," "=" " "): ~6% of a worker's CPU. A short ASCII string is now copied in JS, byte by byte; any other
// string, or one that would not fit, goes to `Buffer.write` as before.
//
// It replaces the method on the client's buffer class, once per process, and only when that class still has the
// shape read here (a `write(string)` and a `writeEscaped(string, quoted)`); otherwise it leaves the client as it is.
import { SenderBufferV2 } from '@questdb/nodejs-client';

/** What the client's loop escapes (quoted or not): space, comma, equals, CR, LF, double quote, backslash. */
const NEEDS_ESCAPE = /[ ,=\r\n"\\]/;
const PATCHED = Symbol('tickcast.fastEscape');

interface EscapingBuffer {
  buffer: Buffer;
  position: number;
  write(data: string): void;
  writeEscaped(data: string, quoted?: boolean): void;
}

/** The client's own `writeEscaped`, as it was before `useFastEscape` (for tests that compare the two). */
export let clientWriteEscaped: EscapingBuffer['writeEscaped'] | undefined;
/** The client's own `write`, likewise. */
export let clientWrite: EscapingBuffer['write'] | undefined;

/** Longer strings go to `Buffer.write`: past ~32 characters its one native call is the cheaper. */
const SHORT = 32;

/** Copies a short ASCII string into the buffer at `position`; false (having moved nothing) for any other. */
function writeShortAscii(b: EscapingBuffer, data: string): boolean {
  const n = data.length;
  const buf = b.buffer;
  const at = b.position;
  if (n > SHORT || at + n > buf.length) return false;
  for (let i = 0; i < n; i++) {
    const c = data.charCodeAt(i);
    if (c > 0x7f) return false;
    buf[at + i] = c;
  }
  b.position = at + n;
  return true;
}

/** Installs the fast path; true when it is (or was already) installed, false when the client's shape differs. */
export function useFastEscape(): boolean {
  const base = escapingPrototype();
  if (!base) return false;
  const current = base.writeEscaped as EscapingBuffer['writeEscaped'] & { [PATCHED]?: true };
  if (current[PATCHED]) return true;
  clientWriteEscaped = current;
  const clientOwnWrite = base.write;
  clientWrite = clientOwnWrite;
  base.write = function write(this: EscapingBuffer, data: string): void {
    if (!writeShortAscii(this, data)) clientOwnWrite.call(this, data);
  };
  const fast = function writeEscaped(this: EscapingBuffer, data: string, quoted = false): void {
    if (NEEDS_ESCAPE.test(data)) current.call(this, data, quoted);
    else this.write(data);
  } as EscapingBuffer['writeEscaped'] & { [PATCHED]?: true };
  fast[PATCHED] = true;
  base.writeEscaped = fast;
  return true;
}

/** The prototype on the buffer class's chain that defines `writeEscaped` next to `write`, if there is one. */
function escapingPrototype(): EscapingBuffer | undefined {
  for (let p: unknown = SenderBufferV2.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const own = Object.getOwnPropertyDescriptor(p, 'writeEscaped');
    const write = Object.getOwnPropertyDescriptor(p, 'write');
    if (own && typeof own.value === 'function' && write && typeof write.value === 'function') {
      return p as EscapingBuffer;
    }
  }
  return undefined;
}
