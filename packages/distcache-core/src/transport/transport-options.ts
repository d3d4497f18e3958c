import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { invalidOption } from '../errors/messages';
import { type Clock, systemClock } from '../util/clock';
import { type Duration, toOrderedMs, toPositiveMs } from '../util/duration';
import {
  CLOCK_METHODS,
  implementing,
  integer,
  LOGGER_METHODS,
  numberIn,
  oneOf,
  type OptionFields,
  optionsObject,
} from '../util/options';
import { type Logger, silentLogger } from '../util/logger';
import { MAX_MAX_FRAME_BYTES, MIN_MAX_FRAME_BYTES } from './wire-format';

/** PEM material for mutual TLS between peers. */
export interface PeerTlsOptions {
  /** CA certificate(s) (PEM) that sign every peer's certificate; both directions verify against it. */
  ca: string | Buffer;
  /** This node's certificate (PEM), presented as server and as client. */
  cert: string | Buffer;
  /** The private key (PEM) of `cert`. */
  key: string | Buffer;
  /**
   * When the client checks the server certificate's name against the address it dialled:
   * `'dns-only'` checks host names and skips IP literals (peers are usually dialled by pod IPs that
   * change; membership is proven by the cluster CA), `'always'` checks IPs against IP SANs too,
   * `'never'` relies on the CA alone. The chain is verified against `ca` in every mode.
   * @default 'dns-only'
   */
  hostnameCheck?: 'dns-only' | 'always' | 'never';
}

/** Reconnect backoff after a failed connection attempt. */
export interface ReconnectOptions {
  /** Delay after the first failed attempt; doubles with each further failure. @default '100ms' */
  baseDelay?: Duration;
  /** Cap of the delay. @default '5s' */
  maxDelay?: Duration;
  /** Fraction (0..1) of the delay that is randomised away, so peers do not reconnect in step. @default 0.2 */
  jitter?: number;
}

/** Options of {@link tcpPeerTransport}. */
export interface TcpPeerTransportOptions {
  /** This node's id, sent in the handshake and in `pong`. */
  nodeId: string;
  /** Cluster name; peers of another cluster are refused at the handshake. @default 'distcache' */
  cluster?: string;
  /** Interface the listener binds. @default '127.0.0.1' */
  host?: string;
  /** Listener port; 0 picks a free one. @default 0 */
  port?: number;
  /** Host announced to peers in the handshake. @default the value of `host` */
  advertiseHost?: string;
  /** Mutual TLS; plaintext TCP when absent. */
  tls?: PeerTlsOptions;
  /** Largest frame accepted (bytes after the 4-byte length prefix). @default 8 MiB */
  maxFrameBytes?: number;
  /**
   * Requests in flight to one peer (sent or waiting for the connection). Past it, `request()` rejects
   * at once with `E_TOO_MANY_REQUESTS`; the server answers the same code past it per connection.
   * @default 1024
   */
  maxInFlightPerPeer?: number;
  /** Time a new connection has to complete the handshake, on both sides. @default '2s' */
  handshakeTimeout?: Duration;
  /**
   * Inbound connections held at once (handshaking ones included). Past it a new connection is
   * closed at accept, with a rate-limited warning.
   * @default 1024
   */
  maxConnections?: number;
  /**
   * Inbound connections held at once from one remote IP address (a node dials one connection per
   * peer, so a handful is normal; several nodes on one host share its address).
   * @default 64
   */
  maxConnectionsPerAddress?: number;
  /**
   * Bytes all inbound connections together may hold for frames being received. A frame over 64 KiB
   * reserves its announced length when its length prefix arrives; when less than that is left, the
   * connection is closed before the body is buffered. Smaller frames (every read) are never refused.
   * Per connection, at most one frame is assembled at a time, so `maxFrameBytes` bounds it.
   * @default 64 MiB
   */
  maxBufferedBytes?: number;
  /**
   * Time a frame has to arrive whole once its first bytes came; a connection that trickles a frame
   * slower is closed.
   * @default '10s'
   */
  frameTimeout?: Duration;
  /**
   * Time an inbound connection may stay without any byte received while no request is in flight.
   * Then the server sends GOAWAY and closes it once the client stops (the client opens a fresh
   * connection for its next request, so no request is lost). Peers ping every 500 ms by default, so
   * a live peer link never reaches it.
   * @default '60s'
   */
  idleTimeout?: Duration;
  /** Time a TCP (and TLS) connect may take. @default '2s' */
  connectTimeout?: Duration;
  /** Backoff between failed connection attempts. */
  reconnect?: ReconnectOptions;
  /** @default systemClock */
  clock?: Clock;
  /** @default silentLogger */
  logger?: Logger;
}

