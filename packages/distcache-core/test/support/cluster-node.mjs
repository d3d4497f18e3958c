// A cluster node in its own process, driven by its parent over IPC. It runs the built package
// (what users install) with a data source that counts calls per key, so the parent can tell
// which process loaded what.
import { DistCacheEngine, staticDiscovery } from 'distcache-core';

const config = JSON.parse(process.env.DISTCACHE_NODE ?? '{}');
const calls = new Map();
const database = new Map(
  Array.from({ length: 1_000 }, (_, index) => [String(index), { id: String(index), version: 0 }]),
);

const engine = new DistCacheEngine({
  nodeName: config.name,
  host: '127.0.0.1',
  port: config.port,
  discovery: staticDiscovery({ peers: config.peers }),
  tls: config.tls,
  clusterOptions: config.clusterOptions,
  keySpaces: [
    {
      name: 'products',
      readTimeout: config.readTimeout ?? '2s',
      dataSource: async (key) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        if (config.sourceDelayMs) await new Promise((resolve) => setTimeout(resolve, config.sourceDelayMs));
        return database.get(key);
      },
    },
  ],
});

const describeError = (error) => ({
  code: error?.code ?? 'E_UNKNOWN',
  message: String(error?.message ?? error),
});

const commands = {
  get: async ({ key }) => engine.get('products', key),
  put: async ({ key, value }) => engine.put('products', key, value),
  delete: async ({ key }) => engine.delete('products', key),
  setDatabase: async ({ key, value }) => database.set(key, value),
  calls: async () => Object.fromEntries(calls),
  members: async () => engine.stats().members,
  ownerOf: async ({ key }) => engine.ownerOf('products', key),
  stats: async () => engine.stats().keySpaces.products,
  // Many concurrent gets of one key; answers how many succeeded and the errors by code.
  burst: async ({ key, count }) => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: count }, () => engine.get('products', key)),
    );
    const errors = {};
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected')
        errors[outcome.reason?.code] = (errors[outcome.reason?.code] ?? 0) + 1;
    }
    return { ok: outcomes.filter((outcome) => outcome.status === 'fulfilled').length, errors };
  },
  // One timed get: how long it took and how it ended.
  timedGet: async ({ key }) => {
    const started = performance.now();
    try {
      const value = await engine.get('products', key);
      return { ms: performance.now() - started, value };
    } catch (error) {
      return { ms: performance.now() - started, error: describeError(error) };
    }
  },
  stop: async () => {
    await engine.stop();
    setImmediate(() => process.exit(0));
  },
};

process.on('message', async (message) => {
  const { id, cmd, ...args } = message;
  try {
    const result = await commands[cmd](args);
    process.send({ id, result });
  } catch (error) {
    process.send({ id, error: describeError(error) });
  }
});

try {
  await engine.start();
  process.send({ ready: true, port: config.port });
} catch (error) {
  process.send({ failed: describeError(error) });
  process.exit(1);
}
