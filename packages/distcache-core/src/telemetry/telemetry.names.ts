/**
 * OpenTelemetry instrument names of distcache. Durations are histograms in seconds, as the OTel
 * semantic conventions ask; counts read from the keyspace counters are observable (collected when
 * the SDK exports, nothing recorded on the read path). See docs/observability.md.
 */
export const METRIC_NAMES = {
  /**
   * Counter ({request}): engine calls by `distcache.operation` (`get`, `put`, `delete`; batch keys
   * counted one by one) and, for `get`, `distcache.outcome` (`hit`, `miss`).
   */
  requests: 'distcache.requests',
  /**
   * Histogram (s): `get`s that missed (outcome `miss`, `stale` or `error`), and every `get_many`,
   * `put` and `delete` (`ok` or `error`). Hits are counted in `distcache.requests`, not timed.
   */
  operationDuration: 'distcache.operation.duration',
  /** Histogram (s): data-source calls made by this node, by `distcache.outcome`. */
  loadDuration: 'distcache.load.duration',
  /** Histogram (s): requests this node sent to peers, by `distcache.peer.operation` and peer. */
  peerClientDuration: 'distcache.peer.client.duration',
  /** Histogram (s): requests this node served for peers. */
  peerServerDuration: 'distcache.peer.server.duration',
  /** Gauge (By): memory held per keyspace as counted against `maxBytes` (values, keys, hot copies, bookkeeping). */
  keySpaceBytes: 'distcache.keyspace.bytes',
  /** Gauge (By): the keyspace's `maxBytes`. */
  keySpaceLimit: 'distcache.keyspace.limit',
  /** Gauge ({entry}): entries held per keyspace, by `distcache.entry.kind` (`owned`, `hot`). */
  keySpaceEntries: 'distcache.keyspace.entries',
  /** Gauge ({load}): loads running now. */
  loadsInFlight: 'distcache.load.in_flight',
  /** Counter ({entry}): entries evicted to stay within `maxBytes` (stats `evictions`). */
  evictions: 'distcache.evictions',
  /** Counter ({entry}): entries removed because they expired (stats `expirations`). */
  expirations: 'distcache.expirations',
  /** Counter ({request}): reads that joined a load already running instead of starting one (stats `dedupedLoads`). */
  dedupedLoads: 'distcache.deduped_loads',
  /** Counter ({load}): loads refused, by `distcache.rejection.reason`. */
  rejectedLoads: 'distcache.load.rejected',
  /** Counter ({value}): stale values served within grace (stats `staleHits`). */
  staleHits: 'distcache.stale_hits',
  /** Counter ({load}): loads made locally because the owner could not be reached (stats `fallbackLoads`). */
  fallbackLoads: 'distcache.fallback_loads',
  /** Counter ({tag}): tags invalidated on this node, by `deleteByTags` here or on a peer (stats `tagInvalidations`). */
  tagInvalidations: 'distcache.tag_invalidations',
  /** Gauge: 1 for the breaker's current `distcache.breaker.state`, 0 for the others. */
  breakerState: 'distcache.breaker.state',
  /** Gauge ({member}): members on the ring, this node included. */
  members: 'distcache.cluster.members',
} as const;

/** Span names of distcache. Peer spans are `distcache.peer/<op>` (CLIENT on the caller, SERVER on the peer). */
export const SPAN_NAMES = {
  get: 'distcache.get',
  getMany: 'distcache.get_many',
  put: 'distcache.put',
  delete: 'distcache.delete',
  /** One data-source call (`fetch`, or `fetchMany` for a batch). */
  load: 'distcache.load',
  /** Prefix of peer request spans: `distcache.peer/get`, `distcache.peer/getMany`, ... */
  peerPrefix: 'distcache.peer/',
} as const;

/** Attribute names used on distcache metrics and spans. */
export const ATTRIBUTE_NAMES = {
  keySpace: 'distcache.keyspace',
  operation: 'distcache.operation',
  outcome: 'distcache.outcome',
  /** The key (spans only, and only with `telemetry.recordKeys`). */
  key: 'distcache.key',
  /** Number of keys of a batch call (spans only). */
  keyCount: 'distcache.key_count',
  peerOperation: 'distcache.peer.operation',
  /** `host:port` of the other node. */
  peerAddress: 'distcache.peer.address',
  entryKind: 'distcache.entry.kind',
  rejectionReason: 'distcache.rejection.reason',
  breakerState: 'distcache.breaker.state',
  /** The `DistCacheError` code (or the error's name) of a failed call. */
  errorType: 'error.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
} as const;

/** An engine call, as named on metrics and spans. */
export type TelemetryOperation = 'get' | 'get_many' | 'put' | 'delete';

/** How a call ended: reads are `hit`, `miss` or `stale`; other calls `ok`; failures `error`. */
export type TelemetryOutcome = 'hit' | 'miss' | 'stale' | 'ok' | 'error';

/** How a data-source call ended (`found` for a `fetchMany` batch that resolved). */
export type LoadOutcome = 'found' | 'not_found' | 'error';

/**
 * Bucket bounds (seconds) of every duration histogram: from a microsecond (a local hit) to ten
 * seconds (a slow source), since the SDK's defaults start at 5 ms and would put every hit in one bucket.
 */
export const DURATION_BUCKETS: readonly number[] = [
  1e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
  1, 2.5, 5, 10,
];

/**
 * The one spelling of a keyspace counter outside TypeScript: `dedupedLoads` is `deduped_loads` in
 * Prometheus (`distcache_deduped_loads_total`) and in OpenTelemetry (`distcache.deduped_loads`).
 */
export function snakeCase(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