/** {@link TcpPeerTransportOptions} with every default filled in and durations in milliseconds. */
export interface ResolvedTransportOptions {
  nodeId: string;
  cluster: string;
  host: string;
  port: number;
  advertiseHost: string;
  tls: Required<PeerTlsOptions> | undefined;
  maxFrameBytes: number;
  maxInFlightPerPeer: number;
  handshakeTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxBufferedBytes: number;
  frameTimeoutMs: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  reconnectJitter: number;
  clock: Clock;
  logger: Logger;
}

/** Default of {@link TcpPeerTransportOptions.cluster}. */
export const DEFAULT_TRANSPORT_CLUSTER = 'distcache';
/** Default of {@link TcpPeerTransportOptions.host} (loopback: listening on a network is a choice). */
export const DEFAULT_TRANSPORT_HOST = '127.0.0.1';
/** Default of {@link TcpPeerTransportOptions.port}: any free port. */
export const DEFAULT_TRANSPORT_PORT = 0;
/** Default of {@link TcpPeerTransportOptions.maxFrameBytes}: 8 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;
/** Upper bound of `maxFrameBytes` (1 GiB; the protocol's, see wire-format). */
export { MAX_MAX_FRAME_BYTES };
/** Default of {@link TcpPeerTransportOptions.maxInFlightPerPeer}. */
export const DEFAULT_MAX_IN_FLIGHT_PER_PEER = 1024;
/** Default of {@link TcpPeerTransportOptions.handshakeTimeout}. */
export const DEFAULT_HANDSHAKE_TIMEOUT: Duration = '2s';
/** Default of {@link TcpPeerTransportOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Default of {@link TcpPeerTransportOptions.maxConnectionsPerAddress}. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 64;
/** Default of {@link TcpPeerTransportOptions.maxBufferedBytes}: 64 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** Default of {@link TcpPeerTransportOptions.frameTimeout}. */
export const DEFAULT_FRAME_TIMEOUT: Duration = '10s';
/** Default of {@link TcpPeerTransportOptions.idleTimeout}. */
export const DEFAULT_IDLE_TIMEOUT: Duration = '60s';
/** Default of {@link TcpPeerTransportOptions.connectTimeout}. */
export const DEFAULT_CONNECT_TIMEOUT: Duration = '2s';
/** Default of {@link ReconnectOptions.baseDelay}. */
export const DEFAULT_RECONNECT_BASE_DELAY: Duration = '100ms';
/** Default of {@link ReconnectOptions.maxDelay}. */
export const DEFAULT_RECONNECT_MAX_DELAY: Duration = '5s';
/** Default of {@link ReconnectOptions.jitter}. */
export const DEFAULT_RECONNECT_JITTER = 0.2;
/** Longest node id or cluster name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 1024;

/** The fields of {@link TcpPeerTransportOptions}; a new option adds its name here. */
export const TRANSPORT_FIELDS = [
  'nodeId',
  'cluster',
  'host',
  'port',
  'advertiseHost',
  'tls',
  'maxFrameBytes',
  'maxInFlightPerPeer',
  'handshakeTimeout',
  'maxConnections',
  'maxConnectionsPerAddress',
  'maxBufferedBytes',
  'frameTimeout',
  'idleTimeout',
  'connectTimeout',
  'reconnect',
  'clock',
  'logger',
] as const satisfies ReadonlyArray<keyof TcpPeerTransportOptions>;
const TRANSPORT: OptionFields = { what: 'transport option', fields: TRANSPORT_FIELDS };
const RECONNECT: OptionFields = { what: 'reconnect option', fields: ['baseDelay', 'maxDelay', 'jitter'] };
const TLS: OptionFields = { what: 'TLS option', fields: ['ca', 'cert', 'key', 'hostnameCheck'] };

/** Options this module resolved: resolving them again returns them as they are. */
const resolved = new WeakSet<ResolvedTransportOptions>();

/**
 * Fills defaults, converts durations to milliseconds and validates every field. Options it
 * returned are accepted again as they are, so a caller that validated them at construction (the
 * engine) hands them to every transport it makes without checking (and parsing TLS) twice.
 *
 * @param at the path of a field in the caller's options, for errors: the engine names
 *   `transportOptions.maxFrameBytes` and `nodeName` where a bare transport names `maxFrameBytes`
 *   and `nodeId`
 * @throws DistCacheError `E_INVALID_OPTION` naming the first invalid field
 */
