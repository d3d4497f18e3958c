import { implementing, integer, type OptionFields, optionsObject } from '../util/options';
import type { Hasher } from './hasher';
import { DEFAULT_HASHER } from './murmur3';

/**
 * Virtual nodes per member when none is given. Chosen with bench/ring-balance (bench/README.md,
 * 2026-11-25): with 256, the busiest node holds at most 1.10x / 1.16x / 1.21x the mean share at
 * 3 / 10 / 100 nodes (worst of 20 member sets), against 1.21x / 1.23x / 1.32x with 160; the ring
 * builds in 0.3 / 0.6 / 6 ms, and ownerOf costs the same (~70 ns) at any count. 512 tightens
 * balance a little more (1.07x / 1.11x / 1.15x) for twice the build time and memory.
 * Changing it moves keys between nodes, so every node of a cluster must use the same value.
 */
export const DEFAULT_VIRTUAL_NODES = 256;

/** Smallest accepted `virtualNodes`. */
export const MIN_VIRTUAL_NODES = 1;

/**
 * Largest accepted `virtualNodes`. A ring holds `members × virtualNodes` points (8 bytes each,
 * plus a bucket index of up to 1 MiB); past a few hundred per member the balance barely improves
 * while the build slows down.
 */
export const MAX_VIRTUAL_NODES = 4096;

/** Options of a {@link HashRing}. */
export interface HashRingOptions {
  /**
   * Points each member gets on the ring. More points spread keys more evenly across members at
   * the cost of a larger ring (build time, memory, one more binary-search step per doubling).
   * Every node of a cluster must use the same value.
   * @default DEFAULT_VIRTUAL_NODES
   */
  virtualNodes?: number;
  /**
   * Hash used to place members and keys. Every node of a cluster must use the same one.
   * @default DEFAULT_HASHER (MurmurHash3 x86_32 over UTF-8, seed 0)
   */
  hasher?: Hasher;
}

const RING_FIELDS: OptionFields = { what: 'hash ring option', fields: ['virtualNodes', 'hasher'] };

/** {@link HashRingOptions} with every default filled in and every value checked. */
export interface ResolvedHashRingOptions {
  readonly virtualNodes: number;
  readonly hasher: Hasher;
}

/**
 * Fills the defaults of `options` and validates them.
 *
 * @param pathPrefix prefix for field paths in error messages, e.g. `'cluster.'` when the options
 *   are nested in a larger configuration
 * @throws DistCacheError `E_INVALID_OPTION` naming the field: `virtualNodes` not an integer in
 *   `[MIN_VIRTUAL_NODES, MAX_VIRTUAL_NODES]`, or `hasher` without a `hash` function
 */
export function resolveHashRingOptions(
  options: HashRingOptions = {},
  pathPrefix = '',
): ResolvedHashRingOptions {
  const input: HashRingOptions = optionsObject(options, pathPrefix.replace(/\.$/, ''), RING_FIELDS);
  return Object.freeze({
    virtualNodes: integer(
      input.virtualNodes ?? DEFAULT_VIRTUAL_NODES,
      `${pathPrefix}virtualNodes`,
      MIN_VIRTUAL_NODES,
      MAX_VIRTUAL_NODES,
    ),
    hasher: implementing(
      input.hasher ?? DEFAULT_HASHER,
      `${pathPrefix}hasher`,
      ['hash'],
      'must be an object with a hash(input: string) method',
    ),
  });
}
