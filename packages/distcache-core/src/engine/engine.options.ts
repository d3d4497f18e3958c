import {
  type RateLimitOptions,
  type ResolvedRateLimit,
  resolveRateLimit,
} from '../datasource/protection.options';
import { hostname } from 'node:os';
import {
  type ClusterOptions,
  type ResolvedClusterOptions,
  resolveClusterOptions,
} from '../cluster/cluster.options';
import type { DiscoveryProvider } from '../discovery/discovery';
import {
  type PeerTlsOptions,
  type ResolvedTransportOptions,
  resolveTransportOptions,
  type TcpPeerTransportOptions,
} from '../transport/transport-options';
import { standaloneDiscovery } from '../discovery/standalone.discovery';
import { invalidOption, keySpaceExists } from '../errors/messages';
import {
  type KeySpaceDefinition,
  type KeySpaceSettings,
  type ResolvedKeySpaceConfig,
  resolveKeySpaceConfig,
  validateKeySpaceSettings,
} from '../keyspace/keyspace.options';
import { type Clock, systemClock } from '../util/clock';
import { type Duration, toPositiveMs } from '../util/duration';
import { type Logger, silentLogger } from '../util/logger';
import {
  type ResolvedTelemetryOptions,
  type TelemetryOptions,
  resolveTelemetryOptions,
} from '../telemetry/telemetry.options';
import { checkWarmKeys } from '../keyspace/key-check';
import {
  CLOCK_METHODS,
  LOGGER_METHODS,
  implementing,
  integer,
  matching,
  nonEmptyString,
  type OptionFields,
  optionsObject,
} from '../util/options';

/** Options of {@link DistCacheEngine}. */
export interface DistCacheEngineOptions {
  /** This node's name in logs, stats and the handshake. @default `${hostname}-${pid}` */
  nodeName?: string;
  /** Interface the peer listener binds to. @default '127.0.0.1' */
  host?: string;
  /** Peer listener port; `0` picks a free one. @default 3320 */
  port?: number;
  /** Host other peers use to reach this node, when it differs from `host` (e.g. `0.0.0.0` binds). */
  advertiseHost?: string;
  /** Cluster name; peers of another cluster are refused. @default 'distcache' */
  cluster?: string;
  /**
   * Who may be a member. With the default standalone provider the node owns every key and opens no
   * listener; any other provider makes it a cluster node.
   * @default standaloneDiscovery()
   */
  discovery?: DiscoveryProvider;
  /** Mutual TLS between peers: every node presents `cert`/`key` and verifies others against `ca`. */
  tls?: PeerTlsOptions;
  /** Failure detection, hot copies and ring settings. */
  clusterOptions?: ClusterOptions;
  /** Peer-connection limits and timeouts (frame size, requests in flight, handshake, reconnect). */
  transportOptions?: PeerTransportTuning;
  /**
   * One token bucket for the data-source calls of every keyspace together (on top of each
   * keyspace's own `rateLimit`). Protects a backend that all keyspaces share.
   */
  sharedRateLimit?: RateLimitOptions;
  /** Keyspaces registered at construction. More can be added at runtime with `addKeySpace`. */
  keySpaces?: ReadonlyArray<KeySpaceDefinition<unknown>>;
  /** Settings every keyspace inherits unless it sets its own. */
  keySpaceDefaults?: KeySpaceSettings;
  /** Longest key accepted, in UTF-8 bytes. @default 1024 */
  maxKeyBytes?: number;
  /** How often expired entries are swept (they are also dropped lazily on read). @default '1m' */
  purgeInterval?: Duration;
  /** Time source; inject a fake in tests. @default systemClock */
  clock?: Clock;
  /** @default silentLogger */
  logger?: Logger;
  /**
   * OpenTelemetry metrics and spans, through `@opentelemetry/api` when it is installed and an SDK
   * is registered before `start()` (or providers are given here). `false` turns them off. See
   * docs/observability.md for the instrument and span names.
   * @default {}
   */
  telemetry?: TelemetryOptions | false;
}

