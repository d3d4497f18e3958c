// The dashboard's script is TypeScript for the browser (src/admin/browser/dashboard.ts, checked by
// its own tsconfig with DOM types). The page inlines it as one string, so it is bundled ahead of
// use: importing `./browser/dashboard.ts?iife` yields the bundled IIFE as the module's default
// export. tsup (the build, through esbuild) and Vitest (tests run from src) share this one bundle
// step, so the page served in tests is the page that ships.
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin as EsbuildPlugin } from 'esbuild';

// Paths in the output (the bundle's comments, the build's source maps) are relative to the package,
// whatever the working directory: the same bundle in tests and in the build, and no build machine's
// paths in what ships.
const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The import suffix that asks for a browser bundle instead of the module itself. */
export const IIFE_SUFFIX = '?iife';

/** Bundles a browser entry point into one self-contained IIFE, as text. */
export async function bundleIife(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    tsconfig: resolve(dirname(entry), 'tsconfig.json'),
    write: false,
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
    absWorkingDir: PACKAGE_ROOT,
  });
  const code = result.outputFiles[0]?.text ?? '';
  // Inlined in <script>: a closing tag in the code would end the element early.
  if (/<\/script/i.test(code)) throw new Error(`${entry}: the bundle contains "</script"`);
  return code;
}

const asModule = (code: string): string => `export default ${JSON.stringify(code)};\n`;

/** esbuild plugin (tsup's `esbuildPlugins`): `import script from './x.ts?iife'`. */
export function esbuildIife(): EsbuildPlugin {
  return {
    name: 'distcache-iife',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /\?iife$/ }, (args) => {
        const entry = resolve(args.resolveDir, args.path.slice(0, -IIFE_SUFFIX.length));
        return { path: relative(PACKAGE_ROOT, entry), namespace: 'distcache-iife', pluginData: entry };
      });
      pluginBuild.onLoad({ filter: /.*/, namespace: 'distcache-iife' }, async (args) => {
        const entry = args.pluginData as string;
        return { contents: asModule(await bundleIife(entry)), loader: 'js', watchFiles: [entry] };
      });
    },
  };
}

/** The same for Vite (Vitest), which resolves `./x.ts?iife` to its absolute path with the suffix. */
export function viteIife(): { name: string; enforce: 'pre'; load(id: string): Promise<string | undefined> } {
  return {
    name: 'distcache-iife',
    enforce: 'pre',
    async load(id) {
      if (!id.endsWith(IIFE_SUFFIX)) return undefined;
      return asModule(await bundleIife(id.slice(0, -IIFE_SUFFIX.length)));
    },
  };
}
