import { invalidOption } from '../../errors/messages';
import { type Duration, toOrderedMs, toPositiveMs } from '../../util/duration';
import { type Logger, silentLogger } from '../../util/logger';
import {
  implementing,
  LOGGER_METHODS,
  type OptionFields,
  optionsObject,
  plainObject,
} from '../../util/options';
import type { NatsClientModule } from './nats-client';

/**
 * TLS settings handed to the NATS client as they are. An empty object asks for TLS with the
 * system's trust store.
 */
export interface NatsTlsOptions {
  /** CA certificate(s), PEM text. */
  ca?: string;
  /** Path of a PEM file with the CA certificate(s). */
  caFile?: string;
  /** Client certificate, PEM text (for servers that verify clients). */
  cert?: string;
  /** Path of the client certificate PEM file. */
  certFile?: string;
  /** Client private key, PEM text. */
  key?: string;
  /** Path of the client private key PEM file. */
  keyFile?: string;
  /** Starts TLS before the NATS INFO exchange; the server must be configured the same way. */
  handshakeFirst?: boolean;
  /** `false` accepts a server certificate that does not verify. Never do this in production. */
  rejectUnauthorized?: boolean;
}

/** Options of {@link natsDiscovery}. Every node of one cluster must use the same subjects. */
export interface NatsDiscoveryOptions {
  /** NATS server URL(s), e.g. `'nats://nats:4222'` or `['nats://n1:4222', 'nats://n2:4222']`. */
  servers: string | readonly string[];
  /**
   * Namespace inside the subject prefix: only nodes with the same value see each other. Use the
   * engine's `cluster` name (the provider cannot read it from the engine).
   * @default 'distcache'
   */
  cluster?: string;
  /**
   * First subject token(s); subjects are `<subjectPrefix>.<cluster>.announce` and
   * `<subjectPrefix>.<cluster>.discover`.
   * @default 'distcache'
   */
  subjectPrefix?: string;
  /** How often this node re-announces itself. @default '1s' */
  heartbeatInterval?: Duration;
  /**
   * A peer not heard from for this long is dropped from the list. At least twice the
   * heartbeat interval. Not applied while this node is disconnected from NATS.
   * @default '5s'
   */
  heartbeatTimeout?: Duration;
  /** How long a discovery request collects replies (on `register` and after a reconnect). @default '250ms' */
  discoverWindow?: Duration;
  /** Pause between reconnect attempts to NATS. Keep it well under `heartbeatTimeout`. @default '1s' */
  reconnectTimeWait?: Duration;
  /** Longest the first connection to NATS may take. @default '5s' */
  connectTimeout?: Duration;
  /** User name (with `pass`) for NATS authentication. */
  user?: string;
  /** Password (with `user`). */
  pass?: string;
  /** Token for NATS token authentication (not with `user`/`pass`). */
  token?: string;
  /** TLS to the NATS server. */
  tls?: NatsTlsOptions;
  /** Client name shown by the NATS server's monitoring. @default 'distcache-discovery' */
  name?: string;
  /** Where the provider logs connection changes and peers coming and going. @default silentLogger */
  logger?: Logger;
  /**
   * Loads the NATS client module. For tests (simulating a missing package); leave it unset.
   * @internal
   */
  importClient?: () => Promise<NatsClientModule>;
}

/** {@link NatsDiscoveryOptions} with defaults filled in, durations in milliseconds. */
export interface ResolvedNatsDiscoveryOptions {
  readonly servers: readonly string[];
  readonly cluster: string;
  readonly subjectPrefix: string;
  readonly subjects: NatsDiscoverySubjects;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly discoverWindowMs: number;
  readonly reconnectTimeWaitMs: number;
  readonly connectTimeoutMs: number;
  readonly user: string | undefined;
  readonly pass: string | undefined;
  readonly token: string | undefined;
  readonly tls: NatsTlsOptions | undefined;
  readonly name: string;
  readonly logger: Logger;
  readonly importClient: (() => Promise<NatsClientModule>) | undefined;
}

/** The two subjects a cluster uses. */
export interface NatsDiscoverySubjects {
  /** Announcements, heartbeats and departures are published here. */
  readonly announce: string;
  /** Request/reply: every registered node answers with its announcement. */
  readonly discover: string;
}

// Same default as the engine's `cluster` option, repeated here because discovery sits below the
// engine and must not import it.
export const DEFAULT_NATS_CLUSTER = 'distcache';
export const DEFAULT_NATS_SUBJECT_PREFIX = 'distcache';
export const DEFAULT_NATS_HEARTBEAT_INTERVAL: Duration = '1s';
export const DEFAULT_NATS_HEARTBEAT_TIMEOUT: Duration = '5s';
export const DEFAULT_NATS_DISCOVER_WINDOW: Duration = '250ms';
export const DEFAULT_NATS_RECONNECT_TIME_WAIT: Duration = '1s';
export const DEFAULT_NATS_CONNECT_TIMEOUT: Duration = '5s';
export const DEFAULT_NATS_CLIENT_NAME = 'distcache-discovery';

const NATS: OptionFields = {
  what: 'natsDiscovery option',
  fields: [
    'servers',
    'cluster',
    'subjectPrefix',
    'heartbeatInterval',
    'heartbeatTimeout',
    'discoverWindow',
    'reconnectTimeWait',
    'connectTimeout',
    'user',
    'pass',
    'token',
    'tls',
    'name',
    'logger',
    'importClient',
  ] satisfies ReadonlyArray<keyof NatsDiscoveryOptions>,
};

