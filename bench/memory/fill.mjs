// One candidate of the memory scenario (forked by memory.bench.mjs with --expose-gc): measures
// this process's memory after full collections, fills the candidate's cache with `entries` ~1 KB
// products under a 1 h TTL, collects again and reports the difference. One process per candidate,
// so no candidate's heap, JIT code or freed-but-kept pages end up in another's numbers.
//
// Measured: V8 heap used + external memory (`process.memoryUsage()`: `external` holds the
// ArrayBuffer backing stores, which is where distcache's encoded bytes live), and RSS. Redis is
// measured on the server (`INFO memory` used_memory and used_memory_rss) with keys under a
// run-unique prefix, deleted after.
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache } from 'cache-manager';
import { DistCacheEngine } from 'distcache-core';
import Redis from 'ioredis';
import { LRUCache } from 'lru-cache';
import { makeProduct } from '../lib/product.mjs';
import { deleteKeysByPrefix } from '../lib/redis.mjs';

const { candidate, entries, redis: redisConfig, maxBytes } = JSON.parse(process.argv[2]);
const TTL_MS = 3_600_000;
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run with node --expose-gc');

const key = (i) => `product:${i}`;

/**
 * Full collections until heap and external memory stop shrinking twice in a row (weak references,
 * finalizers and the background freeing of ArrayBuffers settle; one pass was seen to stop early).
 */
async function settle() {
  let last = Infinity;
  let steady = 0;
  for (let pass = 0; pass < 30 && steady < 2; pass++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { heapUsed, external } = process.memoryUsage();
    steady = heapUsed + external >= last - 1024 ? steady + 1 : 0;
    last = Math.min(last, heapUsed + external);
  }
  const { heapUsed, external, arrayBuffers, rss } = process.memoryUsage();
  return { heapUsed, external, arrayBuffers, rss };
}

/** distcache standalone engine, one keyspace with room for every entry. */
async function distcache({ valueMode = 'frozen', read }) {
  const engine = new DistCacheEngine({
    keySpaces: [{ name: 'products', maxBytes: 2 ** 31, ttl: TTL_MS, valueMode }],
  });
  await engine.start();
  for (let i = 0; i < entries; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(i + 100, entries); j++) batch.push({ key: key(j), value: makeProduct(j) });
    await engine.putMany('products', batch);
  }
  // A read-through cache serves reads: the first read of an entry decodes it, and valueMode
  // 'frozen' keeps that decoded, frozen value, instead of the bytes, for the next readers.
  if (read) for (let i = 0; i < entries; i++) await engine.get('products', key(i));
  const stats = engine.stats().keySpaces.products;
  return {
    holder: engine,
    get: (k) => engine.get('products', k),
    extra: { budgetBytesPerEntry: stats.bytes / stats.items, items: stats.items },
  };
}

/**
 * A read-through fill beyond capacity: a keyspace of `maxBytes` whose data source makes the
 * products, `entries` distinct keys read twice each (the second pass reads what survived the
 * evictions and reloads the rest), default options otherwise.
 */
async function distcacheFill({ valueMode }) {
  const engine = new DistCacheEngine({
    keySpaces: [
      {
        name: 'products',
        maxBytes,
        ttl: TTL_MS,
        valueMode,
        dataSource: (k) => makeProduct(Number(k.slice(8))),
      },
    ],
  });
  await engine.start();
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < entries; i++) await engine.get('products', key(i));
  }
  const stats = engine.stats().keySpaces.products;
  const lastKey = key(entries - 1);
  return {
    holder: engine,
    // After eviction only the most recent keys are held; the check reads those.
    get: (k) => engine.get('products', k),
    checkKeys: [lastKey],
    extra: { countedBytes: stats.bytes, items: stats.items, evictions: stats.evictions, maxBytes },
  };
}

