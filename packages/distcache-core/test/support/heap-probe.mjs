// Child process of test/package/heap-accounting.spec.ts (run with --expose-gc on the built
// package): fills a standalone engine with `count` distinct values of one kind, reads each twice
// (a read-through cache reads what it holds), and reports what the keyspace counted
// (`stats().bytes`) against what the process holds more after full collections (V8 heap used +
// external memory). One measurement per process: see the note above `measureOnce`.
import { DistCacheEngine, jsonCodec } from 'distcache-core';

const { kind, valueMode } = JSON.parse(process.argv[2]);
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run with node --expose-gc');

const word = (i, salt) =>
  ['steel', 'oak', 'compact', 'wireless', 'modular', 'premium', 'kitchen', 'travel'][(i * 7 + salt * 13) % 8];

/**
 * An object of `entries` made as if this process had never built one with its keys (a hot copy a
 * peer sent): V8 adds a key to an object by following the hidden classes objects of those keys made
 * before, so a value built here first would leave the engine's decode a path the receiving side does
 * not have. Built behind a throwaway first key, then deleted (V8 then holds the source in a hash
 * table): no hidden class of these keys is left for the decode to follow.
 */
function away(entries) {
  const object = { 'made-away': 0 };
  for (const [key, value] of entries) object[key] = value;
  delete object['made-away'];
  return object;
}

/** The fixed set of values: realistic shapes, each made distinct by `i`. */
const MAKERS = {
  product: (i) => ({
    id: `p-${String(i).padStart(6, '0')}`,
    sku: `SKU-${(i * 7919) % 1_000_000}`,
    name: `${word(i, 1)} ${word(i, 2)} ${word(i, 3)} #${i}`,
    description: `${Array.from({ length: 56 }, (_, w) => word(i, w)).join(' ')}.`,
    price: { amount: 1999 + (i % 500) * 10, currency: 'EUR' },
    inStock: i % 5 !== 0,
    rating: 3 + (i % 20) / 10,
    createdAt: new Date(Date.UTC(2025, i % 12, 1)),
    updatedAt: new Date(Date.UTC(2025, i % 12, 2)),
    tags: [word(i, 4), word(i, 5), word(i, 6), 'sale'],
    attributes: {
      color: word(i, 7),
      weightGrams: 250 + (i % 1000),
      dimensionsMm: { w: 100, h: 40, d: i % 10 },
    },
    categoryIds: [10 + (i % 7), 100 + (i % 31)],
  }),
  small: (i) => ({ id: i, name: `user ${i}`, active: i % 2 === 0 }),
  numbers: (i) => Array.from({ length: 64 }, (_, k) => (k % 2 === 0 ? i + k : (i + k) / 7)),
  text: (i) => `${i}: ${'lorem ipsum dolor sit amet '.repeat(150)}`,
  unicode: (i) => ({ title: `Grüße ${i}`, body: `${i} 東京の天気は晴れです。`.repeat(40) }),
  map: (i) => new Map(Array.from({ length: 20 }, (_, k) => [`key-${i}-${k}`, { rank: k, score: i + k / 3 }])),
  set: (i) => new Set(Array.from({ length: 30 }, (_, k) => `member-${i}-${k}`)),
  order: (i) => ({
    orderId: `o-${i}`,
    placedAt: new Date(1_700_000_000_000 + i),
    customer: { id: `c-${i % 1000}`, name: `Customer ${i}`, email: `c${i}@example.com` },
    lines: Array.from({ length: 10 }, (_, k) => ({ sku: `SKU-${i}-${k}`, qty: 1 + (k % 3), unit: 9.99 + k })),
    total: BigInt(i) * 1_000_000_007n,
  }),
  catalogue: (i) => Array.from({ length: 20 }, (_, k) => MAKERS.product(i * 20 + k)),
  buffer: (i) => ({ name: `thumb-${i}.webp`, bytes: Buffer.alloc(2048, i % 256) }),
  // Objects V8 keeps in dictionary mode: keyed by sparse ids (a lookup table by id), and with more
  // named keys than its descriptor limit (1,020).
  lookup: (i) =>
    Object.fromEntries(Array.from({ length: 50 }, (_, k) => [String(100_000 + i * 50 + k * 7), { rank: k }])),
  // Short arrays in an array (coordinates, pairs, small tag lists).
  pairs: (i) => Array.from({ length: 100 }, (_, k) => [i, k]),
  // A cart of product ids (V8 grows a flat array up to the largest id: ~25 KB for three ids).
  cart: (i) => ({ [300 + (i % 300)]: 1, [1200 + (i % 499)]: 2, [2200 + (i % 337)]: 1 }),
  // Keys that are data: every value has its own key set (hidden classes and key strings of its own).
  scores: (i) => away(Array.from({ length: 30 }, (_, k) => [`u${i * 30 + k}@example.com`, k * 10])),
  // One-character strings above U+00FF are strings of their own; RegExps hold their pattern twice.
  symbols: (i) =>
    Array.from({ length: 100 }, (_, k) => String.fromCharCode(0x4e00 + ((i * 100 + k) % 20_000))),
  patterns: (i) => Array.from({ length: 20 }, (_, k) => new RegExp(`^user-${i}-${k}-[a-z]+$`, 'i')),
  // Records of many fields, as a peer receives them: 100 (built by a compiled literal once the
  // shape is known) and 200 (more than the shaped form compiles: a hash table every read).
  record100: (i) => away(Array.from({ length: 100 }, (_, k) => [`field${k}`, i * 100 + k])),
  record200: (i) => away(Array.from({ length: 200 }, (_, k) => [`field${k}`, i * 200 + k])),
  // Kinds named json* are kept by the JSON codec: JSON.parse makes a hash table of 128 keys or more.
  // The JSON codec removes a `constructor` key: V8 then holds the object in a hash table.
  jsonConstructor: (i) => ({
    ...Object.fromEntries(Array.from({ length: 15 }, (_, k) => [`field${k}`, i * 100 + k])),
    constructor: i,
    ...Object.fromEntries(Array.from({ length: 15 }, (_, k) => [`more${k}`, i * 100 + k])),
  }),
  json200: (i) => Object.fromEntries(Array.from({ length: 200 }, (_, k) => [`field${k}`, i * 100 + k])),
  wide: (i) => Object.fromEntries(Array.from({ length: 1_500 }, (_, k) => [`field${k}`, i + k])),
};
// About 20-30 MB of each kind: enough that a few hundred KB of JIT code and feedback do not count.
const COUNTS = {
  small: 50_000,
  product: 20_000,
  numbers: 20_000,
  text: 5_000,
  catalogue: 1_000,
  lookup: 5_000,
  wide: 250,
  record200: 2_000,
  json200: 2_000,
  // Each cart has a key set of its own: the shape lists kept for them (bounded, ~1 MB) spread
  // over more entries.
  cart: 50_000,
};

