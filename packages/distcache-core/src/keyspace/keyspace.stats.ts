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
}

/** A snapshot of a keyspace's counters and occupancy. */
export interface KeySpaceStats extends KeySpaceCounters {
  /** Bytes held (encoded values plus keys). */
  bytes: number;
  /** Entries held. */
  items: number;
  maxBytes: number;
  /** Loads running now. */
  inFlight: number;
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
  };
}
