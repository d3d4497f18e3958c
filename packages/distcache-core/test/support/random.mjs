// Plain ESM so that both the TypeScript specs and the node processes of test/support/membership
// (which run without a TypeScript loader) use the same generator.

/**
 * A seeded PRNG (mulberry32): small, fast, good enough for fuzzing and randomized histories, and
 * reproducible from the seed, so a failing run can be replayed.
 * @param {number} seed
 * @returns {() => number}
 */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