async function settle() {
  let last = Infinity;
  for (let pass = 0; pass < 10; pass++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const { heapUsed } = process.memoryUsage();
    if (heapUsed >= last - 1024) break;
    last = heapUsed;
  }
  const { heapUsed, external } = process.memoryUsage();
  return { total: heapUsed + external, external };
}

/**
 * Fills a fresh engine with `count` values of `kind`, reads each twice, and returns what the process
 * holds more per entry after full collections, and what the keyspace counted per entry.
 *
 * Run once per process. Measured one after another in one process, an engine started its
 * measurement with some of the previous one's memory still counted: in the CI run of stop 26
 * (2026-12-04), 'small' in valueMode 'copy' came out at 226.7 B per entry against 262-270 B in
 * every other run, and the whole suite run again with the probe recording V8's heap spaces showed
 * why: the baseline still held 2.08 MB in the large-object space, the five lru-cache arrays of the
 * engine stopped just before (emptied, at their full capacity), after the repeated gc() calls, and
 * they were gone by the end of the measurement. Nothing the program can reach held them: a heap
 * snapshot taken at that point (its collections are more thorough than gc()) no longer had them.
 */
async function measureOnce(kind, make, count) {
  const engine = new DistCacheEngine({
    keySpaces: [
      {
        name: 'probe',
        maxBytes: 2 ** 31,
        valueMode,
        ...(kind.startsWith('json') ? { codec: jsonCodec() } : {}),
        dataSource: (key) => make(Number(key.replace('warm-', ''))),
      },
    ],
  });
  await engine.start();
  // The same path run first on other keys, so that compiling it is not part of the measurement.
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 500; i++) await engine.get('probe', `warm-${i}`);
  }
  engine.stats();
  const before = await settle();
  const counted = engine.stats().keySpaces.probe.bytes;
  // Keys made here: the engine keeps them, and they are part of what it holds.
  for (let i = 0; i < count; i++) await engine.get('probe', String(i));
  for (let i = 0; i < count; i++) await engine.get('probe', String(i));
  const after = await settle();
  const stats = engine.stats().keySpaces.probe;
  await engine.stop();
  return {
    measured: (after.total - before.total) / count,
    external: (after.external - before.external) / count,
    counted: (stats.bytes - counted) / count,
  };
}

const count = COUNTS[kind] ?? 10_000;
const result = await measureOnce(kind, MAKERS[kind], count);
process.send({ result: { kind, count, ...result } }, () => process.disconnect());
