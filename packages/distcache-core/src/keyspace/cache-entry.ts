import { AsyncResource } from 'node:async_hooks';
import { deepFreeze } from '../codec/deep-freeze';
import { compactAndMeasure, estimateHeapBytes, JSON_MAX_FAST_PROPERTIES } from '../codec/heap-size';
import { sharedStrings } from '../codec/string-pool';
import { type Codec, decodesByJsonParse, decodesDetached, readOnlyDecoders } from '../codec/codec';
import type { StorageEntry } from '../storage/storage';
import type { ValueMode } from './keyspace.options';
import { pack, type PackedBytes, packedSize, packedSizeOf, unpack } from './packed-bytes';
import { stampBytes, type TagStamp } from './tag-versions';

/**
 * What every entry costs besides its value and key: this object with its two expiry numbers, and
 * its slots in lru-cache (key map, key and value lists, links, sizes). Measured with the value
 * constants in `codec/heap-size.ts` (test/package/heap-accounting.spec.ts checks the sum).
 */
export const ENTRY_OVERHEAD_BYTES = 200;

/**
 * What the resolved promise a held decoded value is handed out in costs: a native promise with its
 * async-hook field, as `codec/heap-size.ts` counts objects (48 B), and the async id a promise hook
 * stamps on it the first time it is awaited while one is on (~56 B measured: a property store and
 * a number; Nest turns hooks on during every load). Counted whether or not hooks run: `maxBytes`
 * errs towards too much.
 */
