// The package README's quick start, as a new user follows it: a Nest 12 app with the tsconfig
// `nest new` generates (ESM, "module": "nodenext"), the same app as CommonJS (`nest new --type
// cjs`, and the "module": "commonjs" setup of older apps), both packages installed from their
// tarballs. Each flavour must compile with declarations on (TS2883 if a returned type cannot be
// named) and run. The Nx test target builds both packages first.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppFlavour,
  buildApp,
  installedVersion,
  type PackedApp,
  packApp,
  quickStartSources,
} from './support/quick-start-app';
import { freePorts, waitUntil } from './support/net';

// Beyond the README: what issue reports showed users write next. A handler returning what the
// service returns, without annotations (declaration emit must name PeerInfo, EngineStats...), and
// every subpath of both packages, which "module": "commonjs" resolves through typesVersions.
const extraSources = {
  'src/cluster.controller.ts': `import { Controller, Get } from '@nestjs/common';
import { DistCacheService } from 'nestjs-distcache';

@Controller('cluster')
export class ClusterController {
  constructor(private readonly cache: DistCacheService) {}

  @Get('peers')
  peers() {
    return this.cache.peers();
  }

  @Get('stats')
  stats() {
    return { stats: this.cache.stats(), state: this.cache.state, keySpaces: this.cache.keySpaces() };
  }

  events() {
    return this.cache.events$;
  }
}
`,
  'src/engine.info.ts': `import { DistCacheEngine } from 'distcache-core';

export const engineInfo = (engine: DistCacheEngine) => ({ stats: engine.stats(), peers: engine.peers() });
`,
  'src/subpaths.ts': `import { adminServer } from 'distcache-core/admin';
import { dnsDiscovery } from 'distcache-core/dns';
import { kubernetesDiscovery } from 'distcache-core/kubernetes';
import { natsDiscovery } from 'distcache-core/nats';
import { ManualClock } from 'distcache-core/testing';
import { DistCacheHealthIndicator } from 'nestjs-distcache/terminus';

export const subpaths = { adminServer, dnsDiscovery, kubernetesDiscovery, natsDiscovery, ManualClock, DistCacheHealthIndicator };
export const clock = () => new ManualClock();
`,
};

let app: PackedApp;
// Compiled side by side: tsc is most of this file's time.
let builds: Record<AppFlavour, Promise<string>>;
beforeAll(() => {
  app = packApp();
  const build = (flavour: AppFlavour) => buildApp(app, flavour, extraSources);
  builds = {
    esm: build('esm'),
    cjs: build('cjs'),
    commonjs: build('commonjs'),
    'commonjs-node10': build('commonjs-node10'),
  };
  // Each test awaits its own build; keep a failure from surfacing as an unhandled rejection first.
  for (const pending of Object.values(builds)) pending.catch(() => undefined);
}, 120_000);
afterAll(() => {
  if (app !== undefined) rmSync(app.directory, { recursive: true, force: true });
});

