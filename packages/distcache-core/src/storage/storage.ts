/** What a storage keeps for one key: its size in bytes and its absolute expiry. */
export interface StorageEntry {
  /** Epoch milliseconds after which the entry is never served; `Infinity` for no expiry. */
  readonly expiresAt: number;
}

/** Why an entry left the storage, for statistics. */
export type RemovalReason = 'evicted' | 'expired' | 'deleted';

/**
 * Bounded storage for one keyspace. Implementations must never return an expired entry and must
 * keep the total `size` of their entries at or under their byte budget.
 */
export interface Storage<E extends StorageEntry> {
  /** The live entry for `key`, or undefined. An expired entry is removed and not returned. */
  get(key: string): E | undefined;
  /** Like `get` but does not refresh recency (used for peer reads and introspection). */
  peek(key: string): E | undefined;
  /** Stores `entry` using `size` bytes of the budget; may evict least recently used entries. */
  set(key: string, entry: E, size: number): void;
  /**
   * Charges `entry`, stored under `key`, a new `size` (it changed form), keeping `replacement` (an
   * object holding the same) in its place when given; may evict least recently used entries. Does
   * nothing when `key` holds another entry.
   */
  recharge(key: string, entry: E, size: number, replacement?: E): void;
  /** Removes `key`; true when something was removed. */
  delete(key: string): boolean;
  /** Removes everything (reason `deleted`). */
  clear(): void;
  /** Removes every expired entry; returns how many. */
  purgeExpired(): number;
  /** Changes the byte budget, evicting least recently used entries if needed. */
  resize(maxBytes: number): void;
  /**
   * Keeps `bytes` of the budget for what is not an entry (its keyspace's bookkeeping): entries are
   * evicted, least recently used first, until they fit in the rest, now and on every later `set`.
   */
  reserve(bytes: number): void;
  /** Keys from most to least recently used. */
  keys(): IterableIterator<string>;
  /** Bytes of the entries (the reservation not included). */
  readonly bytes: number;
  readonly items: number;
  readonly maxBytes: number;
  /** Bytes kept by {@link reserve}. */
  readonly reserved: number;
}
