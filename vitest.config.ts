import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // *.services.test.ts need real servers (Kafka, QuestDB): `npm run test:services`.
    exclude: ['node_modules/**', 'ui/**', 'test/services/**', 'test/e2e/**', '**/*.services.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
