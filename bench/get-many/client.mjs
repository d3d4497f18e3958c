// The client process of the get-many scenario (forked by get-many.bench.mjs). It joins the owners'
// cluster with hot copies off, so every `getMany` of keys the owners hold sends one batched request
// per owner; it also holds keys of its own (the local row) and reads the same products from Redis
// with MGET. Every candidate runs in this process, in interleaved rounds, at each concurrency level.
// Results go to the parent over IPC; the parent prints them.
import { serialize } from 'node:v8';
import Redis from 'ioredis';
import { runClosedLoop, shuffled, shuffledOrder } from '../lib/closed-loop.mjs';
import { seededRandom } from '../lib/measure.mjs';
import { benchEngine, counters, waitForMembers } from '../lib/node-process.mjs';
import { redisServerPid } from '../lib/processes.mjs';
import { makeProduct } from '../lib/product.mjs';
import { contractBytes, contractKey, contractValue, keepsContract } from '../lib/value-contract.mjs';

const config = JSON.parse(process.argv[2]);
// Without the parent nobody reads the results: leave (the parent's cleanup deletes the Redis keys).
process.on('disconnect', () => process.exit(0));
const random = seededRandom(config.seed);
const BATCH = config.batch;
let sourceCalls = 0;

const self = `127.0.0.1:${config.clientPort}`;
const engine = benchEngine({
  name: 'get-many-client',
  cluster: config.cluster,
  port: config.clientPort,
  peers: config.ports,
  hotTtl: 0,
  onFetch: () => sourceCalls++,
});
await engine.start();
await waitForMembers([engine], config.ports.length);

// --- the keys: a pool the owners own (spread over them) and a pool this node owns ------------------

const remote = [];
const local = [];
for (let i = 0; remote.length < config.keys || local.length < config.keys; i++) {
  if (i > 10_000_000) throw new Error('cannot find enough keys for each pool');
  const key = `product:${i}`;
  const kv = engine.ownerOf('kv', key);
  if (kv !== engine.ownerOf('raw', key)) continue;
  if (kv === self) {
    if (local.length < config.keys) local.push(i);
  } else if (remote.length < config.keys) remote.push(i);
}
const perOwner = new Map();
for (const i of remote) {
  const owner = engine.ownerOf('kv', `product:${i}`);
  perOwner.set(owner, (perOwner.get(owner) ?? 0) + 1);
}

function pool(numbers) {
  const products = numbers.map((i) => makeProduct(i));
  return {
    keys: numbers.map((i) => `product:${i}`),
    redisKeys: numbers.map((i) => `${config.redis.prefix}product:${i}`),
    ids: products.map((product) => product.id),
    products,
  };
}
const pools = { remote: pool(remote), local: pool(local) };

// Written with putMany, 100 at a time: each entry goes to its owner, which keeps the value.
for (const { keys, products } of Object.values(pools)) {
  for (let i = 0; i < keys.length; i += 100) {
    const slice = keys.slice(i, i + 100);
    await engine.putMany(
      'kv',
      slice.map((key, j) => ({ key, value: products[i + j] })),
    );
    await engine.putMany(
      'raw',
      slice.map((key, j) => ({ key, value: Buffer.from(JSON.stringify(products[i + j])) })),
    );
  }
}

// Redis: the same values as JSON (what a Node service would store), under this run's prefix.
const redis = new Redis({ host: config.redis.host, port: config.redis.port, lazyConnect: true });
await redis.connect();
for (const { redisKeys, products } of Object.values(pools)) {
  for (let i = 0; i < redisKeys.length; i += 500) {
    const pipeline = redis.pipeline();
    for (let j = i; j < Math.min(i + 500, redisKeys.length); j++) {
      pipeline.set(redisKeys[j], JSON.stringify(products[j]), 'EX', 3600);
      // The same product in distcache's default encoding, for the row with distcache's decode.
      pipeline.set(contractKey(redisKeys[j]), contractBytes(products[j]), 'EX', 3600);
    }
    await pipeline.exec();
  }
}
const redisPid = await redisServerPid(redis);

// --- batches ----------------------------------------------------------------------------------------
// Each batch is the next BATCH entries of one shared access order: back-to-back shuffles of the
// pool, so the keys of a batch are distinct and the batches in flight at one moment never overlap
// (the client's single-flight merges nothing). The pool size is a multiple of BATCH, so no batch
// straddles two shuffles.

function batcher({ keys, redisKeys, ids }) {
  const order = shuffledOrder(keys.length, keys.length * Math.ceil((1 << 18) / keys.length), random);
  let cursor = 0;
  return () => {
    const start = cursor;
    cursor = (cursor + BATCH) % order.length;
    const indexes = order.subarray(start, start + BATCH);
    return { indexes, keys, redisKeys, ids };
  };
}
const nextRemote = batcher(pools.remote);
const nextLocal = batcher(pools.local);
const nameList = (indexes, names) => Array.from(indexes, (index) => names[index]);

