// A three-node distcache cluster on loopback, in one process for a quick look: owner-based
// loading, one database query per key for the whole cluster, writes seen everywhere, and a node
// leaving. Run it with `npm start` from the repository root. (The Nest sample service with a real
// database replaces this demo when it lands.)
import { parseArgs } from 'node:util';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DistCacheEngine, defineKeySpace, staticDiscovery } from 'distcache-core';

// The sample app's command-line contract (src/cli/command-line.ts, which these uncompiled demos
// cannot import): --help prints the usage, anything else is refused in one line.
try {
  if (parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, strict: true }).values.help) {
    console.log(
      `usage: npm run demo:cluster -w sample-app\n\nA three-node distcache cluster on loopback, in one process: owner-based loading, one database\nquery per key for the whole cluster, writes seen everywhere, and a node leaving. No flags.`,
    );
    process.exit(0);
  }
} catch (error) {
  console.error(
    `npm run demo:cluster -w sample-app: ${error.message.split('\n')[0]}. \`npm run demo:cluster -w sample-app -- --help\` shows the usage.`,
  );
  process.exit(2);
}

const queries = new Map(); // node name -> database queries it made
const queriesByKey = new Map(); // product id -> database queries for it, cluster-wide
const catalogue = (id) =>
  Number(id) >= 1 && Number(id) <= 10_000
    ? {
        id: Number(id),
        name: `Product ${id}`,
        price: 9.99 + Number(id),
        updatedAt: new Date(Date.UTC(2026, 10, 1)),
      }
    : undefined;

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const ports = [await freePort(), await freePort(), await freePort()];
const peers = ports.map((port) => `127.0.0.1:${port}`);
const nodes = ports.map((port, index) => {
  const name = ['node-a', 'node-b', 'node-c'][index];
  queries.set(name, 0);
  return new DistCacheEngine({
    nodeName: name,
    host: '127.0.0.1',
    port,
    discovery: staticDiscovery({ peers }),
    keySpaces: [
      defineKeySpace({
        name: 'products',
        ttl: '5m',
        dataSource: async (id, { signal }) => {
          queries.set(name, queries.get(name) + 1);
          queriesByKey.set(id, (queriesByKey.get(id) ?? 0) + 1);
          await sleep(15, undefined, { signal }); // a database round trip
          return catalogue(id);
        },
      }),
    ],
  });
});
const [a, b, c] = nodes;
const nameOf = (id) => ['node-a', 'node-b', 'node-c'][peers.indexOf(id)];
const counts = () => [...queries].map(([name, count]) => `${name}=${count}`).join(' ');

console.log('distcache cluster demo: three nodes on loopback\n');
await Promise.all(nodes.map((node) => node.start()));
while (!nodes.every((node) => node.stats().members === 3)) await sleep(20);
for (const peer of a.peers()) {
  console.log(
    `  ${peer.id.padEnd(16)} ${peer.status.padEnd(6)} owns ${(peer.ownershipShare * 100).toFixed(1)}% of keys`,
  );
}

console.log(`\n1. product 42 is owned by ${nameOf(a.ownerOf('products', '42'))}; read it on every node:`);
for (const node of nodes) {
  const started = performance.now();
  const product = await node.get('products', '42');
  console.log(
    `   ${node.options.nodeName} got "${product.name}" in ${(performance.now() - started).toFixed(2)} ms`,
  );
}
console.log(`   database queries: ${counts()} (one, on the owner)`);

console.log('\n2. 3,000 concurrent reads of cold product 7, spread over the three nodes:');
const before = [...queries.values()].reduce((x, y) => x + y, 0);
await Promise.all(Array.from({ length: 3_000 }, (_, index) => nodes[index % 3].get('products', '7')));
console.log(
  `   database queries for the burst: ${[...queries.values()].reduce((x, y) => x + y, 0) - before}`,
);

console.log('\n3. put a new price on node-a; node-b and node-c read it at once:');
await a.put('products', '42', { ...(await a.get('products', '42')), price: 1.99 });
console.log(
  `   node-b sees ${(await b.get('products', '42')).price}, node-c sees ${(await c.get('products', '42')).price}`,
);

const cKey = Array.from({ length: 100 }, (_, index) => String(index + 1)).find(
  (id) => a.ownerOf('products', id) === peers[2],
);
await b.get('products', cKey);
console.log(`\n4. product ${cKey} is owned by node-c (queries: ${counts()}); node-c leaves:`);
await c.stop();
const newOwner = nameOf(a.ownerOf('products', cKey));
console.log(`   members seen by node-a: ${a.stats().members}; product ${cKey} now owned by ${newOwner}`);
const beforeMove = queriesByKey.get(cKey) ?? 0;
const moved = await a.get('products', cKey);
const extra = (queriesByKey.get(cKey) ?? 0) - beforeMove;
console.log(
  `   node-a reads product ${cKey}: "${moved.name}"; database queries for it since node-c left: ${extra}` +
    (extra === 0
      ? ' (the cluster still had a copy: node-b read it earlier)'
      : ' (loaded once by the new owner)'),
);
console.log('\nper-node stats of keyspace "products":');
for (const node of [a, b]) {
  const s = node.stats().keySpaces.products;
  console.log(
    `   ${node.options.nodeName}: gets ${s.gets}, hits ${s.hits} (hot copies ${s.hotHits}), owner loads ${s.loads}, answered by peers ${s.peerLoads}`,
  );
}
console.log(`   database queries in total: ${counts()}`);
await Promise.all([a.stop(), b.stop()]);
