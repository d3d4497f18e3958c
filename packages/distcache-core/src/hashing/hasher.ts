/**
 * Maps a key to a point of the 32-bit hash space. The hash ring uses it both to place the virtual
 * nodes of its members and to find the owner of a key, so it runs on every cache `get`.
 *
 * An implementation must be:
 * - deterministic across processes, machines and restarts (no per-process random seed), because
 *   every node of the cluster must agree on who owns a key;
 * - pure and synchronous;
 * - fast on short strings (the default costs about 50 ns for a 20-character key);
 * - well spread, because the ring's balance is only as good as the hash.
 *
 * @example
 * ```ts
 * const fnv1a: Hasher = {
 *   hash(input) {
 *     let h = 0x811c9dc5;
 *     for (let i = 0; i < input.length; i++) h = Math.imul(h ^ input.charCodeAt(i), 0x01000193);
 *     return h >>> 0;
 *   },
 * };
 * ```
 */
export interface Hasher {
  /**
   * Hashes `input` to an unsigned 32-bit integer (`0 <= h <= 0xffffffff`, an integer).
   */
  hash(input: string): number;
}
