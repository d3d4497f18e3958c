// A runnable tour of the engine on one node: read-through loading, single-flight under a burst,
// Dates surviving the cache, expiry, negative caching and the stats that show it all.
// Run it with `npm start` from the repository root.
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { DistCacheEngine, defineKeySpace, isDistCacheError } from 'distcache-core';

// The sample app's command-line contract (src/cli/command-line.ts, which these uncompiled demos
// cannot import): --help prints the usage, anything else is refused in one line.
try {
  if (parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, strict: true }).values.help) {
    console.log(
      `usage: npm run demo:standalone -w sample-app\n\nA tour of the engine on one node: read-through loading, single-flight under a burst, Dates\nsurviving the cache, expiry, negative caching and the stats that show it all. No flags.`,
    );
    process.exit(0);
  }
} catch (error) {
  console.error(
    `npm run demo:standalone -w sample-app: ${error.message.split('\n')[0]}. \`npm run demo:standalone -w sample-app -- --help\` shows the usage.`,
  );
  process.exit(2);
}

let databaseQueries = 0;
const catalogue = new Map(
  Array.from({ length: 1_000 }, (_, index) => [
    String(index + 1),
    {
      id: index + 1,
      name: `Product ${index + 1}`,
      price: 9.99 + index,
      updatedAt: new Date(Date.UTC(2026, 10, 1)),
    },
  ]),
);

// A data source with realistic latency: 20 ms per query, honouring the abort signal.
async function loadProduct(id, { signal }) {
  databaseQueries += 1;
  await sleep(20, undefined, { signal });
  return catalogue.get(id);
}

const engine = new DistCacheEngine({
  nodeName: 'demo',
  keySpaces: [
    defineKeySpace({
      name: 'products',
      ttl: '2s',
      negativeTtl: '1s',
      readTimeout: '1s',
      dataSource: { fetch: loadProduct },
    }),
  ],
});
await engine.start();

const timed = async (label, work) => {
  const started = performance.now();
  const result = await work();
  console.log(`${label.padEnd(52)} ${(performance.now() - started).toFixed(2).padStart(8)} ms`);
  return result;
};

console.log('distcache engine demo (standalone node)\n');
const cold = await timed('cold read of product 42 (goes to the database)', () =>
  engine.get('products', '42'),
);
await timed('warm read of product 42 (served from the cache)', () => engine.get('products', '42'));
console.log(`  updatedAt is still a ${cold.updatedAt.constructor.name}: ${cold.updatedAt.toISOString()}`);

const before = databaseQueries;
await timed('1,000 concurrent reads of cold product 7', () =>
  Promise.all(Array.from({ length: 1_000 }, () => engine.get('products', '7'))),
);
console.log(`  database queries for that burst: ${databaseQueries - before} (single-flight)`);

await timed('read of a product that does not exist', () => engine.get('products', '999999'));
await timed('same again (remembered "not found")', () => engine.get('products', '999999'));

try {
  await engine.put('products', '42', undefined);
} catch (error) {
  if (isDistCacheError(error)) console.log(`  bad input is refused: ${error.code}: ${error.message}`);
}

console.log('\nwaiting 2 s for the ttl to pass...');
await sleep(2_000);
await timed('read of product 42 after expiry (database again)', () => engine.get('products', '42'));

const stats = engine.stats().keySpaces.products;
console.log('\nstats of keyspace "products":');
console.log(
  `  gets ${stats.gets}, hits ${stats.hits}, misses ${stats.misses}, hit ratio ${(stats.hitRatio * 100).toFixed(1)}%`,
);
console.log(
  `  data-source loads ${stats.loads}, deduplicated ${stats.dedupedLoads}, items ${stats.items}, bytes ${stats.bytes}`,
);
console.log(`  database queries in total: ${databaseQueries}`);
await engine.stop();
