// A fresh Nest 12 application made of the README's quick start, with both packages installed from
// their `npm pack` tarballs, as a user gets them. The tarballs are unpacked into the app's own
// node_modules; their dependencies and the app's (Nest, rxjs, TypeScript's @types/node) are links
// to the workspace's installed copies, so no registry is needed and nothing is downloaded.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const workspace = fileURLToPath(new URL('../../../../', import.meta.url));
const packages = ['distcache-core', 'nestjs-distcache'] as const;

/** What the app installs beside the two packages (the README's `npm install` lines). */
const appDependencies = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/terminus',
  'reflect-metadata',
  'rxjs',
  '@types/node',
];

interface PackedManifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  exports?: Record<string, unknown>;
  typesVersions?: Record<string, Record<string, string[]>>;
}

export interface PackedApp {
  readonly directory: string;
  readonly manifests: Record<(typeof packages)[number], PackedManifest>;
  readonly files: string[];
}

/** The `src/*.ts` blocks of the package README's quick start, by file name. */
export function quickStartSources(): Map<string, string> {
  const readme = readFileSync(join(workspace, 'packages/nestjs-distcache/README.md'), 'utf8');
  const quickStart = readme.slice(
    readme.indexOf('## Quick start'),
    readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1),
  );
  const sources = new Map<string, string>();
  for (const match of quickStart.matchAll(
    /^`(src\/[\w.-]+\.ts)`[^\n]*\n(?:[^`\n][^\n]*\n)*\n```ts\n([\s\S]*?)\n```/gm,
  )) {
    sources.set(match[1]!, `${match[2]!}\n`);
  }
  return sources;
}

/** Packs both packages and unpacks the tarballs into a new app's node_modules. */
export function packApp(): PackedApp {
  const directory = mkdtempSync(join(tmpdir(), 'distcache-quick-start-'));
  const tarballs = join(directory, 'tarballs');
  mkdirSync(tarballs);
  const packed = JSON.parse(
    execFileSync(
      'npm',
      [
        'pack',
        '--json',
        '--ignore-scripts',
        '--pack-destination',
        tarballs,
        ...packages.map((name) => join(workspace, 'packages', name)),
      ],
      { cwd: directory, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } },
    ),
  ) as { name: string; filename: string; files: { path: string }[] }[];
  const modules = join(directory, 'node_modules');
  const manifests = {} as Record<(typeof packages)[number], PackedManifest>;
  for (const { name, filename } of packed) {
    const target = join(modules, name);
    mkdirSync(target, { recursive: true });
    execFileSync('tar', ['-xzf', join(tarballs, filename), '-C', target, '--strip-components=1']);
    manifests[name as (typeof packages)[number]] = JSON.parse(
      readFileSync(join(target, 'package.json'), 'utf8'),
    ) as PackedManifest;
  }
  const linked = new Set(appDependencies);
  for (const manifest of Object.values(manifests)) {
    for (const name of Object.keys(manifest.dependencies ?? {})) linked.add(name);
    for (const name of Object.keys(manifest.peerDependencies ?? {}))
      if (manifest.peerDependenciesMeta?.[name]?.optional !== true) linked.add(name);
  }
  for (const name of linked) {
    if ((packages as readonly string[]).includes(name)) continue;
    const installed = join(workspace, 'node_modules', name);
    if (!existsSync(installed)) throw new Error(`${name} is not installed in the workspace`);
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(installed, join(modules, name), 'dir');
  }
  return {
    directory,
    manifests,
    files: packed.flatMap((entry) => entry.files.map((file) => `${entry.name}/${file.path}`)),
  };
}

/** Version of a package as the app resolves it. */
export function installedVersion(app: PackedApp, name: string): string {
  return (
    JSON.parse(readFileSync(join(app.directory, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}

export type AppFlavour = 'esm' | 'cjs' | 'commonjs' | 'commonjs-node10';

// The tsconfig.json of @nestjs/schematics 12.0.6 `nest new` (files/ts-esm and files/ts), with the
// test runner's types left out. 'commonjs' is the setup of apps made before Nest 12
// ("module": "commonjs": TypeScript 6 resolves packages like a bundler, with "require" conditions);
// 'commonjs-node10' adds "moduleResolution": "node" (no exports map: typesVersions).
const nestNewCompilerOptions = {
  module: 'nodenext',
  moduleResolution: 'nodenext',
  resolvePackageJsonExports: true,
  esModuleInterop: true,
  isolatedModules: true,
  declaration: true,
  removeComments: true,
  emitDecoratorMetadata: true,
  experimentalDecorators: true,
  allowSyntheticDefaultImports: true,
  target: 'ES2023',
  sourceMap: true,
  outDir: './dist',
  rootDir: './src',
  incremental: true,
  skipLibCheck: true,
  strict: true,
  strictPropertyInitialization: false,
  types: ['node'],
};
const nestCommonJsCompilerOptions = {
  module: 'commonjs',
  declaration: true,
  removeComments: true,
  emitDecoratorMetadata: true,
  experimentalDecorators: true,
  allowSyntheticDefaultImports: true,
  target: 'ES2023',
  sourceMap: true,
  outDir: './dist',
  rootDir: './src',
  skipLibCheck: true,
  strictNullChecks: true,
  types: ['node'],
};
const compilerOptions: Record<AppFlavour, Record<string, unknown>> = {
  esm: nestNewCompilerOptions,
  cjs: nestNewCompilerOptions,
  commonjs: nestCommonJsCompilerOptions,
  'commonjs-node10': { ...nestCommonJsCompilerOptions, moduleResolution: 'node', ignoreDeprecations: '6.0' },
};

/**
 * Writes one flavour of the app (its own folder sharing the unpacked node_modules) and compiles it
 * with TypeScript 6. Resolves to the folder; rejects with tsc's output on any error.
 */
export async function buildApp(
  app: PackedApp,
  flavour: AppFlavour,
  extraSources: Record<string, string>,
): Promise<string> {
  const root = join(app.directory, flavour);
  mkdirSync(join(root, 'src'), { recursive: true });
  symlinkSync(join(app.directory, 'node_modules'), join(root, 'node_modules'), 'dir');
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({
      name: `quick-start-${flavour}`,
      private: true,
      ...(flavour === 'esm' ? { type: 'module' } : {}),
    }),
  );
  writeFileSync(
    join(root, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: compilerOptions[flavour], include: ['src'] }, null, 2),
  );
  for (const [file, source] of [...quickStartSources(), ...Object.entries(extraSources)])
    writeFileSync(join(root, file), source);
  // The TypeScript `nest new` installs (^6.0.2), not the workspace's.
  const tsc = join(workspace, 'node_modules/typescript-6/bin/tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json'], {
      cwd: root,
      encoding: 'utf8',
    });
  } catch (error) {
    const { stdout } = error as { stdout?: string };
    throw new Error(`tsc failed for the ${flavour} app:\n${stdout ?? String(error)}`, { cause: error });
  }
  return root;
}
