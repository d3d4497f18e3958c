// Miss path: the CPU a cache spends on a read it does not hold, beyond the data source's own work.
// Every read is of a key the candidate has never seen (one load each), ~1 KB products, with a
// data source that answers after `--source-ms` (a timer: it costs no CPU, like a database) and
// builds the product; `--concurrency` reads in flight, as requests of a busy service are.
//
// Found while splitting the e2e-http bench (issue 18): with every read a hit, a standalone distcache
// serves the Nest app at the same CPU per request as an in-process Map; the difference is the reads
// that miss. Here a miss is measured alone.
//
// Candidates, in one process, measured in the same run: the data source called directly (no cache:
// the floor every row includes), lru-cache with a hand-written single-flight (a Map of loads in
// flight; the cheapest cache-aside), cache-manager v7 `wrap` (default Keyv memory store),
// bentocache 1.x `getOrSet` (memory L1 only), and distcache `engine.get` on a standalone engine
// (default codec, values frozen), with a source that ignores the load's context and with one that
// passes its AbortSignal on (what the docs recommend; the signal is then made for every load).
// After each sample, untimed, every candidate but the source must answer a sample of the keys it
// loaded without calling the source again. Rows give CPU µs per miss (process CPU, GC included), the cache's
// own share (minus the source-only row), and the ratio of the lru-cache row's CPU to each.
//
// Run:     npm run build -w distcache-core && node bench/miss/miss.bench.mjs   # ~1 min
// Options: --rounds=7 --misses=5000 --concurrency=48 --source-ms=2 --seed=42
import { setTimeout as sleep } from 'node:timers/promises';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache } from 'cache-manager';
import { DistCacheEngine, defineKeySpace } from 'distcache-core';
import { LRUCache } from 'lru-cache';
import { collectGarbage, median, seededRandom, shuffled } from '../lib/measure.mjs';
import { makeProduct } from '../lib/product.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { formatRatio, machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';

const flags = parseFlags({ also: SCENARIO_FLAGS });
const ROUNDS = numberFlag(flags, 'rounds', 7);
const MISSES = numberFlag(flags, 'misses', 5_000);
const CONCURRENCY = numberFlag(flags, 'concurrency', 48);
const SOURCE_MS = numberFlag(flags, 'source-ms', 2);
const SEED = numberFlag(flags, 'seed', 42);

/** The data source of every candidate: a database round trip (a timer), then the row as an object. */
let sourceCalls = 0;
async function source(key, signal) {
  sourceCalls += 1;
  await sleep(SOURCE_MS, undefined, signal === undefined ? undefined : { signal });
  return makeProduct(Number(key.slice(key.indexOf(':') + 1)));
}

// Room for every key a run reads in every cache: nothing is evicted, each read is a first read.
const CAPACITY = 2 * (ROUNDS + 1) * MISSES;

// The same 1 h TTL as every other cache (lru-cache then checks expiry on reads, as they do).
const lru = new LRUCache({ max: CAPACITY, ttl: 3_600_000 });
const inFlight = new Map();
/** Cache-aside over lru-cache, concurrent misses of a key sharing one load: the cheapest cache. */
function lruGet(key) {
  const value = lru.get(key);
  if (value !== undefined) return Promise.resolve(value);
  let load = inFlight.get(key);
  if (load === undefined) {
    load = source(key).then((loaded) => {
      inFlight.delete(key);
      lru.set(key, loaded);
      return loaded;
    });
    inFlight.set(key, load);
  }
  return load;
}

const manager = createCache();
const bento = new BentoCache({
  default: 'memory',
  stores: { memory: bentostore().useL1Layer(memoryDriver({ maxSize: '2gb', maxItems: CAPACITY })) },
});
const engine = new DistCacheEngine({
  keySpaces: [
    defineKeySpace({ name: 'products', maxBytes: 2 ** 31, ttl: '1h', dataSource: (key) => source(key) }),
    // What the docs recommend: the source hands the load's signal to its driver (here, the timer).
    defineKeySpace({
      name: 'products-signal',
      maxBytes: 2 ** 31,
      ttl: '1h',
      dataSource: (key, { signal }) => source(key, signal),
    }),
  ],
});
await engine.start();