export function resolveTransportOptions(
  options: TcpPeerTransportOptions | ResolvedTransportOptions,
  at: (field: string) => string = (field) => field,
): ResolvedTransportOptions {
  if (resolved.has(options as ResolvedTransportOptions)) return options as ResolvedTransportOptions;
  const input: Partial<TcpPeerTransportOptions> = optionsObject(options, '', TRANSPORT);
  const host = name(input.host ?? DEFAULT_TRANSPORT_HOST, at('host'));
  const reconnect: ReconnectOptions = optionsObject(input.reconnect ?? {}, at('reconnect'), RECONNECT);
  const [reconnectBaseMs, reconnectMaxMs] = toOrderedMs(
    { value: reconnect.baseDelay ?? DEFAULT_RECONNECT_BASE_DELAY, path: at('reconnect.baseDelay') },
    { value: reconnect.maxDelay ?? DEFAULT_RECONNECT_MAX_DELAY, path: at('reconnect.maxDelay') },
  );
  const maxFrameBytes = integer(
    input.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    at('maxFrameBytes'),
    MIN_MAX_FRAME_BYTES,
    MAX_MAX_FRAME_BYTES,
  );
  const maxConnections = integer(
    input.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    at('maxConnections'),
    1,
    1_000_000,
  );
  const result: ResolvedTransportOptions = {
    nodeId: name(input.nodeId, at('nodeId')),
    cluster: name(input.cluster ?? DEFAULT_TRANSPORT_CLUSTER, at('cluster')),
    host,
    port: integer(input.port ?? DEFAULT_TRANSPORT_PORT, at('port'), 0, 65_535),
    advertiseHost: name(input.advertiseHost ?? host, at('advertiseHost')),
    tls: input.tls === undefined ? undefined : resolveTls(input.tls, at('tls')),
    maxFrameBytes,
    maxInFlightPerPeer: integer(
      input.maxInFlightPerPeer ?? DEFAULT_MAX_IN_FLIGHT_PER_PEER,
      at('maxInFlightPerPeer'),
      1,
      0xffff_ffff,
    ),
    handshakeTimeoutMs: toPositiveMs(
      input.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
      at('handshakeTimeout'),
    ),
    maxConnections,
    maxConnectionsPerAddress: integer(
      input.maxConnectionsPerAddress ?? Math.min(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, maxConnections),
      at('maxConnectionsPerAddress'),
      1,
      maxConnections,
    ),
    // At least one frame of the largest size must fit, or such frames could never be received.
    maxBufferedBytes: integer(
      input.maxBufferedBytes ?? Math.max(DEFAULT_MAX_BUFFERED_BYTES, maxFrameBytes),
      at('maxBufferedBytes'),
      maxFrameBytes,
    ),
    frameTimeoutMs: toPositiveMs(input.frameTimeout ?? DEFAULT_FRAME_TIMEOUT, at('frameTimeout')),
    idleTimeoutMs: toPositiveMs(input.idleTimeout ?? DEFAULT_IDLE_TIMEOUT, at('idleTimeout')),
    connectTimeoutMs: toPositiveMs(input.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT, at('connectTimeout')),
    reconnectBaseMs,
    reconnectMaxMs,
    reconnectJitter: numberIn(reconnect.jitter ?? DEFAULT_RECONNECT_JITTER, at('reconnect.jitter'), {
      from: 0,
      to: 1,
    }),
    clock: implementing(input.clock ?? systemClock, at('clock'), CLOCK_METHODS),
    logger: implementing(input.logger ?? silentLogger, at('logger'), LOGGER_METHODS),
  };
  resolved.add(result);
  return result;
}

function resolveTls(tls: PeerTlsOptions, path: string): Required<PeerTlsOptions> {
  optionsObject(tls, path, TLS, 'must be an object with ca, cert and key');
  for (const field of ['ca', 'cert', 'key'] as const) {
    const value: unknown = tls[field];
    const ok =
      (typeof value === 'string' && value.length > 0) || (Buffer.isBuffer(value) && value.length > 0);
    if (!ok) throw invalidOption(`${path}.${field}`, 'must be a non-empty PEM string or Buffer');
  }
  const hostnameCheck = oneOf(tls.hostnameCheck ?? 'dns-only', `${path}.hostnameCheck`, [
    'dns-only',
    'always',
    'never',
  ]);
  // Parse the material now, so a bad PEM or a key that does not match fails at construction.
  try {
    new X509Certificate(tls.ca);
  } catch (error) {
    throw invalidOption(
      `${path}.ca`,
      `is not a PEM certificate: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  tryContext(`${path}.cert`, { cert: tls.cert, key: tls.key }, (message) =>
    /key/i.test(message) ? `${path}.key` : `${path}.cert`,
  );
  return { ca: tls.ca, cert: tls.cert, key: tls.key, hostnameCheck };
}

function tryContext(
  path: string,
  material: SecureContextOptions,
  pathOf?: (message: string) => string,
): void {
  try {
    createSecureContext(material);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw invalidOption(pathOf?.(message) ?? path, `is not usable TLS material: ${message}`);
  }
}

function name(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalidOption(path, 'must be a non-empty string', value);
  if (Buffer.byteLength(value) > MAX_NAME_BYTES) {
    throw invalidOption(path, `must be at most ${MAX_NAME_BYTES} bytes of UTF-8`, value);
  }
  return value;
}
