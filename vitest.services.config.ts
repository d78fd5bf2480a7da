// `npm run test:services`: the suites that run against real servers (Kafka, QuestDB, Schema
// Registry, Chroma) started by scripts/services.sh. Plain `npm test` skips or excludes them.
import { defineConfig } from 'vitest/config';
import { coverage } from './vitest.coverage.js';

export default defineConfig({
  test: {
    include: ['test/services/**/*.test.ts', '**/*.services.test.ts', 'storage/questdb-store.test.ts'],
    exclude: ['node_modules/**', '.tmp/**', 'ui/**'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    coverage,
    // One file at a time: one broker for every suite, and the servers share two cores with the tests.
    fileParallelism: false,
  },
});
