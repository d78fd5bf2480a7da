import { defineConfig } from 'vitest/config';
import { coverage } from './vitest.coverage.js';

export default defineConfig({
  // graphql 16 ships CJS (main) and ESM (module) builds: Vite would pick the ESM one for our
  // files while Node loads the CJS one for graphql-yoga, and GraphQLError instanceof checks
  // across the two fail (our coded errors would be masked). One copy for everyone.
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['**/*.test.ts'],
    // *.services.test.ts need real servers (Kafka, QuestDB): `npm run test:services`.
    exclude: [
      'node_modules/**',
      '.tmp/**',
      'ui/dist/**',
      'tools/**',
      'test/services/**',
      'test/e2e/**',
      '**/*.services.test.ts',
    ],
    testTimeout: 60_000,
    pool: 'forks',
    coverage,
  },
});
