// A cluster node in its own process, driven by its parent over IPC. It runs the built package
// (what users install) with a data source that counts calls per key, so the parent can tell
// which process loaded what. With `sourceFromParent` the data source asks the parent instead (one
// database for the whole cluster, which the parent can make fail); `host`/`advertiseHost` let the
// fault tests put a proxy in front of the node (test/support/tcp-proxy.ts).
import net from 'node:net';
import { DistCacheEngine, staticDiscovery } from 'distcache-core';

const config = JSON.parse(process.env.DISTCACHE_NODE ?? '{}');
const calls = new Map();
const database = new Map(
  Array.from({ length: 1_000 }, (_, index) => [String(index), { id: String(index), version: 0 }]),
);

// Source calls answered by the parent, by call id.
const sourceCalls = new Map();
let nextSourceCall = 0;
const askParent = (key, signal) =>
  new Promise((resolve, reject) => {
    const sid = ++nextSourceCall;
    const abort = () => {
      sourceCalls.delete(sid);
      reject(signal.reason);
    };
    sourceCalls.set(sid, {
      resolve: (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      reject: (error) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    });
    signal.addEventListener('abort', abort, { once: true });
    process.send({ source: { sid, key } });
  });

const engine = new DistCacheEngine({
  nodeName: config.name,
  host: config.host ?? '127.0.0.1',
  advertiseHost: config.advertiseHost,
  port: config.port,
  discovery: staticDiscovery({ peers: config.peers }),
  tls: config.tls,
  clusterOptions: config.clusterOptions,
  keySpaces: [
    {
      name: 'products',
      readTimeout: config.readTimeout ?? '2s',
      ...config.keySpace,
      // Tags from the key (JSON cannot carry a function): key n carries `t<n % tagsByKeyMod>`.
      ...(config.tagsByKeyMod === undefined
        ? {}
        : { tags: (_value, key) => [`t${Number(key) % config.tagsByKeyMod}`] }),
      dataSource: async (key, { signal }) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        if (config.sourceDelayMs) await new Promise((resolve) => setTimeout(resolve, config.sourceDelayMs));
        return config.sourceFromParent ? askParent(key, signal) : database.get(key);
      },
    },
  ],
});

const describeError = (error) => ({
  code: error?.code ?? 'E_UNKNOWN',
  message: String(error?.message ?? error),
});

let backgroundReading = false;

const commands = {
  get: async ({ key }) => engine.get('products', key),
  put: async ({ key, value }) => engine.put('products', key, value),
  delete: async ({ key }) => engine.delete('products', key),
  putTagged: async ({ key, value, tags }) => engine.put('products', key, value, { tags }),
  deleteByTags: async ({ tags }) => engine.deleteByTags('products', tags),
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
  timedPut: async ({ key, value }) => {
    const started = performance.now();
    try {
      await engine.put('products', key, value);
      return { ms: performance.now() - started };
    } catch (error) {
      return { ms: performance.now() - started, error: describeError(error) };
    }
  },
  timedGet: async ({ key }) => {
    const started = performance.now();
    try {
      const value = await engine.get('products', key);
      return { ms: performance.now() - started, value };
    } catch (error) {
      return { ms: performance.now() - started, error: describeError(error) };
    }
  },
  // A get, then a synchronous stall of this process's event loop for `stallMs` once the request
  // is on the wire (the engine sent it in this turn's ticks and promise jobs): how the get ended.
  stalledGet: async ({ key, stallMs }) => {
    const got = engine.get('products', key).then(
      (value) => ({ value }),
      (error) => ({ error: describeError(error) }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    const until = performance.now() + stallMs;
    while (performance.now() < until);
    return got;
  },
  // Reads of `key` from setImmediate callbacks, over and over, until turned off (a node whose
  // loop turns read the cache in their check phase, as the transport's own pipelined requests do).
  backgroundReads: async ({ key, on }) => {
    backgroundReading = on;
    const read = () => {
      if (!backgroundReading) return;
      engine.get('products', key).then(
        () => setImmediate(read),
        () => setImmediate(read),
      );
    };
    if (on) setImmediate(read);
  },
  // A port for reads over TCP, one line per command: `get <key>` (answered with one JSON line)
  // or `spin <ms>` (a synchronous stall of the event loop inside the socket's data callback).
  // Unlike IPC, a socket that had input when the loop stalled is read again, with what arrived
  // during the stall, before any timer runs: as on a busy server.
  openReadPort: async () => {
    const server = net.createServer((socket) => {
      let pending = '';
      socket.on('data', (chunk) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop();
        for (const line of lines) {
          const [command, argument] = line.split(' ');
          if (command === 'spin') {
            const until = performance.now() + Number(argument);
            while (performance.now() < until);
            continue;
          }
          engine.get('products', argument).then(
            (value) => socket.write(`${JSON.stringify({ key: argument, value })}\n`),
            (error) => socket.write(`${JSON.stringify({ key: argument, error: describeError(error) })}\n`),
          );
        }
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server.address().port;
  },
  // One operation timed inside this process (IPC excluded): how long it took and how it ended.
  timed: async ({ op, key, value }) => {
    const started = performance.now();
    try {
      let result;
      if (op === 'get') result = await engine.get('products', key);
      else if (op === 'put') await engine.put('products', key, value);
      else await engine.delete('products', key);
      return { ms: performance.now() - started, value: result };
    } catch (error) {
      return { ms: performance.now() - started, error: describeError(error) };
    }
  },
  // The member ids this node routes to (itself, alive and suspect peers), sorted.
  memberIds: async () =>
    engine
      .peers()
      .filter((peer) => peer.status === 'self' || peer.status === 'alive' || peer.status === 'suspect')
      .map((peer) => peer.id)
      .sort(),
  stop: async () => {
    await engine.stop();
    setImmediate(() => process.exit(0));
  },
};

process.on('message', async (message) => {
  if (message.sourceReply !== undefined) {
    const pending = sourceCalls.get(message.sourceReply);
    sourceCalls.delete(message.sourceReply);
    if (message.error !== undefined) pending?.reject(new Error(message.error));
    else pending?.resolve(message.value ?? undefined);
    return;
  }
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
