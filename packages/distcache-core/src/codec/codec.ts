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
  /** Decodes bytes produced by `encode`. Throw on malformed input; the cache reports `E_DECODE_FAILED`. */
  decode(bytes: Uint8Array): T;
}
