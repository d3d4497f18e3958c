// One node of the stampede scenario's three-process cluster (forked by stampede.bench.mjs). On
// "fire" it starts `count` concurrent gets of one key at once and reports when they all resolved
// and how often its own data source was called for that key.
import { setTimeout as sleep } from 'node:timers/promises';
import { DistCacheEngine, staticDiscovery } from 'distcache-core';
import { makeProduct } from '../lib/product.mjs';

const { index, ports, sourceDelayMs } = JSON.parse(process.argv[2]);
const sourceCalls = new Map();

/** The data source: a 20 ms "database query" that counts its calls per key. */
async function fetchProduct(key, { signal }) {
  sourceCalls.set(key, (sourceCalls.get(key) ?? 0) + 1);
  await sleep(sourceDelayMs, undefined, { signal });
  return makeProduct(Number(key.slice(key.indexOf(':') + 1)));
}

const engine = new DistCacheEngine({
  nodeName: `stampede-${index}`,
  cluster: 'stampede',
  host: '127.0.0.1',
  port: ports[index],
  discovery: staticDiscovery({ peers: ports.map((port) => `127.0.0.1:${port}`) }),
  keySpaces: [{ name: 'products', maxBytes: 64 << 20, dataSource: fetchProduct }],
});
await engine.start();
while (engine.stats().members !== ports.length) await sleep(20);
process.send({ type: 'ready' });

/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
const now = () => performance.timeOrigin + performance.now();

process.on('message', async (message) => {
  if (message.type === 'fire') {
    const { key, count, id } = message;
    const before = { ...engine.stats().keySpaces.products };
    const started = now();
    const values = await Promise.all(Array.from({ length: count }, () => engine.get('products', key)));
    const ended = now();
    const after = engine.stats().keySpaces.products;
    process.send({
      type: 'fired',
      node: index,
      owner: engine.ownerOf('products', key) === `127.0.0.1:${ports[index]}`,
      started,
      ended,
      wrong: values.filter((value) => value?.id !== id).length,
      sourceCalls: sourceCalls.get(key) ?? 0,
      peerLoads: after.peerLoads - before.peerLoads,
      peerRequestsServed: after.peerRequestsServed - before.peerRequestsServed,
    });
  } else if (message.type === 'stop') {
    await engine.stop();
    process.send({ type: 'stopped' }, () => process.disconnect());
  }
});
process.on('disconnect', () => {
  void engine.stop().finally(() => process.exit(0));
});
