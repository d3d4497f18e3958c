import { defineConfig } from 'vitest/config';

// The bench's own tests: the scripts' command line, not measurements (those are the scenarios).
export default defineConfig({
  test: {
    include: ['test/**/*.spec.mjs'],
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
    testTimeout: 30_000,
  },
});
