/**
 * Turns values into bytes and back. The byte form is what the cache stores, what `maxBytes` is
 * measured on, and what travels between peers, so every node of a cluster must use the same codec
 * for a keyspace.
 */
export interface Codec<T = unknown> {
  /** A short stable name, compared between peers and on `updateKeySpace`. */
  readonly name: string;
  /** Encodes a value. Throw if the value cannot be represented; the cache reports `E_INVALID_VALUE`. */
  encode(value: T): Uint8Array;
  /**
   * Decodes bytes produced by `encode`. Throw on malformed input; the cache reports
   * `E_DECODE_FAILED`. The value may keep `bytes` (a sub-view of them, say): the cache hands a codec
   * of your own bytes nothing else uses.
   */
  decode(bytes: Uint8Array): T;
}

const DETACHED = new WeakSet<object>();

/**
 * Marks a codec whose decoded values never keep a reference to the input bytes (the built-in
 * ones: they copy what they keep). The cache may hand such a codec a view into a peer's read
 * buffer instead of a copy of the value's bytes (one copy less per remote read).
 */
export function detachedCodec<C extends object>(codec: C): C {
  DETACHED.add(codec);
  return codec;
}

/** True for a codec marked by {@link detachedCodec}. */
export function decodesDetached(codec: object): boolean {
  return DETACHED.has(codec);
}

const FROZEN_DECODERS = new WeakMap<object, (bytes: Uint8Array) => unknown>();

/**
 * Gives a built-in codec a decode that returns values already deep-frozen, as `deepFreeze` would
 * leave them, where building them read-only costs less than freezing them afterwards (the default
 * codec's shaped form: ~0.3 µs of `Object.freeze` calls on the ~1 KB product against ~1.3 µs for the
 * walk). Used for values nothing keeps (a remote read with no hot copy kept): a kept value is
 * measured and its short strings pooled first, which needs it unfrozen.
 */
export function withFrozenDecode<C extends object>(
  codec: C,
  decodeFrozen: (bytes: Uint8Array) => unknown,
): C {
  FROZEN_DECODERS.set(codec, decodeFrozen);
  return codec;
}

/** The frozen decode {@link withFrozenDecode} gave `codec`, if any. */
export function frozenDecoder(codec: object): ((bytes: Uint8Array) => unknown) | undefined {
  return FROZEN_DECODERS.get(codec);
}
