import { deepFreeze } from '../codec/deep-freeze';
import { estimateHeapBytes } from '../codec/heap-size';
import type { Codec } from '../codec/codec';
import type { StorageEntry } from '../storage/storage';
import type { ValueMode } from './keyspace.options';

/**
 * What every entry costs besides its value and key: this object with its two expiry numbers, and
 * its slots in lru-cache (key map, key and value lists, links, sizes). Measured with the value
 * constants in `codec/heap-size.ts` (test/package/heap-accounting.spec.ts checks the sum).
 */
export const ENTRY_OVERHEAD_BYTES = 220;
/**
 * Encoded bytes held in an allocation of their own: the `Uint8Array`, its `ArrayBuffer` and the
 * buffer's extension record on the heap (measured), besides the contents (external memory).
 */
export const OWN_BYTES_OVERHEAD = 176;

// The form an entry holds its value in.
/** Encoded bytes only: not read locally yet, `valueMode: 'copy'`, or a value that cannot be frozen. */
const BYTES = 0;
/** The decoded value, deeply frozen and handed out as is; the bytes were dropped. */
const SHARED = 1;
/** Bytes only, and every read decodes a copy: the value holds typed arrays, which cannot be frozen. */
const COPY_ON_READ = 2;
type Form = typeof BYTES | typeof SHARED | typeof COPY_ON_READ;

/**
 * One cached key, held in one form at a time (the choice is measured in bench/memory, see the
 * package README, "Values returned to callers"): the encoded bytes until a local caller reads it,
 * then, in `valueMode: 'frozen'`, the decoded value deeply frozen so it can be handed out as is,
 * and re-encoded when a peer asks for it. `found === false` is a remembered "not found". An entry
 * is fresh until `freshUntil`; past that and until `expiresAt` (the keyspace's grace period) it is
 * stale: kept only to be served when the data source cannot answer.
 */
export class CacheEntry<T> implements StorageEntry {
  private encoded: Uint8Array | undefined;
  private value: T | undefined;
  private form: Form;
  private heldBytes: number;

  constructor(
    bytes: Uint8Array | undefined,
    /** Epoch ms until which the entry is fresh; `Infinity` for no expiry. */
    readonly freshUntil: number,
    /** Epoch ms at which the storage drops it (fresh time plus grace). */
    readonly expiresAt: number = freshUntil,
  ) {
    this.encoded = bytes;
    this.value = undefined;
    this.form = BYTES;
    this.heldBytes = ENTRY_OVERHEAD_BYTES + (bytes === undefined ? 0 : OWN_BYTES_OVERHEAD + bytes.byteLength);
  }

  isFresh(now: number): boolean {
    return this.freshUntil > now;
  }

  get found(): boolean {
    return this.form === SHARED || this.encoded !== undefined;
  }

  /** True when reads return the held frozen value without decoding. */
  get isShared(): boolean {
    return this.form === SHARED;
  }

  /** The held frozen value (meaningful when {@link isShared}). */
  get sharedValue(): T | undefined {
    return this.value;
  }

  /** Bytes this entry holds in memory, its key not included (what the budget charges for it). */
  get held(): number {
    return this.heldBytes;
  }

  /**
   * The value for a caller. In `'frozen'` mode the first read decodes, freezes and keeps the value
   * and drops the bytes (`held` changes: the storage must be told). Throws what `codec.decode` throws.
   */
  read(codec: Codec<T>, mode: ValueMode): T | undefined {
    if (this.form === SHARED) return this.value;
    const bytes = this.encoded;
    if (bytes === undefined) return undefined;
    const value = codec.decode(bytes);
    if (mode === 'copy' || this.form === COPY_ON_READ) return value;
    if (deepFreeze(value)) {
      this.value = value;
      this.encoded = undefined;
      this.form = SHARED;
      this.heldBytes = ENTRY_OVERHEAD_BYTES + estimateHeapBytes(value);
    } else {
      this.form = COPY_ON_READ;
    }
    return value;
  }

  /** A private decoded copy for a single caller (nothing shared, so nothing to freeze). */
  readPrivate(codec: Codec<T>): T | undefined {
    if (this.encoded !== undefined) return codec.decode(this.encoded);
    // Held decoded: a copy through the codec, as a caller of 'copy' mode would get.
    return this.form === SHARED ? codec.decode(codec.encode(this.value as T)) : undefined;
  }

  /**
   * The encoded bytes, as peers receive them: the held bytes, or the held value encoded again.
   * `undefined` for a "not found". Throws what `codec.encode` throws.
   */
  wireBytes(codec: Codec<T>): Uint8Array | undefined {
    if (this.encoded !== undefined) return this.encoded;
    return this.form === SHARED ? codec.encode(this.value as T) : undefined;
  }

  /** The same value with other expiry times, sharing what this entry holds. */
  retimed(freshUntil: number, expiresAt: number = freshUntil): CacheEntry<T> {
    const copy = new CacheEntry<T>(undefined, freshUntil, expiresAt);
    copy.encoded = this.encoded;
    copy.value = this.value;
    copy.form = this.form;
    copy.heldBytes = this.heldBytes;
    return copy;
  }
}

/** What a key costs on the heap: a one-byte string (two-byte when it has wider characters). */
export function keyBytes(key: string): number {
  return estimateHeapBytes(key);
}

/** Budget charged for an entry: what it holds plus its key. */
export function entrySize(key: string, entry: CacheEntry<unknown>): number {
  return keyBytes(key) + entry.held;
}

/** Budget an entry holding `bytes` would be charged, before it exists. */
export function bytesEntrySize(key: string, bytes: Uint8Array): number {
  return keyBytes(key) + ENTRY_OVERHEAD_BYTES + OWN_BYTES_OVERHEAD + bytes.byteLength;
}
