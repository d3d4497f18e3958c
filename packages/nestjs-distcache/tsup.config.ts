import { defineConfig } from 'tsup';

// Two entries: the module, and the Terminus health indicator on its own subpath so that
// `@nestjs/terminus` (an optional peer) is only loaded by applications that import it.
// Peer and regular dependencies (Nest, rxjs, distcache-core) stay external.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'terminus/index': 'src/terminus/index.ts',
  },
  tsconfig: 'tsconfig.build.json',
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  external: ['distcache-core'],
});
