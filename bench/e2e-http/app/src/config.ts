/**
 * The ways the bench app reads a product; only the cache differs between them. `local-map` (an
 * unbounded in-process Map) and `distcache-standalone` (one distcache engine per instance, no
 * cluster) are references, not compared caches.
 */
export const VARIANTS = [
  'no-cache',
  'cache-manager',
  'bentocache',
  'distcache',
  'local-map',
  'distcache-standalone',
] as const;
export type Variant = (typeof VARIANTS)[number];

/** What one app instance is told by the bench (JSON in `argv[2]`). */
export interface InstanceConfig {
  variant: Variant;
  /** 0, 1 or 2: this instance's place in the three. */
  index: number;
  httpPort: number;
  /** distcache peer listener ports of the three instances (static discovery, loopback). */
  peerPorts: number[];
  /** distcache cluster name, unique per run. */
  cluster: string;
  /** Latency of the simulated database, in milliseconds. */
  sourceMs: number;
  /** Products in the database: ids 1..products. */
  products: number;
  /** TTL of a cached product, in milliseconds (the same for every cache). */
  ttlMs: number;
  /** Byte budget of an in-process cache layer on one instance (distcache keyspace, bentocache L1). */
  memoryBytes: number;
  redis: { host: string; port: number };
  /** Redis key prefix of this run; the bench deletes everything under it. */
  prefix: string;
}

/** The injection token of the instance's configuration. */
export const INSTANCE_CONFIG = Symbol('INSTANCE_CONFIG');

/** Parses and checks the configuration the bench passed. @throws Error on a malformed one */
export function parseInstanceConfig(raw: string | undefined): InstanceConfig {
  if (raw === undefined) throw new Error('usage: node dist/main.js <instance config as JSON>');
  const config = JSON.parse(raw) as InstanceConfig;
  if (!VARIANTS.includes(config.variant)) throw new Error(`unknown variant "${String(config.variant)}"`);
  for (const field of ['index', 'httpPort', 'sourceMs', 'products', 'ttlMs', 'memoryBytes'] as const) {
    if (typeof config[field] !== 'number' || !(config[field] >= 0))
      throw new Error(`${field} must be a non-negative number, got ${String(config[field])}`);
  }
  return config;
}
