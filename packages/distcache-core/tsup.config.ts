import { defineConfig } from 'tsup';
import { esbuildIife } from './scripts/dashboard-script.js';

// One entry per public subpath. Discovery providers with a third-party client get their own entry,
// so the client (an optional peer dependency) is only loaded by users who import that provider.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'dns/index': 'src/discovery/dns/index.ts',
    'nats/index': 'src/discovery/nats/index.ts',
    'kubernetes/index': 'src/discovery/kubernetes/index.ts',
    'admin/index': 'src/admin/index.ts',
    'keyv/index': 'src/keyv/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  // The dashboard's browser script, bundled and inlined as a string (src/admin/dashboard.page.ts).
  esbuildPlugins: [esbuildIife()],
});
