// Types of random.mjs for the TypeScript specs.
/** A seeded PRNG (mulberry32), reproducible from the seed. */
export declare function seededRandom(seed: number): () => number;
