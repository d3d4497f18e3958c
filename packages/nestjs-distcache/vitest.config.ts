import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// esbuild (Vite's default TypeScript transform) emits no decorator metadata, which Nest's DI needs
// for the user-style classes in the tests: swc compiles them instead, reading
// experimentalDecorators/emitDecoratorMetadata from tsconfig.json (the NestJS Vitest recipe).
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
