import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'ui/**', 'test/services/**', 'test/e2e/**', '**/*.services.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