// Subject tokens: no wildcards (`*`, `>`), no whitespace, no empty token.
const SUBJECT = /^[A-Za-z0-9_:-]+(?:\.[A-Za-z0-9_:-]+)*$/;
const SERVER_SCHEMES = new Set(['nats:', 'tls:']);

/**
 * Fills defaults, converts durations to milliseconds and checks every field. Pure: no I/O.
 *
 * @throws DistCacheError `E_INVALID_OPTION` naming the field (`discovery.servers`, ...)
 */
export function resolveNatsDiscoveryOptions(options: NatsDiscoveryOptions): ResolvedNatsDiscoveryOptions {
  optionsObject(options, 'discovery', NATS, 'must be an object with at least "servers"');
  const servers = resolveServers(options.servers);
  const cluster = subjectTokens(options.cluster ?? DEFAULT_NATS_CLUSTER, 'discovery.cluster');
  const subjectPrefix = subjectTokens(
    options.subjectPrefix ?? DEFAULT_NATS_SUBJECT_PREFIX,
    'discovery.subjectPrefix',
  );
  // One late heartbeat must not drop a healthy peer: the timeout is at least two intervals.
  const [heartbeatIntervalMs, heartbeatTimeoutMs] = toOrderedMs(
    {
      value: options.heartbeatInterval ?? DEFAULT_NATS_HEARTBEAT_INTERVAL,
      path: 'discovery.heartbeatInterval',
    },
    { value: options.heartbeatTimeout ?? DEFAULT_NATS_HEARTBEAT_TIMEOUT, path: 'discovery.heartbeatTimeout' },
    2,
  );
  const discoverWindowMs = toPositiveMs(
    options.discoverWindow ?? DEFAULT_NATS_DISCOVER_WINDOW,
    'discovery.discoverWindow',
  );
  const reconnectTimeWaitMs = toPositiveMs(
    options.reconnectTimeWait ?? DEFAULT_NATS_RECONNECT_TIME_WAIT,
    'discovery.reconnectTimeWait',
  );
  const connectTimeoutMs = toPositiveMs(
    options.connectTimeout ?? DEFAULT_NATS_CONNECT_TIMEOUT,
    'discovery.connectTimeout',
  );
  const user = optionalString(options.user, 'discovery.user');
  const pass = optionalString(options.pass, 'discovery.pass', true);
  const token = optionalString(options.token, 'discovery.token', true);
  if ((user === undefined) !== (pass === undefined)) {
    throw invalidOption(
      user === undefined ? 'discovery.user' : 'discovery.pass',
      'user and pass go together',
    );
  }
  if (token !== undefined && user !== undefined)
    throw invalidOption('discovery.token', 'cannot be combined with user/pass');
  const tls =
    options.tls === undefined
      ? undefined
      : plainObject(options.tls, 'discovery.tls', 'must be an object of TLS options');
  const name = optionalString(options.name, 'discovery.name') ?? DEFAULT_NATS_CLIENT_NAME;
  const logger = implementing(options.logger ?? silentLogger, 'discovery.logger', LOGGER_METHODS);
  const importClient = options.importClient;
  if (importClient !== undefined && typeof importClient !== 'function')
    throw invalidOption('discovery.importClient', 'must be a function');
  return {
    servers,
    cluster,
    subjectPrefix,
    subjects: {
      announce: `${subjectPrefix}.${cluster}.announce`,
      discover: `${subjectPrefix}.${cluster}.discover`,
    },
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    discoverWindowMs,
    reconnectTimeWaitMs,
    connectTimeoutMs,
    user,
    pass,
    token,
    tls: tls === undefined ? undefined : { ...tls },
    name,
    logger,
    importClient,
  };
}

function resolveServers(value: unknown): string[] {
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  if (list.length === 0)
    throw invalidOption('discovery.servers', 'must be a NATS URL or a non-empty array of them', value);
  return list.map((server, index) => {
    const path = typeof value === 'string' ? 'discovery.servers' : `discovery.servers[${index}]`;
    if (typeof server !== 'string' || server.trim().length === 0)
      throw invalidOption(path, 'must be a non-empty string such as "nats://host:4222"', server);
    const text = server.trim();
    // A URL may carry credentials ("nats://user:pass@host"): keep those out of error messages.
    const shown = text.includes('@') ? undefined : text;
    let url: URL;
    try {
      url = new URL(text.includes('://') ? text : `nats://${text}`);
    } catch {
      throw invalidOption(path, 'must be a URL such as "nats://host:4222"', shown);
    }
    if (!SERVER_SCHEMES.has(url.protocol) || url.hostname.length === 0)
      throw invalidOption(path, 'must be a "nats://" or "tls://" URL with a host', shown);
    return text;
  });
}

function subjectTokens(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length > 128 || !SUBJECT.test(value)) {
    throw invalidOption(
      path,
      'must be up to 128 letters, digits, "_", "-", ":" in dot-separated tokens (no wildcards or spaces)',
      value,
    );
  }
  return value;
}

/** `secret` keeps the value out of the message (passwords, tokens). */
function optionalString(value: unknown, path: string, secret = false): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0)
    throw invalidOption(path, 'must be a non-empty string', secret ? undefined : value);
  return value;
}
