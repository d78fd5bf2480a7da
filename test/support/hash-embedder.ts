// A TEST DOUBLE of an Embedder: hashed bag of words, unit length, deterministic and instant.
// For tests of retrieval and explanations that must not depend on a learned model; texts that
// share words score higher than texts that do not, which is all those tests need.
import { createHash } from 'node:crypto';
import type { Embedder } from '../../models/embedder.js';

export function hashEmbedder(dimension = 64): Embedder & { calls: number } {
  const e = {
    id: `test-double:hash-bag-of-words@${dimension}`,
    dimension,
    calls: 0,
    async embed(texts: readonly string[]): Promise<Float32Array[]> {
      e.calls++;
      return texts.map((t) => {
        const v = new Float32Array(dimension);
        for (const word of t.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
          const h = createHash('sha1').update(word).digest();
          v[h.readUInt32BE(0) % dimension]! += h[4]! & 1 ? 1 : -1;
        }
        let norm = Math.hypot(...v);
        if (norm === 0) {
          v[0] = 1;
          norm = 1;
        }
        return v.map((x) => x / norm);
      });
    },
  };
  return e;
}
