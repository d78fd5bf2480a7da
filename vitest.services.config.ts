// `npm run test:services`: the suites that run against real servers started by
// `npm run services:up` (scripts/services.sh). Not part of plain `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.services.test.ts', 'test/services/**/*.test.ts'],
    exclude: ['node_modules/**', 'ui/**'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One broker for every suite: run the files one after another.
    fileParallelism: false,
  },
});
