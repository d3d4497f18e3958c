import { deepFreeze } from '../codec/deep-freeze';
import type { Codec } from '../codec/codec';
import type { StorageEntry } from '../storage/storage';
import type { ValueMode } from './keyspace.options';

/**
 * One cached key: the encoded bytes (what the budget counts and what peers receive) and, once a
 * local caller has read it, the decoded value, deeply frozen so it can be handed out as is.
 * `bytes === undefined` is a remembered "not found". An entry is fresh until `freshUntil`; past
 * that and until `expiresAt` (the keyspace's grace period) it is stale: kept only to be served when
 * the data source cannot answer.
 */
export class CacheEntry<T> implements StorageEntry {
  private shared: T | undefined;
  private hasShared = false;
  private copyOnRead = false;

  constructor(
    readonly bytes: Uint8Array | undefined,
    /** Epoch ms until which the entry is fresh; `Infinity` for no expiry. */
    readonly freshUntil: number,
    /** Epoch ms at which the storage drops it (fresh time plus grace). */
    readonly expiresAt: number = freshUntil,
  ) {}

  isFresh(now: number): boolean {
    return this.freshUntil > now;
  }

  get found(): boolean {
    return this.bytes !== undefined;
  }

  /**
   * The value for a caller. Throws what `codec.decode` throws.
   */
  read(codec: Codec<T>, mode: ValueMode): T | undefined {
    if (this.hasShared) return this.shared;
    const bytes = this.bytes;
    if (bytes === undefined) return undefined;
    const value = codec.decode(bytes);
    if (mode === 'copy' || this.copyOnRead) return value;
    if (deepFreeze(value)) {
      this.shared = value;
      this.hasShared = true;
    } else {
      // Holds a typed array: cannot be frozen, so this and every later read gets its own copy.
      this.copyOnRead = true;
    }
    return value;
  }
}

/** A private decoded copy for a single caller (nothing shared, so nothing to freeze). */
export function decodePrivate<T>(entry: CacheEntry<T>, codec: Codec<T>): T | undefined {
  return entry.bytes === undefined ? undefined : codec.decode(entry.bytes);
}

/** Budget charged for an entry: encoded bytes plus the key (UTF-16 length as a cheap bound). */
export function entrySize(key: string, bytes: Uint8Array | undefined): number {
  return key.length + (bytes === undefined ? 1 : bytes.byteLength);
}
