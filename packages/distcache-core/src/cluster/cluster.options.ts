import { resolveHashRingOptions } from '../hashing/hash-ring.options';
import { type Duration, toMs, toOrderedMs, toPositiveMs } from '../util/duration';
import { MAX_GET_MANY_KEYS } from '../transport/transport';
import { integer, numberIn, type OptionFields, optionsObject } from '../util/options';

/** How the cluster detects failures and keeps hot copies. Every node should use the same values. */
export interface ClusterOptions {
  /** How often each peer is pinged. @default '500ms' */
  pingInterval?: Duration;
  /** A ping not answered within this is a miss. @default '1s' */
  pingTimeout?: Duration;
  /**
   * A member not heard from for this long is dropped from the ring, once two other members could
   * not reach it either. Silence counts from its first unanswered ping: with the defaults a paused,
   * cut-off or crashed peer leaves 4-5.5 s after it went silent (a writer drops one that does not
   * acknowledge an invalidation sooner), one that leaves gracefully at once.
   * @default '3s'
   */
  failureTimeout?: Duration;
  /** How often discovery is asked for the candidate list. @default '5s' */
  discoveryInterval?: Duration;
  /** Virtual nodes per member on the hash ring. @default 256 */
  virtualNodes?: number;
  /**
   * Share of each keyspace's `maxBytes` used for hot copies of keys other nodes own.
   * @default 0.25
   */
  hotShare?: number;
  /**
   * Longest a hot copy is kept, whatever the owner's expiry. Bounds staleness when an
   * invalidation cannot reach this node (partition). `0` keeps no hot copies: every read of a key
   * owned elsewhere asks its owner.
   * @default '10s'
   */
  hotTtl?: Duration;
  /** Deadline for invalidations and other fire-to-all messages. @default '1s' */
  broadcastTimeout?: Duration;
  /**
   * Members (this node included) that must answer before `start()` resolves; `start()` fails with
   * `E_START_FAILED` (its `cause` an `E_CLUSTER_QUORUM`) when they have not within `bootstrapTimeout`.
   * @default 1
   */
  minMembers?: number;
  /** Longest `start()` waits for the quorum and for discovery to accept this node. @default '30s' */
  bootstrapTimeout?: Duration;
  /** Further attempts when discovery fails to initialize or register this node. @default 2 */
  joinRetries?: number;
  /** First delay between join attempts; doubles each time, with jitter. @default '200ms' */
  joinRetryDelay?: Duration;
  /**
   * Longest `start()` waits for every discovered candidate to answer (or refuse) before it
   * resolves. Nodes started together are not all listening at once; waiting for them means each
   * is on the others' rings when `start()` returns, so none loads keys another owns. Candidates
   * that answer end the wait at once; only a listed node that is down makes `start()` wait this long.
   * @default '2s'
   */
  convergeTimeout?: Duration;
  /**
   * Keys remembered per peer whose invalidation it did not acknowledge (it was unreachable or off
   * the ring), delivered before it is routed to again. Past this, that peer is told to clear the
   * whole keyspace concerned instead; the same happens once what all peers missed of a keyspace
   * passes an eighth of its entries' budget (`maxBytes` less the hot copies' share), which counts it (`stats().bookkeepingBytes`).
   * @default 100000
   */
  missedInvalidationLimit?: number;
  /**
   * Most keys in one request for keys another node owns. Gets of one owner's keys started in one
   * event-loop turn, and a `getMany`'s keys of one owner, travel in requests of up to this many
   * keys; `1` sends every key alone. Smaller batches let the owner answer the next while this node
   * decodes the last (one request of 128 gets kept the two processes taking turns); larger ones
   * cost the owner fewer requests. At 128 gets in flight, 64 measured 1.30x ioredis where 256 gave
   * 0.83-0.91x (bench/README.md, "Remote hit"). At most 4096: an owner answers a request of more
   * keys `E_PROTOCOL` (docs/protocol.md).
   * @default 64
   */
  maxBatchKeys?: number;
  /**
   * Most bytes of keys in one such request (UTF-8, counted at 3 bytes per UTF-16 unit, an upper
   * bound); keep it well under the peers' `maxFrameBytes`. An answer over this node's frame limit
   * is split on the way back.
   * @default 262144 (256 KiB)
   */
  maxBatchKeyBytes?: number;
}

export interface ResolvedClusterOptions {
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly failureTimeoutMs: number;
  readonly discoveryIntervalMs: number;
  readonly virtualNodes: number | undefined;
  readonly hotShare: number;
  readonly hotTtlMs: number;
  readonly broadcastTimeoutMs: number;
  readonly minMembers: number;
  readonly bootstrapTimeoutMs: number;
  readonly joinRetries: number;
  readonly joinRetryDelayMs: number;
  readonly convergeTimeoutMs: number;
  readonly missedInvalidationLimit: number;
  readonly maxBatchKeys: number;
  readonly maxBatchKeyBytes: number;
}