/** The transport settings an engine user may tune; identity and addresses come from the engine. */
const TUNING_FIELDS = [
  'maxFrameBytes',
  'maxInFlightPerPeer',
  'handshakeTimeout',
  'connectTimeout',
  'reconnect',
  'maxConnections',
  'maxConnectionsPerAddress',
  'maxBufferedBytes',
  'frameTimeout',
  'idleTimeout',
] as const satisfies ReadonlyArray<keyof TcpPeerTransportOptions>;

/** The transport settings an engine user may tune: the fields of `TUNING_FIELDS`. */
export type PeerTransportTuning = Pick<TcpPeerTransportOptions, (typeof TUNING_FIELDS)[number]>;

/** Room in a frame for everything but the value (header, keyspace, key, expiry). */
const FRAME_OVERHEAD_BYTES = 64 * 1024;

/** Options with every default filled in and every duration in milliseconds. */
export interface ResolvedEngineOptions {
  readonly nodeName: string;
  readonly host: string;
  readonly port: number;
  readonly advertiseHost: string;
  readonly cluster: string;
  readonly discovery: DiscoveryProvider;
  readonly tls: PeerTlsOptions | undefined;
  readonly clusterOptions: ResolvedClusterOptions;
  /** Every transport the cluster makes uses these, checked at construction (TLS material parsed). */
  readonly transport: ResolvedTransportOptions;
  readonly sharedRateLimit: ResolvedRateLimit | undefined;
  readonly keySpaces: ReadonlyArray<ResolvedKeySpaceConfig<unknown>>;
  readonly keySpaceDefaults: KeySpaceSettings;
  readonly maxKeyBytes: number;
  readonly purgeIntervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry: ResolvedTelemetryOptions;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 3320;
export const DEFAULT_CLUSTER = 'distcache';
export const DEFAULT_MAX_KEY_BYTES = 1024;
export const DEFAULT_PURGE_INTERVAL: Duration = '1m';

/** The fields of {@link DistCacheEngineOptions}; a new option adds its name here. */
const ENGINE: OptionFields = {
  what: 'engine option',
  fields: [
    'nodeName',
    'host',
    'port',
    'advertiseHost',
    'cluster',
    'discovery',
    'tls',
    'clusterOptions',
    'transportOptions',
    'sharedRateLimit',
    'keySpaces',
    'keySpaceDefaults',
    'maxKeyBytes',
    'purgeInterval',
    'clock',
    'logger',
    'telemetry',
  ] satisfies ReadonlyArray<keyof DistCacheEngineOptions>,
};
const TUNING: OptionFields = { what: 'transport option', fields: TUNING_FIELDS };

/** Where a transport field sits in the engine options: tuning under `transportOptions.`, `nodeId` is `nodeName`. */
function transportPath(field: string): string {
  if (field === 'nodeId') return 'nodeName';
  const head = field.split('.')[0] as (typeof TUNING_FIELDS)[number];
  return TUNING_FIELDS.includes(head) ? `transportOptions.${field}` : field;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const NAME_RULE = 'must be 1-128 letters, digits, ".", "_", "-" or ":"';

/**
 * Validates engine options and fills defaults. Pure: no I/O, nothing started.
 * @throws DistCacheError `E_INVALID_OPTION` naming the field path; `E_KEYSPACE_EXISTS` for a duplicate name
 */
export function resolveEngineOptions(options: DistCacheEngineOptions = {}): ResolvedEngineOptions {
  optionsObject(options, '', ENGINE);
  const nodeName = matching(
    options.nodeName ?? `${hostname()}-${process.pid}`,
    'nodeName',
    NAME_PATTERN,
    NAME_RULE,
  );
  const cluster = matching(options.cluster ?? DEFAULT_CLUSTER, 'cluster', NAME_PATTERN, NAME_RULE);
  const host = nonEmptyString(options.host ?? DEFAULT_HOST, 'host');
  const advertiseHost = nonEmptyString(options.advertiseHost ?? host, 'advertiseHost');
  const port = integer(options.port ?? DEFAULT_PORT, 'port', 0, 65_535);
  const maxKeyBytes = integer(options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES, 'maxKeyBytes', 1);
  const discovery = options.discovery ?? standaloneDiscovery();
  for (const method of ['initialize', 'register', 'discoverPeers', 'deregister', 'close'] as const) {
    implementing(
      discovery,
      `discovery.${method}`,
      [method],
      'must be a function: pass a discovery provider such as staticDiscovery()',
    );
  }
  const clock = implementing(options.clock ?? systemClock, 'clock', CLOCK_METHODS);
  const logger = implementing(options.logger ?? silentLogger, 'logger', LOGGER_METHODS);
  // Resolved here, TLS material parsed included, for standalone nodes too; every transport the
  // cluster makes later takes these as they are.
  const transport = resolveTransportOptions(
    {
      ...optionsObject(options.transportOptions ?? {}, 'transportOptions', TUNING),
      nodeId: nodeName,
      cluster,
      host,
      port,
      advertiseHost,
      tls: options.tls,
      clock,
      logger,
    },
    transportPath,
  );
  const keySpaceDefaults = validateKeySpaceSettings(options.keySpaceDefaults ?? {}, 'keySpaceDefaults');
  const definitions = options.keySpaces ?? [];
  if (!Array.isArray(definitions))
    throw invalidOption('keySpaces', 'must be an array of keyspace definitions');
  const seen = new Set<string>();
  const keySpaces = definitions.map((definition: KeySpaceDefinition<unknown>, index) => {
    const resolved = resolveEngineKeySpace(
      definition,
      { keySpaceDefaults, maxKeyBytes, transport },
      `keySpaces[${index}]`,
    );
    if (seen.has(resolved.name)) throw keySpaceExists(resolved.name);
    seen.add(resolved.name);
    return resolved;
  });
  return Object.freeze({
    nodeName,
    host,
    port,
    advertiseHost,
    cluster,
    discovery,
    tls: options.tls,
    clusterOptions: resolveClusterOptions(options.clusterOptions),
    transport,
    sharedRateLimit: resolveRateLimit(options.sharedRateLimit, 'sharedRateLimit'),
    keySpaces,
    keySpaceDefaults,
    maxKeyBytes,
    purgeIntervalMs: toPositiveMs(options.purgeInterval ?? DEFAULT_PURGE_INTERVAL, 'purgeInterval'),
    clock,
    logger,
    telemetry: resolveTelemetryOptions(options.telemetry),
  });
}

/**
 * Resolves a keyspace of this engine: its definition over the engine's defaults, its warm keys
 * within `maxKeyBytes`, its values within a peer frame. Used at construction and by
 * `addKeySpace`/`updateKeySpace`, so a keyspace added at runtime meets the same limits.
 * @throws DistCacheError `E_INVALID_OPTION` naming the field under `path`
 */
export function resolveEngineKeySpace<T>(
  definition: KeySpaceDefinition<T>,
  engine: Pick<ResolvedEngineOptions, 'keySpaceDefaults' | 'maxKeyBytes' | 'transport'>,
  path: string,
): ResolvedKeySpaceConfig<T> {
  const resolved = resolveKeySpaceConfig(definition, engine.keySpaceDefaults, path);
  checkWarmKeys(resolved, engine.maxKeyBytes, path);
  const frameLimit = engine.transport.maxFrameBytes;
  if (resolved.maxValueBytes > frameLimit - FRAME_OVERHEAD_BYTES) {
    throw invalidOption(
      `${path}.maxValueBytes`,
      `must leave room in a peer frame: at most ${frameLimit - FRAME_OVERHEAD_BYTES} with maxFrameBytes ${frameLimit}`,
      resolved.maxValueBytes,
    );
  }
  return resolved;
}