interface Replica {
  readonly url: string;
  readonly process: ChildProcess;
  output: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startReplicas(root: string, count: number): Promise<Replica[]> {
  // One call: ports of two calls could coincide.
  const ports = await freePorts(2 * count);
  const httpPorts = ports.slice(0, count);
  const cachePorts = ports.slice(count);
  const peers = cachePorts.map((port) => `127.0.0.1:${port}`).join(',');
  const replicas = httpPorts.map((port, index): Replica => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: root,
      env: {
        ...process.env,
        NO_COLOR: '1',
        PORT: String(port),
        CACHE_PORT: String(cachePorts[index]),
        CACHE_PEERS: peers,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const replica: Replica = {
      url: `http://127.0.0.1:${port}`,
      process: child,
      output: '',
      exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    };
    child.stdout.on('data', (chunk: Buffer) => (replica.output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (replica.output += chunk.toString()));
    return replica;
  });
  for (const replica of replicas) {
    await waitUntil(
      async () => {
        const health = await fetch(`${replica.url}/health`).catch(() => undefined);
        return health?.status === 200;
      },
      20_000,
      `a replica to report healthy:\n${replica.output}`,
    );
  }
  return replicas;
}

/** SIGTERM, as an orchestrator stops a replica: enableShutdownHooks() closes the app and Nest
 * re-raises the signal, so a clean stop ends by SIGTERM (a crash would end with an exit code). */
async function stopReplicas(replicas: readonly Replica[]): Promise<void> {
  for (const replica of replicas) replica.process.kill('SIGTERM');
  const exits = await Promise.all(replicas.map((replica) => replica.exited));
  for (const exit of exits) expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
}

// Four tsc runs in parallel: about 15 s of CPU; 33 to 78 s of wall time measured on a loaded machine.
describe('the README quick start in a fresh Nest 12 app, from the npm tarballs', { timeout: 180_000 }, () => {
  it('takes its files from the README and packs LICENSE, README and both module formats', () => {
    expect([...quickStartSources().keys()].sort()).toEqual([
      'src/app.controller.ts',
      'src/app.module.ts',
      'src/app.service.ts',
      'src/health.controller.ts',
      'src/main.ts',
    ]);
    for (const name of ['distcache-core', 'nestjs-distcache'])
      for (const file of [
        'LICENSE',
        'README.md',
        'package.json',
        'dist/index.js',
        'dist/index.cjs',
        'dist/index.d.cts',
      ])
        expect(app.files).toContain(`${name}/${file}`);
    // "moduleResolution": "node" ignores exports: every subpath needs its typesVersions entry.
    for (const manifest of Object.values(app.manifests)) {
      const subpaths = Object.keys(manifest.exports ?? {})
        .filter((path) => path !== '.' && path !== './package.json')
        .map((path) => path.slice(2));
      expect(Object.keys(manifest.typesVersions?.['*'] ?? {}).sort(), manifest.name).toEqual(subpaths.sort());
    }
  });

  it('declares distcache-core and Nest as peers, in ranges the installed versions satisfy', () => {
    const nest = app.manifests['nestjs-distcache'];
    expect(nest.dependencies ?? {}).toEqual({});
    expect(Object.keys(nest.peerDependencies ?? {})).toContain('distcache-core');
    for (const [name, range] of Object.entries(nest.peerDependencies ?? {}))
      expect(semver.satisfies(installedVersion(app, name), range), `${name}@${range}`).toBe(true);
  });

  it('ESM (the nest new default): compiles, three replicas load a product once, SIGTERM leaves', async () => {
    const root = await builds.esm;
    const replicas = await startReplicas(root, 3);
    try {
      // Every replica must route by the same ring before "once" can hold.
      const members = async (replica: Replica) =>
        (
          (await (await fetch(`${replica.url}/health`)).json()) as {
            info: { distcache: { members: number } };
          }
        ).info.distcache.members;
      await waitUntil(
        async () => (await Promise.all(replicas.map(members))).every((count) => count === 3),
        10_000,
        'three members on every replica',
      );
      for (const replica of replicas) {
        const response = await fetch(`${replica.url}/products/42`);
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ id: '42', name: 'Product 42' });
      }
      const loads = replicas.map(
        (replica) => replica.output.split('loading product 42 from the database').length - 1,
      );
      expect(loads.reduce((total, count) => total + count, 0)).toBe(1);
      // Nest's default logger shows the engine's info lines, not its debug chatter.
      const output = replicas.map((replica) => replica.output).join('');
      expect(output).toMatch(/\[DistCache\] joined the cluster/);
      expect(output).not.toMatch(/DEBUG \[DistCache\]/);
    } finally {
      await stopReplicas(replicas);
    }
  });

  it('CommonJS (nest new --type cjs): compiles and serves a product', async () => {
    const replicas = await startReplicas(await builds.cjs, 1);
    try {
      const response = await fetch(`${replicas[0]!.url}/products/7`);
      expect(await response.json()).toMatchObject({ id: '7', name: 'Product 7' });
    } finally {
      await stopReplicas(replicas);
    }
  });

  // Same emitted CommonJS as above; what differs is how TypeScript resolves the packages.
  it.each(['commonjs', 'commonjs-node10'] as const)(
    '"module": "commonjs" (%s): compiles',
    async (flavour) => {
      await expect(builds[flavour]).resolves.toContain(flavour);
    },
  );
});
