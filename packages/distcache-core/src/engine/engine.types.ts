import type { ResolvedBreakerOptions, ResolvedRateLimit } from '../datasource/protection.options';
import type { Duration } from '../util/duration';
import type { KeySpaceStats } from '../keyspace/keyspace.stats';
import type { ValueMode } from '../keyspace/keyspace.options';
import type { EngineState } from './engine.events';

/** Per-call options of reads. */
export interface GetOptions {
  /** Stops this caller's wait (the shared load goes on for others); rejects with `E_ABORTED`. */
  signal?: AbortSignal;
  /** This caller's own deadline, overriding the keyspace `readTimeout` for the wait; `E_TIMEOUT`. */
  timeout?: Duration;
}

/** Per-call options of writes. */
export interface WriteOptions {
  signal?: AbortSignal;
  /** Overrides the keyspace `writeTimeout`. */
  timeout?: Duration;
}

/** Per-call options of `put`. */
export interface PutOptions extends WriteOptions {
  /** Expiry of this entry, overriding the keyspace `ttl`. */
  ttl?: Duration;
  /**
   * Tags of this entry for `deleteByTags`, instead of those the keyspace's `tags` function
   * computes. At most 64 non-empty tags of up to 256 characters.
   */
  tags?: readonly string[];
}

/** One entry of `putMany`. */
export interface PutEntry<T> {
  key: string;
  value: T;
  /** Expiry of this entry, overriding the keyspace `ttl`. */
  ttl?: Duration;
  /** Tags of this entry (see {@link PutOptions.tags}). */
  tags?: readonly string[];
}

/** Effective configuration of a keyspace, durations in milliseconds. */
export interface KeySpaceConfigSnapshot {
  maxBytes: number;
  maxValueBytes: number;
  /** `null`: no expiry. */
  ttlMs: number | null;
  negativeTtlMs: number;
  readTimeoutMs: number;
  writeTimeoutMs: number;
  valueMode: ValueMode;
  codec: string;
  hasDataSource: boolean;
  batchLoads: boolean;
  graceMs: number;
  staleWhileRevalidate: boolean;
  /** Effective breaker settings (durations in ms); `null` when off. */
  circuitBreaker: ResolvedBreakerOptions | null;
  /** Effective rate limit of this keyspace (the shared engine bucket comes on top); `null` when none. */
  rateLimit: ResolvedRateLimit | null;
}

/** What `engine.stats()` returns. */
export interface EngineStats {
  nodeName: string;
  cluster: string;
  state: EngineState;
  /** Nodes on the ring, this one included (1 when standalone). */
  members: number;
  keySpaces: Record<string, KeySpaceStats & { config: KeySpaceConfigSnapshot }>;
}
