// A cluster node in its own process that finds its peers through NATS, driven by its parent over
// IPC. It runs the built package (what users install), so the parent can kill -9 a real process.
import { DistCacheEngine } from 'distcache-core';
import { natsDiscovery } from 'distcache-core/nats';

const config = JSON.parse(process.env.DISTCACHE_NATS_NODE ?? '{}');
const calls = new Map();
const database = new Map(
  Array.from({ length: 1_000 }, (_, index) => [String(index), { id: String(index), version: 0 }]),
);

const discovery = natsDiscovery(config.discovery);
const engine = new DistCacheEngine({
  nodeName: config.name,
  host: '127.0.0.1',
  port: config.port,
  cluster: config.discovery.cluster,
  discovery,
  clusterOptions: config.clusterOptions,
  keySpaces: [
    {
      name: 'products',
      dataSource: async (key) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return database.get(key);
      },
    },
  ],
});

const commands = {
  get: async ({ key }) => engine.get('products', key),
  put: async ({ key, value }) => engine.put('products', key, value),
  calls: async () => Object.fromEntries(calls),
  members: async () => engine.stats().members,
  ownerOf: async ({ key }) => engine.ownerOf('products', key),
  discovered: async () =>
    (await discovery.discoverPeers(AbortSignal.timeout(5_000)))
      .map((peer) => `${peer.host}:${peer.port}`)
      .sort(),
};

process.on('message', async (message) => {
  const { id, cmd, ...args } = message;
  try {
    process.send({ id, result: await commands[cmd](args) });
  } catch (error) {
    process.send({
      id,
      error: { code: error?.code ?? 'E_UNKNOWN', message: String(error?.message ?? error) },
    });
  }
});

try {
  await engine.start();
  process.send({ ready: true });
} catch (error) {
  process.send({ failed: { code: error?.code, message: String(error?.message ?? error) } });
  process.exit(1);
}
