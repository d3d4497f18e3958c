// Local hit: the cost of `engine.get` for a key this node already holds, the path every cached read
// takes. 10k keys of ~1 KB products, read in a uniform random order (precomputed, seeded).
//
// Reference, measured in the same run: lru-cache `get` behind `await` (the floor for an async cache
// API with the same LRU underneath). Also measured: distcache with valueMode 'copy', cache-manager
// v7 (`createCache()`, default Keyv memory store) and bentocache 1.x memory-only (L1 driver).
// Goals (issue acceptance): distcache (valueMode 'frozen', the default) at least 0.5x the
// reference, 2x cache-manager and 8x bentocache.
//
// Run:     npm run build -w distcache-core && node bench/local-hit/local-hit.bench.mjs
// Options: --rounds=60 --sample-ms=10 --keys=10000 --seed=42
//          --check  exit with status 1 when a goal is missed (the default always exits 0: a report)
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache } from 'cache-manager';
import { DistCacheEngine, defineKeySpace } from 'distcache-core';
import { LRUCache } from 'lru-cache';
import { measureInterleaved, seededRandom } from '../lib/measure.mjs';
import { makeProduct } from '../lib/product.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { formatNs, formatRate, formatRatio, machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';

const flags = parseFlags({ also: SCENARIO_FLAGS });
const KEY_COUNT = numberFlag(flags, 'keys', 10_000);
const ROUNDS = numberFlag(flags, 'rounds', 60);
const SAMPLE_MS = numberFlag(flags, 'sample-ms', 10);
const SEED = numberFlag(flags, 'seed', 42);
const CHECK = flags.check === true;

const keys = Array.from({ length: KEY_COUNT }, (_, i) => `product:${i}`);
const products = keys.map((_, i) => makeProduct(i));

// The access pattern, shared by every candidate: 64k uniformly random keys, walked in a ring.
const SEQUENCE_LENGTH = 1 << 16;
const MASK = SEQUENCE_LENGTH - 1;
const random = seededRandom(SEED);
const sequence = Array.from({ length: SEQUENCE_LENGTH }, () => keys[Math.floor(random() * KEY_COUNT)]);

// --- the caches, each filled with the same 10k products ---------------------------------------

const lru = new LRUCache({ max: KEY_COUNT });
for (let i = 0; i < KEY_COUNT; i++) lru.set(keys[i], products[i]);

const byKey = new Map(keys.map((key, i) => [key, i]));
const dataSource = async (key) => {
  const index = byKey.get(key);
  return index === undefined ? undefined : makeProduct(index);
};
const engine = new DistCacheEngine({
  keySpaces: [
    defineKeySpace({ name: 'products', maxBytes: 64 * 1024 * 1024, ttl: '1h', dataSource }),
    defineKeySpace({
      name: 'products-copy',
      maxBytes: 64 * 1024 * 1024,
      ttl: '1h',
      dataSource,
      valueMode: 'copy',
    }),
  ],
});
await engine.start();
for (let i = 0; i < KEY_COUNT; i++) {
  await engine.put('products', keys[i], products[i]);
  await engine.put('products-copy', keys[i], products[i]);
}

const manager = createCache();
for (let i = 0; i < KEY_COUNT; i++) await manager.set(keys[i], products[i]);

// bentocache's memory driver keeps 1,000 items unless told otherwise (`maxItems`); with 10k keys
// most reads would then be misses, so it gets room for all of them, like every other candidate.
const bento = new BentoCache({
  default: 'memory',
  stores: { memory: bentostore().useL1Layer(memoryDriver({ maxSize: '100mb', maxItems: 2 * KEY_COUNT })) },
});
for (let i = 0; i < KEY_COUNT; i++) await bento.set({ key: keys[i], value: products[i], ttl: '1h' });

// Every cache must answer every key with the right product before anything is timed.
for (let i = 0; i < KEY_COUNT; i++) {
  const id = products[i].id;
  const answers = [
    lru.get(keys[i]),
    await engine.get('products', keys[i]),
    await engine.get('products-copy', keys[i]),
    await manager.get(keys[i]),
    await bento.get({ key: keys[i] }),
  ];
  if (answers.some((answer) => answer?.id !== id)) throw new Error(`a cache does not hold ${keys[i]}`);
}

// --- one loop per candidate ---------------------------------------------------------------------
// Written out one by one on purpose: a shared loop calling a callback would see every callee and
// stop inlining, which would handicap the fastest candidates most. Each loop counts misses (the
// only use it makes of the value), so a candidate that silently misses is caught below.

const misses = new Map();
const cursors = new Map();
const advance = (name, n) => {
  const start = cursors.get(name) ?? 0;
  cursors.set(name, (start + n) & MASK);
  return start;
};
const addMisses = (name, count) => misses.set(name, (misses.get(name) ?? 0) + count);

const LRU_SYNC = 'lru-cache get (sync, no await)';
const LRU = 'lru-cache get behind await';
const DISTCACHE = "distcache engine.get (valueMode 'frozen')";
const DISTCACHE_COPY = "distcache engine.get (valueMode 'copy')";
const MANAGER = 'cache-manager v7 get (Keyv memory)';
const BENTO = 'bentocache get (memory L1 only)';

