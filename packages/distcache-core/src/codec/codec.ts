import type { StringSharer } from './heap-size';

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

const JSON_PARSED = new WeakMap<object, (bytes: Uint8Array) => boolean>();

/**
 * Marks a codec that decodes with `JSON.parse` (the JSON codec; the default codec's JSON form),
 * whose objects of many keys V8 lays out otherwise than its deserializer does: the heap-size walk
 * counts them so (`JSON_MAX_FAST_PROPERTIES`). `parsed` tells the bytes it decodes so.
 */
export function jsonParsedCodec<C extends object>(
  codec: C,
  parsed: (bytes: Uint8Array) => boolean = always,
): C {
  JSON_PARSED.set(codec, parsed);
  return codec;
}

const always = (): boolean => true;

/** True when `codec` decodes `bytes` with `JSON.parse` (see {@link jsonParsedCodec}). */
export function decodesByJsonParse(codec: object, bytes: Uint8Array): boolean {
  return JSON_PARSED.get(codec)?.(bytes) ?? false;
}

/** A value decoded read-only and measured, ready to be held (see {@link ReadOnlyDecoders.kept}). */
export interface KeptValue {
  readonly value: unknown;
  /**
   * What `compactAndMeasure` would count for it (its short strings are pooled already), plus
   * {@link unwalkedBytes}.
   */
  readonly heapBytes: number;
  /**
   * Of `heapBytes`, what the walk cannot tell from the value: key sets new to this process, hash
   * tables of objects built key by key (`HeapTally.unwalkedBytes`).
   */
  readonly unwalkedBytes: number;
}

/**
 * Decodes of a built-in codec that return values already deep-frozen, as `deepFreeze` would leave
 * them, where building them read-only costs less than freezing them afterwards (the default
 * codec's shaped form: on the ~1 KB bench product, 1.4-3.1 µs less than a decode and a freeze walk).
 */
export interface ReadOnlyDecoders {
  /** For a value nothing keeps (a remote read with no hot copy kept). */
  transient(bytes: Uint8Array): unknown;
  /**
   * For a value held decoded: also measured and its short strings pooled in `pool` as it is built
   * (what the heap-size walk would do after). Undefined for bytes it cannot do this for: the
   * caller then decodes, measures and freezes in turn.
   */
  kept(bytes: Uint8Array, pool: StringSharer): KeptValue | undefined;
}

const READ_ONLY_DECODERS = new WeakMap<object, ReadOnlyDecoders>();

/** Gives a built-in codec its {@link ReadOnlyDecoders}. */
export function withReadOnlyDecoders<C extends object>(codec: C, decoders: ReadOnlyDecoders): C {
  READ_ONLY_DECODERS.set(codec, decoders);
  return codec;
}

/** The read-only decoders {@link withReadOnlyDecoders} gave `codec`, if any. */
export function readOnlyDecoders(codec: object): ReadOnlyDecoders | undefined {
  return READ_ONLY_DECODERS.get(codec);
}
