import { invalidOption } from '../errors/messages';
import type { Hasher } from './hasher';

// Why a hand-written MurmurHash3 (x86, 32-bit) rather than a dependency or node:crypto: the owner of
// a key is computed on every `get`, so the hash must cost far less than 100 ns. Measured by
// bench/ring-balance on the project's 2-core shared machine (Node 20.20, 20-character ASCII keys,
// 2026-11-25): this function 50-53 ns/hash, crypto.createHash('md5') 870-1,015 ns (17-20x),
// crypto.hash('md5') 670-690 ns (13-14x). The cost is mostly charCodeAt, so xxhash32 or FNV-1a would not
// be faster on short keys (FNV-1a measured the same), and a native hasher (@node-rs/xxhash) would add an
// N-API call and a string copy per key. MurmurHash3 passes SMHasher, has published test vectors
// (murmur3.spec.ts) and is ~40 lines, so owning it costs less than a dependency.
//
// The hash is defined over the UTF-8 bytes of the key, so it equals the hash of the bytes a peer
// receives on the wire. Pure-ASCII keys (the common case) are hashed straight from their UTF-16
// code units, which equal their UTF-8 bytes; any other key is encoded once into a scratch buffer.

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Largest key (in UTF-16 code units) encoded into the shared scratch buffer; longer keys allocate. */
const SCRATCH_CHARS = 1024;
const encoder = new TextEncoder();
// Each UTF-16 code unit takes at most 3 UTF-8 bytes (a surrogate pair: 2 units, 4 bytes).
const scratch = new Uint8Array(SCRATCH_CHARS * 3);

function scramble(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixBlock(h: number, k: number): number {
  h ^= scramble(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finalize(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * MurmurHash3 x86_32 of `bytes[0, length)`, matching Austin Appleby's reference implementation.
 *
 * @param seed unsigned 32-bit seed
 * @param length number of leading bytes to hash (default: all of them)
 * @returns an unsigned 32-bit integer
 */
export function murmur3Bytes(bytes: Uint8Array, seed = 0, length: number = bytes.length): number {
  const blocksEnd = length & ~3;
  let h = seed | 0;
  let i = 0;
  for (; i < blocksEnd; i += 4) {
    h = mixBlock(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  const rest = length - i;
  if (rest > 0) {
    let k = bytes[i]!;
    if (rest > 1) k |= bytes[i + 1]! << 8;
    if (rest > 2) k |= bytes[i + 2]! << 16;
    h ^= scramble(k);
  }
  return finalize(h, length);
}

/**
 * MurmurHash3 x86_32 of the UTF-8 encoding of `input` (lone surrogates encode as U+FFFD, as
 * `TextEncoder` and `Buffer.from` do). Equal to `murmur3Bytes(Buffer.from(input, 'utf8'), seed)`.
 *
 * @param seed unsigned 32-bit seed
 * @returns an unsigned 32-bit integer
 */
export function murmur3String(input: string, seed = 0): number {
  const length = input.length;
  const blocksEnd = length & ~3;
  let h = seed | 0;
  let i = 0;
  for (; i < blocksEnd; i += 4) {
    const c0 = input.charCodeAt(i);
    const c1 = input.charCodeAt(i + 1);
    const c2 = input.charCodeAt(i + 2);
    const c3 = input.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) > 0x7f) return murmur3Utf8(input, seed);
    h = mixBlock(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  const rest = length - i;
  if (rest > 0) {
    const t0 = input.charCodeAt(i);
    const t1 = rest > 1 ? input.charCodeAt(i + 1) : 0;
    const t2 = rest > 2 ? input.charCodeAt(i + 2) : 0;
    if ((t0 | t1 | t2) > 0x7f) return murmur3Utf8(input, seed);
    h ^= scramble(t0 | (t1 << 8) | (t2 << 16));
  }
  return finalize(h, length);
}

function murmur3Utf8(input: string, seed: number): number {
  if (input.length > SCRATCH_CHARS) return murmur3Bytes(encoder.encode(input), seed);
  const { written } = encoder.encodeInto(input, scratch);
  return murmur3Bytes(scratch, seed, written);
}

/** Options of {@link murmur3Hasher}. */
export interface Murmur3HasherOptions {
  /**
   * Unsigned 32-bit seed. Every node of a cluster must use the same one.
   * @default 0
   */
  seed?: number;
}

/**
 * The default {@link Hasher}: MurmurHash3 x86_32 over the UTF-8 bytes of the input.
 */
export class Murmur3Hasher implements Hasher {
  /** The seed in use (unsigned 32-bit). */
  readonly seed: number;

  /**
   * @throws DistCacheError `E_INVALID_OPTION` when `seed` is not an integer in `[0, 2^32)`
   */
  constructor(options: Murmur3HasherOptions = {}) {
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw invalidOption('seed', 'must be an integer from 0 to 4294967295', seed);
    }
    this.seed = seed;
  }

  /** {@inheritDoc Hasher.hash} */
  hash(input: string): number {
    return murmur3String(input, this.seed);
  }
}

/**
 * Creates a {@link Murmur3Hasher}.
 *
 * @throws DistCacheError `E_INVALID_OPTION` when `seed` is not an integer in `[0, 2^32)`
 * @example
 * ```ts
 * const ring = hashRing(['10.0.0.1:3320', '10.0.0.2:3320'], { hasher: murmur3Hasher({ seed: 7 }) });
 * ```
 */
export function murmur3Hasher(options: Murmur3HasherOptions = {}): Murmur3Hasher {
  return new Murmur3Hasher(options);
}

/** The hasher a ring uses when none is given: {@link Murmur3Hasher} with seed 0. */
export const DEFAULT_HASHER: Hasher = Object.freeze(new Murmur3Hasher());
