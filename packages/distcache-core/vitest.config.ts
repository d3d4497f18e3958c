import { defineConfig } from 'vitest/config';
import { viteIife } from './scripts/dashboard-script.js';

export default defineConfig({
  // Tests run from src: the dashboard's browser script is bundled as the build bundles it.
  plugins: [viteIife()],
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