const CANDIDATES = {
  'fill-frozen': () => distcacheFill({ valueMode: 'frozen' }),
  'fill-copy': () => distcacheFill({ valueMode: 'copy' }),
  'payload-json': async () => {
    const strings = [];
    for (let i = 0; i < entries; i++) strings.push(JSON.stringify(makeProduct(i)));
    return { holder: strings, get: (k) => JSON.parse(strings[Number(k.slice(8))]) };
  },
  'payload-objects': async () => {
    const objects = [];
    for (let i = 0; i < entries; i++) objects.push(makeProduct(i));
    return { holder: objects, get: (k) => objects[Number(k.slice(8))] };
  },
  'distcache-put': () => distcache({ read: false }),
  'distcache-read': () => distcache({ read: true }),
  'distcache-copy': () => distcache({ valueMode: 'copy', read: true }),
  'lru-objects': async () => {
    const lru = new LRUCache({ max: entries, ttl: TTL_MS });
    for (let i = 0; i < entries; i++) lru.set(key(i), makeProduct(i));
    return { holder: lru, get: (k) => lru.get(k) };
  },
  'lru-json': async () => {
    const lru = new LRUCache({ max: entries, ttl: TTL_MS });
    for (let i = 0; i < entries; i++) lru.set(key(i), JSON.stringify(makeProduct(i)));
    return { holder: lru, get: (k) => JSON.parse(lru.get(k)) };
  },
  'cache-manager': async () => {
    const cache = createCache();
    for (let i = 0; i < entries; i++) await cache.set(key(i), makeProduct(i), TTL_MS);
    return { holder: cache, get: (k) => cache.get(k) };
  },
  bentocache: async () => {
    const bento = new BentoCache({
      default: 'memory',
      stores: {
        memory: bentostore().useL1Layer(memoryDriver({ maxSize: '4gb', maxItems: entries * 2 })),
      },
    });
    for (let i = 0; i < entries; i++) await bento.set({ key: key(i), value: makeProduct(i), ttl: TTL_MS });
    return { holder: bento, get: (k) => bento.get({ key: k }) };
  },
};

/** Redis: the server's own accounting, before and after writing the entries as JSON strings. */
async function measureRedis() {
  const prefix = `${redisConfig.prefix}${process.pid}:`;
  const redis = new Redis({ host: redisConfig.host, port: redisConfig.port, lazyConnect: true });
  await redis.connect();
  const memory = async () => {
    const info = await redis.info('memory');
    const field = (name) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1]);
    return { used: field('used_memory'), rss: field('used_memory_rss') };
  };
  try {
    const before = await memory();
    const started = performance.now();
    for (let i = 0; i < entries; i += 1000) {
      const pipeline = redis.pipeline();
      for (let j = i; j < Math.min(i + 1000, entries); j++) {
        pipeline.set(prefix + key(j), JSON.stringify(makeProduct(j)), 'PX', TTL_MS);
      }
      await pipeline.exec();
    }
    const fillMs = performance.now() - started;
    const after = await memory();
    const sample = await redis.get(prefix + key(entries - 1));
    if (JSON.parse(sample ?? 'null')?.id !== makeProduct(entries - 1).id) throw new Error('redis lost a key');
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
    return {
      heapBytes: after.used - before.used,
      rssBytes: after.rss - before.rss,
      fillMs,
      extra: { redisVersion: version },
    };
  } finally {
    redis.disconnect();
    await deleteKeysByPrefix(redisConfig, prefix);
  }
}

let result;
if (candidate === 'redis') {
  result = await measureRedis();
} else {
  const fill = CANDIDATES[candidate];
  if (fill === undefined) throw new Error(`unknown candidate "${candidate}"`);
  const before = await settle();
  const started = performance.now();
  const filled = await fill();
  const fillMs = performance.now() - started;
  const after = await settle();
  // Checked after the measurement, since a read can change what an entry holds.
  const checked =
    filled.checkKeys?.map((k) => Number(k.slice(8))) ??
    Array.from({ length: 1000 }, (_, n) => Math.floor((n * entries) / 1000));
  for (const i of checked) {
    const value = await filled.get(key(i));
    if (value?.id !== makeProduct(i).id) throw new Error(`${candidate} does not hold ${key(i)}`);
  }
  result = {
    heapBytes: after.heapUsed + after.external - (before.heapUsed + before.external),
    v8HeapBytes: after.heapUsed - before.heapUsed,
    externalBytes: after.external - before.external,
    rssBytes: after.rss - before.rss,
    fillMs,
    extra: filled.extra,
  };
  await filled.holder?.stop?.();
  await filled.holder?.disconnect?.();
}
process.send({ type: 'result', candidate, entries, ...result }, () => process.disconnect());
