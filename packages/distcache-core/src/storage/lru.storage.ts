import { LRUCache } from 'lru-cache';
import type { Clock } from '../util/clock';
import type { RemovalReason, Storage, StorageEntry } from './storage';

/** Options of {@link LruStorage}. */
export interface LruStorageOptions<E extends StorageEntry = StorageEntry> {
  /** Byte budget: the sum of entry sizes never exceeds it. */
  maxBytes: number;
  clock: Clock;
  /**
   * Time for the expiry check of `get` (the hit path); a cheaper, coarser reading of `clock` is
   * fine here. Defaults to `clock.now`.
   */
  readNow?: () => number;
  /** Called for every entry that leaves the storage, with the reason. */
  onRemove?: (key: string, reason: RemovalReason) => void;
  /**
   * True when an entry must not be served any more although it has not expired (its tag was
   * invalidated). Asked on every read and purge; it should be cheap for most entries.
   */
  revoked?: (entry: E) => boolean;
}

/**
 * Storage on lru-cache, bounded by bytes (`maxSize` with an explicit size per entry). Expiry is
 * kept in the entry and checked against the injected clock, not with lru-cache's own TTL timers:
 * the absolute expiry travels between peers, and tests drive it with a fake clock.
 */
export class LruStorage<E extends StorageEntry> implements Storage<E> {
  private cache: LRUCache<string, E>;
  private readonly clock: Clock;
  private readonly readNow: () => number;
  private readonly onRemove: ((key: string, reason: RemovalReason) => void) | undefined;
  private readonly revoked: (entry: E) => boolean;
  /**
   * The options of every `get`. Without them lru-cache makes an object per call and writes a
   * `status` into it: garbage on every hit. It only puts a status object there while its metrics
   * channel has subscribers; {@link get} takes it out again, so no call sees another's.
   */
  private readonly getOptions: LRUCache.GetOptions<string, E, unknown> = { status: undefined };
  // Set while we remove on purpose, so dispose() can tell expiry and delete from eviction.
  private removing: RemovalReason | undefined;
  // Set while an entry is taken out only to be put back with another size.
  private quiet = false;
  private reservedBytes = 0;

  constructor(options: LruStorageOptions<E>) {
    this.revoked = options.revoked ?? notRevoked;
    this.clock = options.clock;
    this.readNow = options.readNow ?? (() => options.clock.now());
    this.onRemove = options.onRemove;
    this.cache = this.createCache(options.maxBytes);
  }

  get maxBytes(): number {
    return this.cache.maxSize;
  }

  get bytes(): number {
    return this.cache.calculatedSize;
  }

  get items(): number {
    return this.cache.size;
  }

  get reserved(): number {
    return this.reservedBytes;
  }

  reserve(bytes: number): void {
    const grew = bytes > this.reservedBytes;
    this.reservedBytes = bytes;
    if (grew) this.fitReservation();
  }

  get(key: string): E | undefined {
    const options = this.getOptions;
    const entry = this.cache.get(key, options);
    if (options.status !== undefined) options.status = undefined;
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.readNow()) {
      if (!this.revoked(entry)) return entry;
      this.remove(key, 'deleted');
      return undefined;
    }
    this.remove(key, 'expired');
    return undefined;
  }

  peek(key: string): E | undefined {
    const entry = this.cache.peek(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.clock.now()) {
      if (!this.revoked(entry)) return entry;
      this.remove(key, 'deleted');
      return undefined;
    }
    this.remove(key, 'expired');
    return undefined;
  }

  set(key: string, entry: E, size: number): void {
    if (this.reservedBytes > 0) {
      // An entry larger than what the reservation leaves is not kept (nor the value it replaces):
      // making room for it would empty the storage and then drop it too.
      if (size > this.cache.maxSize - this.reservedBytes) {
        this.remove(key, 'evicted');
        return;
      }
      this.cache.set(key, entry, { size: Math.max(1, size) });
      this.fitReservation();
      return;
    }
    // lru-cache disposes the replaced value with reason 'set'; that is not an eviction.
    this.cache.set(key, entry, { size: Math.max(1, size) });
  }

  delete(key: string): boolean {
    return this.remove(key, 'deleted');
  }

  recharge(key: string, entry: E, size: number, replacement: E = entry): void {
    if (this.cache.peek(key) !== entry) return;
    // lru-cache keeps the old size when the same value is set again: take it out first, unreported.
    this.quiet = true;
    try {
      this.cache.delete(key);
    } finally {
      this.quiet = false;
    }
    this.set(key, replacement, size);
  }

  clear(): void {
    this.removing = 'deleted';
    try {
      this.cache.clear();
    } finally {
      this.removing = undefined;
    }
  }

  purgeExpired(): number {
    const now = this.clock.now();
    const expired: string[] = [];
    const revoked: string[] = [];
    for (const [key, entry] of this.cache.entries()) {
      if (entry.expiresAt <= now) expired.push(key);
      else if (this.revoked(entry)) revoked.push(key);
    }
    for (const key of expired) this.remove(key, 'expired');
    // Revoked entries are never served; dropping them here frees their memory sooner.
    for (const key of revoked) this.remove(key, 'deleted');
    return expired.length;
  }

  resize(maxBytes: number): void {
    if (maxBytes === this.cache.maxSize) return;
    const previous = this.cache;
    this.cache = this.createCache(maxBytes);
    // Oldest first, so that the most recently used entries survive a shrink.
    for (const [key, entry] of [...previous.entries()].reverse()) {
      const size = previous.info(key)?.size ?? 1;
      this.cache.set(key, entry, { size });
    }
    this.fitReservation();
  }

  keys(): IterableIterator<string> {
    return this.cache.keys();
  }

  /** Evicts least recently used entries until they and the reservation fit the budget. */
  private fitReservation(): void {
    const limit = this.cache.maxSize - this.reservedBytes;
    while (this.cache.size > 0 && this.cache.calculatedSize > limit) this.cache.pop();
  }

  private remove(key: string, reason: RemovalReason): boolean {
    this.removing = reason;
    try {
      return this.cache.delete(key);
    } finally {
      this.removing = undefined;
    }
  }

  private createCache(maxBytes: number): LRUCache<string, E> {
    return new LRUCache<string, E>({
      maxSize: maxBytes,
      maxEntrySize: maxBytes,
      dispose: (_entry, key, reason) => {
        if (this.onRemove === undefined || this.quiet) return;
        if (reason === 'evict') this.onRemove(key, 'evicted');
        else if (reason === 'delete') this.onRemove(key, this.removing ?? 'deleted');
      },
    });
  }
}

function notRevoked(): boolean {
  return false;
}