const candidates = [
  {
    name: LRU_SYNC,
    run: (n) => {
      let c = advance(LRU_SYNC, n);
      let missed = 0;
      for (let i = 0; i < n; i++) if (lru.get(sequence[c++ & MASK]) === undefined) missed++;
      addMisses(LRU_SYNC, missed);
    },
  },
  {
    name: LRU,
    run: async (n) => {
      let c = advance(LRU, n);
      let missed = 0;
      for (let i = 0; i < n; i++) if ((await lru.get(sequence[c++ & MASK])) === undefined) missed++;
      addMisses(LRU, missed);
    },
  },
  {
    name: DISTCACHE,
    run: async (n) => {
      let c = advance(DISTCACHE, n);
      let missed = 0;
      for (let i = 0; i < n; i++) {
        if ((await engine.get('products', sequence[c++ & MASK])) === undefined) missed++;
      }
      addMisses(DISTCACHE, missed);
    },
  },
  {
    name: DISTCACHE_COPY,
    run: async (n) => {
      let c = advance(DISTCACHE_COPY, n);
      let missed = 0;
      for (let i = 0; i < n; i++) {
        if ((await engine.get('products-copy', sequence[c++ & MASK])) === undefined) missed++;
      }
      addMisses(DISTCACHE_COPY, missed);
    },
  },
  {
    name: MANAGER,
    run: async (n) => {
      let c = advance(MANAGER, n);
      let missed = 0;
      for (let i = 0; i < n; i++) if ((await manager.get(sequence[c++ & MASK])) === undefined) missed++;
      addMisses(MANAGER, missed);
    },
  },
  {
    name: BENTO,
    run: async (n) => {
      let c = advance(BENTO, n);
      let missed = 0;
      for (let i = 0; i < n; i++) {
        if ((await bento.get({ key: sequence[c++ & MASK] })) === undefined) missed++;
      }
      addMisses(BENTO, missed);
    },
  },
];

console.log(`local-hit: ${machineLine()}`);
const report = createResults('local-hit');
console.log(
  `${KEY_COUNT.toLocaleString('en')} keys, ~1 KB products, uniform random access (seed ${SEED}); ` +
    `${ROUNDS} rounds, each timing one ~${SAMPLE_MS} ms batch per candidate in random order; medians over rounds; ` +
    'ops/s per CPU-second of this process, ratios paired within rounds (see bench/lib/measure.mjs)\n',
);

const results = await measureInterleaved(candidates, { rounds: ROUNDS, sampleMs: SAMPLE_MS, seed: SEED });
const byName = Object.fromEntries(results.map((result) => [result.name, result]));

for (const [name, count] of misses) {
  if (count > 0) throw new Error(`${name} missed ${count} reads: it is not measuring cache hits`);
}

const percent = (spread) => `±${((spread / 2) * 100).toFixed(0)}%`;
report.table(
  'Local hit: engine.get of a key this node holds, vs lru-cache behind await',
  results.map((result) => {
    const { ratio, spread } = result.ratioTo(byName[LRU]);
    return {
      candidate: result.name,
      'ops/s': formatRate(result.opsPerSecond),
      'ns/op': formatNs(result.opsPerSecond),
      'ops/s IQR': percent(result.spread),
      'vs lru-cache behind await': formatRatio(ratio),
      'ratio IQR': percent(spread),
    };
  }),
);

// Ratios are medians of per-round ratios (see bench/lib/measure.mjs), not ratios of the medians.
const goals = [
  { goal: 'distcache >= 0.5x lru-cache behind await', versus: LRU, target: 0.5 },
  { goal: 'distcache >= 2x cache-manager', versus: MANAGER, target: 2 },
  { goal: 'distcache >= 8x bentocache', versus: BENTO, target: 8 },
].map((goal) => ({ ...goal, ...byName[DISTCACHE].ratioTo(byName[goal.versus]) }));
console.log('');
report.table(
  'Goals',
  goals.map(({ goal, ratio, spread, target }) => ({
    goal,
    measured: formatRatio(ratio),
    'ratio IQR': percent(spread),
    result: ratio >= target ? 'PASS' : 'MISS',
  })),
);
const missed = goals.filter(({ ratio, target }) => ratio < target).length;
console.log(`\n${missed === 0 ? 'all goals met' : `${missed} goal(s) missed`}${CHECK ? ' (--check)' : ''}`);

report.chart({
  id: 'throughput',
  title: 'Local hit: gets per CPU-second of a ~1 KB product the cache holds',
  unit: 'ops/s',
  higherIsBetter: true,
  scale: 'log',
  groups: [
    { label: '', bars: results.map((result) => ({ label: result.name, value: result.opsPerSecond })) },
  ],
});
await report.write();

await engine.stop();
await bento.disconnect();
await manager.disconnect();
if (CHECK && missed > 0) process.exitCode = 1;
