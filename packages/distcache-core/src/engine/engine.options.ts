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
  DEFAULT_MAX_FRAME_BYTES,
  type PeerTlsOptions,
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
export type PeerTransportTuning = Pick<
  TcpPeerTransportOptions,
  | 'maxFrameBytes'
  | 'maxInFlightPerPeer'
  | 'handshakeTimeout'
  | 'connectTimeout'
  | 'reconnect'
  | 'maxConnections'
  | 'maxConnectionsPerAddress'
  | 'maxBufferedBytes'
  | 'frameTimeout'
  | 'idleTimeout'
>;

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
  readonly transportOptions: PeerTransportTuning;
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

const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
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
]);

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * Validates engine options and fills defaults. Pure: no I/O, nothing started.
 * @throws DistCacheError `E_INVALID_OPTION` naming the field path; `E_KEYSPACE_EXISTS` for a duplicate name
 */
export function resolveEngineOptions(options: DistCacheEngineOptions = {}): ResolvedEngineOptions {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'must be an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw invalidOption(key, 'is not a known engine option');
  }
  const nodeName = options.nodeName ?? `${hostname()}-${process.pid}`;
  if (typeof nodeName !== 'string' || !NAME_PATTERN.test(nodeName)) {
    throw invalidOption('nodeName', 'must be 1-128 letters, digits, ".", "_", "-" or ":"', nodeName);
  }
  const cluster = options.cluster ?? DEFAULT_CLUSTER;
  if (typeof cluster !== 'string' || !NAME_PATTERN.test(cluster)) {
    throw invalidOption('cluster', 'must be 1-128 letters, digits, ".", "_", "-" or ":"', cluster);
  }
  const host = options.host ?? DEFAULT_HOST;
  if (typeof host !== 'string' || host.length === 0)
    throw invalidOption('host', 'must be a non-empty string', host);
  const advertiseHost = options.advertiseHost ?? host;
  if (typeof advertiseHost !== 'string' || advertiseHost.length === 0) {
    throw invalidOption('advertiseHost', 'must be a non-empty string', advertiseHost);
  }
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw invalidOption('port', 'must be an integer from 0 to 65535', port);
  }
  const maxKeyBytes = options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  if (!Number.isSafeInteger(maxKeyBytes) || maxKeyBytes <= 0) {
    throw invalidOption('maxKeyBytes', 'must be a positive integer', maxKeyBytes);
  }
  const discovery = options.discovery ?? standaloneDiscovery();
  for (const method of ['initialize', 'register', 'discoverPeers', 'deregister', 'close'] as const) {
    if (typeof discovery[method] !== 'function') {
      throw invalidOption(
        `discovery.${method}`,
        'must be a function: pass a discovery provider such as staticDiscovery()',
      );
    }
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function') {
    throw invalidOption('clock', 'must implement now(), setTimeout() and clearTimeout()');
  }
  const keySpaceDefaults = validateKeySpaceSettings(options.keySpaceDefaults ?? {}, 'keySpaceDefaults');
  const definitions = options.keySpaces ?? [];
  if (!Array.isArray(definitions))
    throw invalidOption('keySpaces', 'must be an array of keyspace definitions');
  const seen = new Set<string>();
  const keySpaces = definitions.map((definition: KeySpaceDefinition<unknown>, index) => {
    const resolved = resolveKeySpaceConfig(definition, keySpaceDefaults, `keySpaces[${index}]`);
    checkWarmKeys(resolved, maxKeyBytes, `keySpaces[${index}]`);
    if (seen.has(resolved.name)) throw keySpaceExists(resolved.name);
    seen.add(resolved.name);
    const frameLimit = options.transportOptions?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (resolved.maxValueBytes > frameLimit - FRAME_OVERHEAD_BYTES) {
      throw invalidOption(
        `keySpaces[${index}].maxValueBytes`,
        `must leave room in a peer frame: at most ${frameLimit - FRAME_OVERHEAD_BYTES} with maxFrameBytes ${frameLimit}`,
        resolved.maxValueBytes,
      );
    }
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
    transportOptions: { ...options.transportOptions },
    sharedRateLimit: resolveRateLimit(options.sharedRateLimit, 'sharedRateLimit'),
    keySpaces,
    keySpaceDefaults,
    maxKeyBytes,
    purgeIntervalMs: toPositiveMs(options.purgeInterval ?? DEFAULT_PURGE_INTERVAL, 'purgeInterval'),
    clock,
    logger: options.logger ?? silentLogger,
    telemetry: resolveTelemetryOptions(options.telemetry),
  });
}