export const ANSWER_BYTES = 48 + 56;

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
  // One field for either form, and the grace period instead of a second absolute time: each
  // field and each non-integer number is heap memory charged to every entry.
  private data: PackedBytes | T | undefined;
  private form: Form;
  private heldBytes: number;
  private readonly graceMs: number;
  /** The tags it carries and when it was stored (see `tag-versions.ts`); undefined when untagged. */
  tagged: TagStamp | undefined = undefined;
  /** The held frozen value, resolved once (see {@link answer}); undefined in the other forms. */
  private settled: Promise<T> | undefined = undefined;

  constructor(
    /** The encoded value as received, or packed for keeping (see `packed-bytes.ts`). */
    bytes: PackedBytes | undefined,
    /** Epoch ms until which the entry is fresh; `Infinity` for no expiry. */
    readonly freshUntil: number,
    /** Epoch ms at which the storage drops it (fresh time plus grace). */
    expiresAt: number = freshUntil,
  ) {
    this.data = bytes;
    this.form = BYTES;
    this.heldBytes = ENTRY_OVERHEAD_BYTES + (bytes === undefined ? 0 : packedSize(bytes));
    this.graceMs = expiresAt > freshUntil && Number.isFinite(freshUntil) ? expiresAt - freshUntil : 0;
  }

  /** Epoch ms at which the storage drops it (fresh time plus grace). */
  get expiresAt(): number {
    return this.freshUntil + this.graceMs;
  }

  isFresh(now: number): boolean {
    return this.freshUntil > now;
  }

  get found(): boolean {
    return this.data !== undefined;
  }

  /** True when reads return the held frozen value without decoding. */
  get isShared(): boolean {
    return this.form === SHARED;
  }

  /** The held frozen value (meaningful when {@link isShared}). */
  get sharedValue(): T | undefined {
    return this.data as T | undefined;
  }

  /**
   * The held frozen value as an already resolved promise, made once when the value was first
   * decoded: a hit hands it out as is, with no promise to allocate and no value to look at
   * (undefined unless {@link isShared}).
   */
  get answer(): Promise<T> | undefined {
    return this.settled;
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
    if (this.form === SHARED) return this.data as T;
    const bytes = this.data as PackedBytes | undefined;
    if (bytes === undefined) return undefined;
    const data = unpack(bytes);
    if (mode === 'frozen' && this.form !== COPY_ON_READ) {
      // A built-in codec may build the value read-only, measured and its strings pooled, in one
      // pass (see `ReadOnlyDecoders.kept`) instead of the three below.
      const kept = readOnlyDecoders(codec)?.kept(data, sharedStrings);
      if (kept !== undefined) return this.hold(kept.value as T, kept.heapBytes);
    }
    const value = codec.decode(data);
    if (mode === 'copy' || this.form === COPY_ON_READ) return value;
    // Measured before freezing: the walk also shares the value's short strings with other values.
    const heapBytes = compactAndMeasure(
      value,
      sharedStrings,
      decodesByJsonParse(codec, data) ? JSON_MAX_FAST_PROPERTIES : undefined,
    );
    if (deepFreeze(value)) return this.hold(value, heapBytes);
    this.form = COPY_ON_READ;
    return value;
  }

  /** Keeps `value`, frozen all the way down, in place of the bytes; `heapBytes` is its measure. */
  private hold(value: T, heapBytes: number): T {
    this.data = value;
    this.form = SHARED;
    this.settled = settledOutsideContexts(value);
    this.heldBytes = ENTRY_OVERHEAD_BYTES + heapBytes + stampBytes(this.tagged) + ANSWER_BYTES;
    return value;
  }

  /**
   * The value for a caller of an entry that is not kept (a hot copy with `hotTtl: 0`): frozen the
   * same way as {@link read}, but neither measured nor kept decoded, since nothing holds it.
   */
  readTransient(codec: Codec<T>, mode: ValueMode): T | undefined {
    if (this.form === SHARED) return this.data as T;
    const bytes = this.data as PackedBytes | undefined;
    if (bytes === undefined) return undefined;
    // Its bytes may be a view into a peer's read buffer (not copied): a codec of the user's own may
    // keep what it decodes from, so it gets a copy of just the value.
    const input = unpack(bytes);
    if (mode === 'frozen' && this.form !== COPY_ON_READ) {
      // A built-in codec may build the value read-only instead of freezing it after (see
      // `ReadOnlyDecoders.transient`); built-in codecs decode detached: they take the input as is.
      const decoders = readOnlyDecoders(codec);
      if (decoders !== undefined) return decoders.transient(input) as T;
    }
    const value = codec.decode(decodesDetached(codec) ? input : new Uint8Array(input));
    if (mode === 'frozen' && this.form !== COPY_ON_READ) deepFreeze(value);
    return value;
  }

  /** A private decoded copy for a single caller (nothing shared, so nothing to freeze). */
  readPrivate(codec: Codec<T>): T | undefined {
    const packed = this.wireBytes(codec);
    if (packed === undefined) return undefined;
    const bytes = unpack(packed);
    // As in readTransient: a codec of the user's own gets bytes nothing else uses.
    return codec.decode(decodesDetached(codec) ? bytes : new Uint8Array(bytes));
  }

  /**
   * The encoded bytes, as peers receive them: the held bytes as held (packed: the transport writes
   * a packed string into the frame without a copy of its own), or the held value encoded again.
   * `undefined` for a "not found". Throws what `codec.encode` throws.
   */
  wireBytes(codec: Codec<T>): PackedBytes | undefined {
    if (this.form === SHARED) return codec.encode(this.data as T);
    return this.data as PackedBytes | undefined;
  }

  /** Gives the entry its tags (counted in {@link held}); undefined removes them. */
  setTagged(stamp: TagStamp | undefined): void {
    this.heldBytes += stampBytes(stamp) - stampBytes(this.tagged);
    this.tagged = stamp;
  }

  /** The tags it carries, if any. */
  get tags(): readonly string[] | undefined {
    return this.tagged?.tags;
  }

  /**
   * The same value with other expiry times, for keeping (tags and their stamp included): shares what this entry holds, with bytes
   * in the packed form.
   */
  retimed(freshUntil: number, expiresAt: number = freshUntil): CacheEntry<T> {
    const copy = new CacheEntry<T>(undefined, freshUntil, expiresAt);
    const data = this.data;
    if (this.form !== SHARED && data instanceof Uint8Array) {
      const packed = pack(data);
      copy.data = packed;
      copy.form = this.form;
      copy.heldBytes = ENTRY_OVERHEAD_BYTES + packedSize(packed) + stampBytes(this.tagged);
      copy.tagged = this.tagged;
      return copy;
    }
    copy.data = data;
    copy.form = this.form;
    copy.settled = this.settled;
    copy.heldBytes = this.heldBytes;
    copy.tagged = this.tagged;
    return copy;
  }
}

/**
 * `Promise.resolve(value)`, made in the context this module was loaded in: a promise made while an
 * AsyncLocalStorage store is active keeps that store (the first reader's request context, say) for
 * as long as the entry holds it, and every caller of a hit shares the object.
 *
 * Not frozen, although callers share it: on Node 20 a promise hook (any active AsyncLocalStorage)
 * stamps an id on the promise a `then` starts from, and on a frozen promise made before the hook
 * was on that stamp threw inside the hook and ended the process
 * (test/package/async-context.spec.ts). The value it resolves to is frozen.
 */
const settledOutsideContexts = AsyncResource.bind(<T>(value: T): Promise<T> => Promise.resolve(value));

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
  return keyBytes(key) + ENTRY_OVERHEAD_BYTES + packedSizeOf(bytes);
}
