/** Counters a keyspace keeps on this node since it was added. */
export interface KeySpaceCounters {
  /** Calls of `get` (and keys of `getMany`). */
  gets: number;
  /** Gets answered from this node's cache (remembered "not found" included). */
  hits: number;
  /** Gets that were not in the cache. */
  misses: number;
  /** Data-source calls made by this node (a `fetchMany` batch counts once). */
  loads: number;
  /** Gets that joined a load already running for the same key instead of starting one. */
  dedupedLoads: number;
  /** Loads that failed (error, timeout, invalid value). */
  loadErrors: number;
  /** Entries removed to stay within `maxBytes`. */
  evictions: number;
  /** Entries removed because they expired. */
  expirations: number;
  /** Puts of single keys (and entries of `putMany`). */
  puts: number;
  /** Deletes of single keys (and keys of `deleteMany`). */
  deletes: number;
  /** Gets answered from a hot copy of a key another node owns (also counted in `hits`). */
  hotHits: number;
  /** Misses of keys owned elsewhere that the owner answered. */
  peerLoads: number;
  /** Reads from owners that failed, per key (unreachable, timed out, protocol error; a batched read counts each key). */
  peerErrors: number;
  /** Loads this node made itself because the owner could not be reached (kept as hot copies only). */
  fallbackLoads: number;
  /** Requests served for other nodes (get, getMany, set, delete, invalidate...; a batch of keys counts once). */
  peerRequestsServed: number;
  /** Stale values served within grace (source failing, limited, breaker open, or revalidating). */
  staleHits: number;
  /** Loads refused by a rate limit (`E_RATE_LIMITED`). */
  rateLimited: number;
  /** Loads refused by the open breaker (`E_CIRCUIT_OPEN`). */
  circuitRejected: number;
  /**
   * Tags invalidated on this node (`deleteByTags` here or on a peer), one per tag; a missed
   * invalidation delivered again after a silence may count twice.
   */
  tagInvalidations: number;
  /**
   * Popular-key hand-offs (a previous owner's SET if absent, on a membership change) this node
   * stored as the key's new owner.
   */
  handOffsStored: number;
  /**
   * Hand-offs this node refused (answered OK, stored nothing): it held or was loading the key, or
   * had removed or written it within the hand-off window, or cleared the keyspace or revoked a tag
   * of a tagged value meanwhile (docs/protocol.md, section 12).
   */
  handOffsRefused: number;
}

/** A snapshot of a keyspace's counters and occupancy. */
export interface KeySpaceStats extends KeySpaceCounters {
  /** Hot copies held (included in `items`). */
  hotItems: number;
  /**
   * Memory held, as counted against `maxBytes`: values (encoded bytes, or the decoded value once
   * read in `valueMode: 'frozen'`), keys and per-entry bookkeeping, hot copies included, and
   * {@link bookkeepingBytes}.
   */
  bytes: number;
  /**
   * Of `bytes`, what the keyspace keeps besides its entries: keys removed lately, tag
   * invalidations, invalidations listed peers missed, keys written lately (each part at most an
   * eighth of the entries' budget, `maxBytes` less the hot copies' share; packages/distcache-core/README.md, "Memory accounting").
   */
  bookkeepingBytes: number;
  /** Entries held. */
  items: number;
  maxBytes: number;
  /** Loads running now. */
  inFlight: number;
  /** State of the data source's circuit breaker; `'none'` when the keyspace has none. */
  breaker: 'closed' | 'open' | 'half-open' | 'none';
  /** hits / gets, 0 when there were no gets. */
  hitRatio: number;
}

export function newCounters(): KeySpaceCounters {
  return {
    gets: 0,
    hits: 0,
    misses: 0,
    loads: 0,
    dedupedLoads: 0,
    loadErrors: 0,
    evictions: 0,
    expirations: 0,
    puts: 0,
    deletes: 0,
    hotHits: 0,
    peerLoads: 0,
    peerErrors: 0,
    fallbackLoads: 0,
    peerRequestsServed: 0,
    staleHits: 0,
    rateLimited: 0,
    circuitRejected: 0,
    tagInvalidations: 0,
    handOffsStored: 0,
    handOffsRefused: 0,
  };
}
