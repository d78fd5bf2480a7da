// What `npm run test:coverage` measures: the product's code (not tests, benchmarks, scripts or
// generated types), the dashboard's logic (ui/src/lib) included. Shared by the unit and services
// configs so their reports merge (scripts/test-coverage.sh).
import type { CoverageOptions } from 'vitest/node';

export const coverage: CoverageOptions = {
  provider: 'v8',
  include: [
    'api/**/*.ts',
    'cli/**/*.ts',
    'engine/**/*.ts',
    'explain/**/*.ts',
    'models/**/*.ts',
    'operators/**/*.ts',
    'pipelines/**/*.ts',
    'schemas/**/*.ts',
    'storage/**/*.ts',
    'ui/src/lib/**/*.ts',
  ],
  exclude: ['**/*.test.ts', '**/*.contract.ts', 'schemas/generated.ts', '**/*.d.ts'],
  reporter: ['json-summary', 'json'],
  reportsDirectory: '.tmp/coverage',
  // A failing test must not hide the figures (the run fails anyway).
  reportOnFailure: true,
};
