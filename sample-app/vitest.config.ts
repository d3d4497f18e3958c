import { defineConfig } from 'vitest/config';

// The e2e suites run the built service (dist/, from `tsc`) in child processes, so the test files
// themselves need no decorator support.
export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The PGlite and PostgreSQL suites each start three nodes; one at a time on two cores.
    fileParallelism: false,
  },
});
