// Public surface of distcache-core. Everything a user imports is listed here by name.
export { DistCacheEngine } from './engine/engine';
export {
  type DistCacheEngineOptions,
  type ResolvedEngineOptions,
  type PeerTransportTuning,
  resolveEngineOptions,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_CLUSTER,
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_PURGE_INTERVAL,
} from './engine/engine.options';
export type { EngineEvents, EngineState, KeySpaceEvent, PeerEvent } from './engine/engine.events';
export type {
  EngineStats,
  GetOptions,
  KeySpaceConfigSnapshot,
  PutEntry,
  PutOptions,
  WriteOptions,
} from './engine/engine.types';
export {
  defineKeySpace,
  resolveKeySpaceConfig,
  type KeySpaceDefinition,
  type KeySpaceSettings,
  type ResolvedKeySpaceConfig,
  type ValueMode,
  type TagsFunction,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_READ_TIMEOUT,
  DEFAULT_WRITE_TIMEOUT,
  KEYSPACE_NAME_PATTERN,
} from './keyspace/keyspace.options';
export type { KeySpaceStats, KeySpaceCounters } from './keyspace/keyspace.stats';
export { DEFAULT_MAX_TAG_RECORDS, MAX_TAGS_PER_ENTRY, MAX_TAG_CHARS } from './keyspace/tag-versions';
export type { DataSource, FetchContext, FetchFunction } from './datasource/datasource';
export type {
  CircuitBreakerOptions,
  RateLimitOptions,
  ResolvedBreakerOptions,
  ResolvedRateLimit,
} from './datasource/protection.options';
export { type Codec, structuredCodec, jsonCodec, rawCodec } from './codec';
export {
  ERROR_CODES,
  type DistCacheErrorCode,
  DistCacheError,
  isDistCacheError,
  type ErrorDetail,
  RemoteError,
  isRemoteError,
  describeError,
} from './errors';
export { type Duration, type DurationUnit, toMs } from './util/duration';
export { type Clock, type TimerHandle, systemClock } from './util/clock';
export { type Logger, type LogContext, silentLogger, consoleLogger } from './util/logger';
export { pinoLogger, type PinoLike, type PinoLogMethod } from './util/pino-logger';
export {
  type DiscoveryProvider,
  type DiscoveredPeer,
  isStandalone,
  standaloneDiscovery,
  staticDiscovery,
  type StaticDiscoveryOptions,
} from './discovery';
export type { PeerRef, PeerInfo, PeerStatus, ClusterOptions } from './cluster';
export { peerProblems } from './cluster';
export {
  DEFAULT_PING_INTERVAL,
  DEFAULT_PING_TIMEOUT,
  DEFAULT_FAILURE_TIMEOUT,
  DEFAULT_DISCOVERY_INTERVAL,
  DEFAULT_HOT_SHARE,
  DEFAULT_HOT_TTL,
  DEFAULT_BROADCAST_TIMEOUT,
  DEFAULT_MIN_MEMBERS,
  DEFAULT_BOOTSTRAP_TIMEOUT,
  DEFAULT_JOIN_RETRIES,
  DEFAULT_JOIN_RETRY_DELAY,
} from './cluster';
export * from './hashing';
export * from './transport';
export * from './telemetry';