const candidates = [
  { name: 'data source only (no cache)', get: (key) => source(key) },
  { name: 'lru-cache + single-flight Map', get: lruGet },
  {
    name: 'cache-manager v7 wrap (Keyv memory)',
    get: (key) => manager.wrap(key, () => source(key), 3_600_000),
  },
  {
    name: 'bentocache getOrSet (memory L1)',
    get: (key) => bento.getOrSet({ key, ttl: '1h', factory: () => source(key) }),
  },
  { name: 'distcache engine.get (standalone)', get: (key) => engine.get('products', key) },
  {
    name: 'distcache engine.get, the source uses its signal',
    get: (key) => engine.get('products-signal', key),
  },
];
const SOURCE_ONLY = candidates[0];
const REFERENCE = candidates[1];

/** Next key never read before, per candidate (each candidate has its own key space). */
let serial = 0;
/** CPU µs per miss of `candidate` over MISSES reads, CONCURRENCY in flight; checks each answer. */
async function sample(candidate) {
  const first = serial;
  serial += MISSES;
  let next = first;
  const calls = sourceCalls;
  const started = process.cpuUsage();
  const worker = async () => {
    while (next < first + MISSES) {
      const index = next++;
      const product = await candidate.get(`product:${index}`);
      if (product?.id !== makeProduct(index).id)
        throw new Error(`${candidate.name} returned a wrong product`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const { user, system } = process.cpuUsage(started);
  if (sourceCalls - calls !== MISSES)
    throw new Error(`${candidate.name}: ${sourceCalls - calls} source calls`);
  // Untimed: a cache must now answer a sample of those keys without calling the source.
  if (candidate !== SOURCE_ONLY) {
    for (let index = first; index < first + MISSES; index += 97) await candidate.get(`product:${index}`);
    if (sourceCalls - calls !== MISSES) throw new Error(`${candidate.name} did not keep what it loaded`);
  }
  // Each sample starts from a collected heap: a major GC that the caches' growth makes due is not
  // charged to whichever candidate runs next (measure.mjs exposes gc, so no node flag is needed).
  collectGarbage();
  return (user + system) / MISSES;
}

console.log(machineLine('miss'));
const report = createResults('miss');
const random = seededRandom(SEED);
for (const candidate of candidates) await sample(candidate); // warm-up: the JIT, the caches' tables
const samples = new Map(candidates.map((candidate) => [candidate, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const candidate of shuffled(candidates, random)) samples.get(candidate).push(await sample(candidate));
}
await engine.stop();
await bento.disconnect();

// The check of each answer builds a product too; it is the same work in every row, like the source.
const usPerMiss = (candidate) => median(samples.get(candidate));
const floor = usPerMiss(SOURCE_ONLY);
const ratio = (candidate) =>
  median(samples.get(candidate).map((us, round) => samples.get(REFERENCE)[round] / us));
const rows = candidates.map((candidate) => ({
  candidate: candidate.name,
  'CPU µs per miss': usPerMiss(candidate).toFixed(1),
  "cache's own µs (minus source only)":
    candidate === SOURCE_ONLY ? '-' : (usPerMiss(candidate) - floor).toFixed(1),
  'vs lru-cache + single-flight': candidate === SOURCE_ONLY ? '-' : formatRatio(ratio(candidate)),
}));
console.log(
  `\n${MISSES.toLocaleString('en')} first reads per sample, ${CONCURRENCY} in flight, source ${SOURCE_MS} ms (a timer) + makeProduct; ${ROUNDS} rounds interleaved; medians; ratios are medians of per-round ratios (higher is cheaper)\n`,
);
report.table('Miss path: CPU per first read of a key', rows, { align: { candidate: 'left' } });
report.note(`rounds ${ROUNDS}, misses ${MISSES}, concurrency ${CONCURRENCY}, source ${SOURCE_MS} ms`);
await report.write();
