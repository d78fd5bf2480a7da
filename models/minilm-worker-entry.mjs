// The MiniLM embedding worker's entry point (openMiniLmEmbedder starts it). Node starts no worker
// from a .ts file, and tsx hooks registered in the main thread (bin/tickcast.js) do not reach
// worker threads, so this plain module loads the TypeScript through tsx's tsImport: the same
// under `tsx`, `node bin/tickcast.js` and vitest.
import { tsImport } from 'tsx/esm/api';

await tsImport('./minilm-worker.ts', import.meta.url);
