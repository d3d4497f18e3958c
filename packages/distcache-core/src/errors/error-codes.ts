/**
 * Every stable error code distcache can raise. Codes never change meaning between versions;
 * match on them instead of on messages.
 */
export const ERROR_CODES = {
  /** An option failed validation; the message names the field path. */
  E_INVALID_OPTION: 'E_INVALID_OPTION',
  /** No keyspace with that name is registered. */
  E_KEYSPACE_NOT_FOUND: 'E_KEYSPACE_NOT_FOUND',
  /** A keyspace with that name is already registered. */
  E_KEYSPACE_EXISTS: 'E_KEYSPACE_EXISTS',
  /**
   * A key is not a string, is empty, holds a lone surrogate, or is longer than `maxKeyBytes` (the
   * owner's, for a key sent to it); or, in nestjs-distcache, the arguments of a decorated method
   * cannot be made into a key.
   */
  E_INVALID_KEY: 'E_INVALID_KEY',
  /** A value is `undefined` (which means "not found") or cannot be encoded by the codec. */
  E_INVALID_VALUE: 'E_INVALID_VALUE',
  /** An encoded value is larger than `maxValueBytes` or the keyspace's `maxBytes`. */
  E_VALUE_TOO_LARGE: 'E_VALUE_TOO_LARGE',
  /** Stored or received bytes could not be decoded by the keyspace codec. */
  E_DECODE_FAILED: 'E_DECODE_FAILED',
  /** The data source threw or rejected; `cause` holds what it threw. */
  E_DATASOURCE_FAILED: 'E_DATASOURCE_FAILED',
  /** The data source did not answer within the read timeout; its signal was aborted. */
  E_DATASOURCE_TIMEOUT: 'E_DATASOURCE_TIMEOUT',
  /** The caller's own deadline (`timeout` call option) passed before the operation finished. */
  E_TIMEOUT: 'E_TIMEOUT',
  /** The caller's `AbortSignal` fired; `cause` is the signal's reason. */
  E_ABORTED: 'E_ABORTED',
  /** The operation needs a running engine and `start()` has not completed. */
  E_ENGINE_NOT_STARTED: 'E_ENGINE_NOT_STARTED',
  /** The engine was stopped; a stopped engine cannot be used or restarted. */
  E_ENGINE_STOPPED: 'E_ENGINE_STOPPED',
  /** `start()` failed; everything it had opened was released. `cause` says why. */
  E_START_FAILED: 'E_START_FAILED',
  /** The circuit breaker of the data source is open. */
  E_CIRCUIT_OPEN: 'E_CIRCUIT_OPEN',
  /** The data-source rate limit rejected the load. */
  E_RATE_LIMITED: 'E_RATE_LIMITED',
  /** The cluster did not reach its minimum quorum in time. */
  E_CLUSTER_QUORUM: 'E_CLUSTER_QUORUM',
  /** A peer could not be reached or failed the request. */
  E_PEER_UNAVAILABLE: 'E_PEER_UNAVAILABLE',
  /** A peer broke the wire protocol (bad frame, bad handshake, oversized frame). */
  E_PROTOCOL: 'E_PROTOCOL',
  /** Too many requests are in flight on a peer connection. */
  E_TOO_MANY_REQUESTS: 'E_TOO_MANY_REQUESTS',
  /** A discovery provider failed (server unreachable, bad answer) or was used after `close()`. */
  E_DISCOVERY_FAILED: 'E_DISCOVERY_FAILED',
  /** An optional peer dependency is not installed; the message says which package to add. */
  E_MISSING_DEPENDENCY: 'E_MISSING_DEPENDENCY',
  /**
   * A peer does not list this node among its members (its discovery does not name this node), so
   * it will not serve it as a member: membership must be symmetric. Fix the peer lists.
   */
  E_NOT_A_MEMBER: 'E_NOT_A_MEMBER',
} as const;

/** A stable error code, see {@link ERROR_CODES}. */
export type DistCacheErrorCode = keyof typeof ERROR_CODES;
