import { SenderBufferV2 } from '@questdb/nodejs-client';
import { describe, expect, it } from 'vitest';
import { clientWrite, clientWriteEscaped, useFastEscape } from './questdb-ilp-escape.js';

interface Written {
  buffer: Buffer;
  position: number;
  write(data: string): void;
  writeEscaped(data: string, quoted?: boolean): void;
}

/** The bytes `write` puts in a fresh buffer of the client's. */
function bytes(write: (b: Written) => void): string {
  const b = new SenderBufferV2({ protocol: 'http' }) as unknown as Written;
  write(b);
  return b.buffer.subarray(0, b.position).toString('utf8');
}

describe('the fast ILP escape', () => {
  it('installs once, and writes what the client would, escaped or not, quoted or not, ASCII or not', () => {
    expect(useFastEscape()).toBe(true);
    expect(useFastEscape()).toBe(true);
    const client = clientWriteEscaped!;
    const samples = [
      'predicted_close',
      'AAPL',
      'BRK.B',
      'a b,c=d',
      'say "hi"',
      'back\\slash',
      'line\nbreak\rreturn',
      'ünïcødé ✓ 📈',
      '',
      'x'.repeat(300),
    ];
    for (const s of samples) {
      for (const quoted of [false, true]) {
        const fast = bytes((b) => b.writeEscaped(s, quoted));
        expect(fast, `${JSON.stringify(s)} quoted=${quoted}`).toBe(bytes((b) => client.call(b, s, quoted)));
      }
    }
    // Plain writes too: short ASCII copied in JS, the rest (non-ASCII, long) by the client.
    for (const s of [...samples, ',', '=', 'é', 'a'.repeat(32), 'a'.repeat(33)]) {
      const twice = (write: (b: Written, s: string) => void) =>
        bytes((b) => {
          write(b, s);
          write(b, s);
        });
      expect(
        twice((b, s) => b.write(s)),
        JSON.stringify(s),
      ).toBe(twice((b, s) => clientWrite!.call(b, s)));
    }
    expect(bytes((b) => b.writeEscaped('a b,c=d'))).toBe('a\\ b\\,c\\=d');
    expect(bytes((b) => b.writeEscaped('say "hi"', true))).toBe('say \\"hi\\"');
  });
});