/** Counts the answers of a batch that are not the expected product; 0 when all are right. */
function wrongIn(values, indexes, ids) {
  let wrong = 0;
  for (let j = 0; j < indexes.length; j++) if (values[j]?.id !== ids[indexes[j]]) wrong++;
  return wrong;
}
const fromMap = (map, names) => names.map((name) => map.get(name));

const CANDIDATES = {
  getmany: {
    serverPids: config.ownerPids,
    async op() {
      const { indexes, keys, ids } = nextRemote();
      const names = nameList(indexes, keys);
      const map = await engine.getMany('kv', names);
      return wrongIn(fromMap(map, names), indexes, ids) === 0;
    },
  },
  'getmany-raw': {
    serverPids: config.ownerPids,
    async op() {
      const { indexes, keys, ids } = nextRemote();
      const names = nameList(indexes, keys);
      const map = await engine.getMany('raw', names);
      const values = names.map((name) => JSON.parse(map.get(name).toString()));
      return wrongIn(values, indexes, ids) === 0;
    },
  },
  'get-x100': {
    serverPids: config.ownerPids,
    async op() {
      const { indexes, keys, ids } = nextRemote();
      const values = await Promise.all(nameList(indexes, keys).map((name) => engine.get('kv', name)));
      return wrongIn(values, indexes, ids) === 0;
    },
  },
  'getmany-local': {
    serverPids: [],
    async op() {
      const { indexes, keys, ids } = nextLocal();
      const names = nameList(indexes, keys);
      const map = await engine.getMany('kv', names);
      return wrongIn(fromMap(map, names), indexes, ids) === 0;
    },
  },
  'redis-mget': {
    serverPids: [redisPid],
    async op() {
      const { indexes, redisKeys, ids } = nextRemote();
      const texts = await redis.mget(nameList(indexes, redisKeys));
      return wrongIn(texts.map(JSON.parse), indexes, ids) === 0;
    },
  },
  'redis-mget-contract': {
    serverPids: [redisPid],
    async op() {
      const { indexes, redisKeys, ids } = nextRemote();
      const bytes = await redis.mgetBuffer(nameList(indexes, redisKeys).map(contractKey));
      return wrongIn(bytes.map(contractValue), indexes, ids) === 0;
    },
  },
};
const candidates = config.candidates.map((id) => ({ id, ...CANDIDATES[id] }));

// Every candidate must answer a whole pass of batches right before anything is timed.
for (const candidate of candidates) {
  for (let i = 0; i < config.keys / BATCH; i++) {
    if (!(await candidate.op())) throw new Error(`${candidate.id} returns a wrong product`);
  }
}
// The rows that hand out distcache's value contract do: frozen values, Dates as Dates.
{
  const sample = pools.remote.keys.slice(0, BATCH);
  const fromEngine = await engine.getMany('kv', sample);
  const fromRedis = await redis.mgetBuffer(pools.remote.redisKeys.slice(0, BATCH).map(contractKey));
  if (![...fromEngine.values()].every(keepsContract) || !fromRedis.map(contractValue).every(keepsContract)) {
    throw new Error('a value-contract row hands out a value that is not frozen with Dates as Dates');
  }
}

const before = counters(engine);
const samples = [];
for (let round = 0; round < config.rounds; round++) {
  for (const concurrency of config.concurrency) {
    for (const candidate of shuffled(candidates, random)) {
      const result = await runClosedLoop({
        op: candidate.op,
        concurrency,
        warmupMs: config.warmupMs,
        durationMs: config.durationMs,
        serverPids: candidate.serverPids,
      });
      samples.push({ round, concurrency, candidate: candidate.id, ...result });
      process.send({ type: 'progress' });
    }
  }
}
const after = counters(engine);

process.send({
  type: 'result',
  keys: config.keys,
  perOwner: [...perOwner.values()],
  valueBytes: {
    structured: serialize(pools.remote.products[0]).length,
    json: JSON.stringify(pools.remote.products[0]).length,
  },
  samples,
  clientCounters: Object.fromEntries(
    Object.keys(after).map((field) => [field, after[field] - before[field]]),
  ),
  clientSourceCalls: sourceCalls,
});

await redis.del(
  ...[...pools.remote.redisKeys, ...pools.local.redisKeys].flatMap((key) => [key, contractKey(key)]),
);
redis.disconnect();
await engine.stop();
process.removeAllListeners('disconnect');
process.disconnect();