export const DEFAULT_PING_INTERVAL: Duration = '500ms';
export const DEFAULT_PING_TIMEOUT: Duration = '1s';
export const DEFAULT_FAILURE_TIMEOUT: Duration = '3s';
export const DEFAULT_DISCOVERY_INTERVAL: Duration = '5s';
export const DEFAULT_HOT_SHARE = 0.25;
export const DEFAULT_HOT_TTL: Duration = '10s';
export const DEFAULT_BROADCAST_TIMEOUT: Duration = '1s';
export const DEFAULT_MIN_MEMBERS = 1;
export const DEFAULT_BOOTSTRAP_TIMEOUT: Duration = '30s';
export const DEFAULT_JOIN_RETRIES = 2;
export const DEFAULT_JOIN_RETRY_DELAY: Duration = '200ms';
export const DEFAULT_CONVERGE_TIMEOUT: Duration = '2s';
export const DEFAULT_MISSED_INVALIDATION_LIMIT = 100_000;
export const DEFAULT_MAX_BATCH_KEYS = 64;
export const DEFAULT_MAX_BATCH_KEY_BYTES = 256 * 1024;

const CLUSTER_FIELDS: OptionFields = {
  what: 'cluster option',
  fields: [
    'pingInterval',
    'pingTimeout',
    'failureTimeout',
    'discoveryInterval',
    'virtualNodes',
    'hotShare',
    'hotTtl',
    'broadcastTimeout',
    'minMembers',
    'bootstrapTimeout',
    'joinRetries',
    'joinRetryDelay',
    'convergeTimeout',
    'missedInvalidationLimit',
    'maxBatchKeys',
    'maxBatchKeyBytes',
  ],
};

/** @throws DistCacheError `E_INVALID_OPTION` naming the field under `clusterOptions.` */
export function resolveClusterOptions(options: ClusterOptions = {}): ResolvedClusterOptions {
  const input: ClusterOptions = optionsObject(options, 'clusterOptions', CLUSTER_FIELDS);
  const at = (field: keyof ClusterOptions): string => `clusterOptions.${field}`;
  const [pingIntervalMs, failureTimeoutMs] = toOrderedMs(
    { value: input.pingInterval ?? DEFAULT_PING_INTERVAL, path: at('pingInterval') },
    { value: input.failureTimeout ?? DEFAULT_FAILURE_TIMEOUT, path: at('failureTimeout') },
  );
  // Checked here, at construction, though the ring is built only once members are known.
  if (input.virtualNodes !== undefined)
    resolveHashRingOptions({ virtualNodes: input.virtualNodes }, 'clusterOptions.');
  return Object.freeze({
    minMembers: integer(input.minMembers ?? DEFAULT_MIN_MEMBERS, at('minMembers'), 1),
    joinRetries: integer(input.joinRetries ?? DEFAULT_JOIN_RETRIES, at('joinRetries'), 0),
    missedInvalidationLimit: integer(
      input.missedInvalidationLimit ?? DEFAULT_MISSED_INVALIDATION_LIMIT,
      at('missedInvalidationLimit'),
      1,
    ),
    maxBatchKeys: integer(
      input.maxBatchKeys ?? DEFAULT_MAX_BATCH_KEYS,
      at('maxBatchKeys'),
      1,
      MAX_GET_MANY_KEYS,
    ),
    maxBatchKeyBytes: integer(
      input.maxBatchKeyBytes ?? DEFAULT_MAX_BATCH_KEY_BYTES,
      at('maxBatchKeyBytes'),
      1024,
    ),
    convergeTimeoutMs: toMs(input.convergeTimeout ?? DEFAULT_CONVERGE_TIMEOUT, at('convergeTimeout')),
    joinRetryDelayMs: toPositiveMs(input.joinRetryDelay ?? DEFAULT_JOIN_RETRY_DELAY, at('joinRetryDelay')),
    bootstrapTimeoutMs: toPositiveMs(
      input.bootstrapTimeout ?? DEFAULT_BOOTSTRAP_TIMEOUT,
      at('bootstrapTimeout'),
    ),
    pingIntervalMs,
    pingTimeoutMs: toPositiveMs(input.pingTimeout ?? DEFAULT_PING_TIMEOUT, at('pingTimeout')),
    failureTimeoutMs,
    discoveryIntervalMs: toPositiveMs(
      input.discoveryInterval ?? DEFAULT_DISCOVERY_INTERVAL,
      at('discoveryInterval'),
    ),
    virtualNodes: input.virtualNodes,
    hotShare: numberIn(input.hotShare ?? DEFAULT_HOT_SHARE, at('hotShare'), { above: 0, below: 1 }),
    hotTtlMs: toMs(input.hotTtl ?? DEFAULT_HOT_TTL, at('hotTtl')),
    broadcastTimeoutMs: toPositiveMs(
      input.broadcastTimeout ?? DEFAULT_BROADCAST_TIMEOUT,
      at('broadcastTimeout'),
    ),
  });
}
