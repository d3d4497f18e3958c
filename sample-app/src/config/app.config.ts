// The service's configuration: read from environment variables once, validated at start. Every
// problem is reported at once, each naming the variable, so a misconfigured replica fails fast
// with a message instead of misbehaving later.
import { hostname } from 'node:os';
import type { Duration } from 'distcache-core';
import type { ConfigService } from '@nestjs/config';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the catalogue lives. */
export type DatabaseDriver = 'pglite' | 'postgres' | 'launcher';

/** How the node finds the other replicas. */
export type CacheDiscovery = 'static' | 'nats';

/** The validated configuration, as `ConfigService<AppConfig, true>` serves it. */
export interface AppConfig {
  nodeName: string;
  httpHost: string;
  httpPort: number;
  cluster: string;
  cacheHost: string;
  cachePort: number;
  cachePeers: string[];
  cacheDiscovery: CacheDiscovery;
  /** NATS servers (`CACHE_DISCOVERY=nats`); empty with static discovery. */
  natsServers: string[];
  cacheTtl: Duration;
  cacheMaxBytes: number;
  databaseDriver: DatabaseDriver;
  databaseUrl: string | undefined;
  pgliteDir: string;
  seedProducts: number;
  adminPort: number | undefined;
}

/** Thrown by {@link validateEnv}; `problems` lists one line per invalid variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((line) => `  - ${line}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_PGLITE_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '.data',
  'pglite',
);
export const DEFAULT_SEED_PRODUCTS = 50_000;

const DURATION = /^\d+(ms|s|m|h)?$/;
const HOST_PORT = /^[^\s:]+:\d{1,5}$/;
const NATS_SERVER = /^((nats|tls):\/\/)?([^\s:/@]+(:[^\s:/@]*)?@)?[^\s:/@]+(:\d{1,5})?$/;

/**
 * Validates the environment and builds the {@link AppConfig}. Used as `ConfigModule.forRoot`'s
 * `validate` and by `main.ts` before Nest starts.
 * @throws ConfigError listing every invalid variable
 */
export function validateEnv(env: Record<string, unknown>): AppConfig {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    return (typeof value === 'string' ? value : JSON.stringify(value)).trim();
  };
  const port = (name: string, fallback: number | undefined): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value > 65_535) {
      problems.push(`${name} must be a port number from 0 to 65535, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };

  const cacheHost = text('CACHE_HOST') ?? '127.0.0.1';
  const cachePort = port('CACHE_PORT', 3320) ?? 3320;
  const cachePeers = (text('CACHE_PEERS') ?? `${cacheHost}:${cachePort}`)
    .split(',')
    .map((peer) => peer.trim())
    .filter((peer) => peer.length > 0);
  // The port's range too: the engine would name the entry by its index after the empty ones were
  // dropped, not as it was typed.
  const badPeers = cachePeers.filter((peer) => {
    const port = Number(peer.slice(peer.lastIndexOf(':') + 1));
    return !HOST_PORT.test(peer) || port < 1 || port > 65_535;
  });
  if (badPeers.length > 0) {
    problems.push(`CACHE_PEERS must be a comma-separated list of host:port, got "${badPeers.join(',')}"`);
  }
  const discoveryRaw = text('CACHE_DISCOVERY') ?? 'static';
  let cacheDiscovery: CacheDiscovery = 'static';
  if (discoveryRaw === 'static' || discoveryRaw === 'nats') {
    cacheDiscovery = discoveryRaw;
  } else {
    problems.push(`CACHE_DISCOVERY must be static or nats, got "${discoveryRaw}"`);
  }
  const natsServers = (text('NATS_URL') ?? '')
    .split(',')
    .map((server) => server.trim())
    .filter((server) => server.length > 0);
  if (cacheDiscovery === 'nats') {
    if (natsServers.length === 0) {
      problems.push('CACHE_DISCOVERY=nats needs NATS_URL (e.g. nats://127.0.0.1:4222)');
    }
    const badServers = natsServers.filter((server) => !NATS_SERVER.test(server));
    if (badServers.length > 0) {
      problems.push(
        `NATS_URL must be a comma-separated list of nats://host:port or tls://host:port, got "${badServers.join(',')}"`,
      );
    }
  }
  const cacheTtl = text('CACHE_TTL') ?? '5m';
  if (!DURATION.test(cacheTtl))
    problems.push(`CACHE_TTL must be a duration like 250ms, 30s, 5m or 1h, got "${cacheTtl}"`);

  const databaseUrl = text('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const driverRaw = text('DATABASE_DRIVER') ?? (databaseUrl === undefined ? 'pglite' : 'postgres');
  let databaseDriver: DatabaseDriver = 'pglite';
  if (driverRaw === 'pglite' || driverRaw === 'postgres' || driverRaw === 'launcher') {
    databaseDriver = driverRaw;
  } else {
    problems.push(`DATABASE_DRIVER must be pglite, postgres or launcher, got "${driverRaw}"`);
  }
  if (databaseDriver === 'postgres' && databaseUrl === undefined) {
    problems.push('DATABASE_DRIVER=postgres needs DATABASE_URL');
  }
  if (databaseDriver === 'launcher' && typeof process.send !== 'function') {
    problems.push(
      'DATABASE_DRIVER=launcher only works in a process started by the cluster launcher (npm start)',
    );
  }

  const config: AppConfig = {
    nodeName: text('NODE_NAME') ?? `${hostname()}-${process.pid}`,
    httpHost: text('HTTP_HOST') ?? '127.0.0.1',
    httpPort: port('HTTP_PORT', 3000) ?? 3000,
    cluster: text('CLUSTER_NAME') ?? 'catalogue',
    cacheHost,
    cachePort,
    cachePeers,
    cacheDiscovery,
    natsServers: cacheDiscovery === 'nats' ? natsServers : [],
    cacheTtl: cacheTtl as Duration,
    cacheMaxBytes: integer('CACHE_MAX_BYTES', 64 * 1024 * 1024, 1024, 2 ** 40),
    databaseDriver,
    databaseUrl,
    pgliteDir: text('PGLITE_DIR') ?? DEFAULT_PGLITE_DIR,
    seedProducts: integer('SEED_PRODUCTS', DEFAULT_SEED_PRODUCTS, 1, 5_000_000),
    adminPort: port('ADMIN_PORT', undefined),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The whole validated config object (ConfigModule stores it as the root of the config tree). */
export function configOf(config: ConfigService<AppConfig, true>): AppConfig {
  const keys: (keyof AppConfig)[] = [
    'nodeName',
    'httpHost',
    'httpPort',
    'cluster',
    'cacheHost',
    'cachePort',
    'cachePeers',
    'cacheDiscovery',
    'natsServers',
    'cacheTtl',
    'cacheMaxBytes',
    'databaseDriver',
    'databaseUrl',
    'pgliteDir',
    'seedProducts',
    'adminPort',
  ];
  return Object.fromEntries(
    keys.map((key) => [key, config.get(key, { infer: true })]),
  ) as unknown as AppConfig;
}
