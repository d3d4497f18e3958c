// The client process of the remote-hit scenario (forked by remote-hit.bench.mjs). It joins the
// owner's clusters (plain TCP and mutual TLS) with hot copies off, so every `engine.get` of a key
// the owner holds is one request to the owner; and it reads the same keys from Redis through
// ioredis. Every candidate runs in this process, in interleaved rounds, at each concurrency level.
// Results go to the parent over IPC; the parent prints them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DistCacheEngine, rawCodec, staticDiscovery } from 'distcache-core';
import Redis from 'ioredis';
import { seededRandom } from '../lib/measure.mjs';
import { makeProduct } from '../lib/product.mjs';
import { contractBytes, contractKey, contractValue, keepsContract } from '../lib/value-contract.mjs';

const config = JSON.parse(process.argv[2]);
// Without the parent nobody reads the results: leave (the parent's cleanup deletes the Redis keys).
process.on('disconnect', () => process.exit(0));
const random = seededRandom(config.seed);
let clientSourceCalls = 0;

// --- the two distcache clusters -------------------------------------------------------------

const tlsMaterial = {
  ca: readFileSync(config.tls.ca, 'utf8'),
  cert: readFileSync(config.tls.cert, 'utf8'),
  key: readFileSync(config.tls.key, 'utf8'),
};
const engines = new Map();
for (const cluster of config.clusters) {
  const engine = new DistCacheEngine({
    nodeName: `client-${cluster.kind}`,
    cluster: `remote-hit-${cluster.kind}`,
    host: '127.0.0.1',
    port: cluster.clientPort,
    discovery: staticDiscovery({
      peers: [`127.0.0.1:${cluster.ownerPort}`, `127.0.0.1:${cluster.clientPort}`],
    }),
    tls: cluster.kind === 'tls' ? tlsMaterial : undefined,
    clusterOptions: { hotTtl: 0, maxBatchKeys: config.batchKeys },
    keySpaces: [
      {
        name: 'kv',
        maxBytes: 256 << 20,
        dataSource: async (key) => {
          clientSourceCalls++;
          return makeProduct(Number(key.slice(key.indexOf(':') + 1)));
        },
      },
      // The same products as JSON bytes, for the candidate that decodes exactly like the Redis one.
      { name: 'raw', maxBytes: 256 << 20, codec: rawCodec() },
    ],
  });
  engines.set(cluster.kind, { engine, ownerId: `127.0.0.1:${cluster.ownerPort}` });
}
await Promise.all([...engines.values()].map(({ engine }) => engine.start()));
const joinDeadline = performance.now() + 15_000;
while ([...engines.values()].some(({ engine }) => engine.stats().members !== 2)) {
  if (performance.now() > joinDeadline) throw new Error('the client did not see the owner within 15 s');
  await sleep(20);
}

// --- the keys: owned by the owner in both clusters and both keyspaces (about 1 candidate in 16) ---

const keys = [];
const ids = [];
for (let i = 0; keys.length < config.keys; i++) {
  if (i > 10_000_000) throw new Error('cannot find enough keys owned by the owner');
  const key = `product:${i}`;
  const owned = ({ engine, ownerId }) =>
    engine.ownerOf('kv', key) === ownerId && engine.ownerOf('raw', key) === ownerId;
  if ([...engines.values()].every(owned)) {
    keys.push(key);
    ids.push(makeProduct(i).id);
  }
}
const products = keys.map((key) => makeProduct(Number(key.slice(key.indexOf(':') + 1))));

// Written by put, 64 at a time: the put goes to the owner, which keeps the value.
for (const { engine } of engines.values()) {
  for (let i = 0; i < keys.length; i += 64) {
    await Promise.all(keys.slice(i, i + 64).map((key, j) => engine.put('kv', key, products[i + j])));
  }
  for (let i = 0; i < keys.length; i += 64) {
    await Promise.all(
      keys
        .slice(i, i + 64)
        .map((key, j) => engine.put('raw', key, Buffer.from(JSON.stringify(products[i + j])))),
    );
  }
}

// Redis: the same values as JSON (what a Node service would store), under this run's prefix.
const redisOptions = { host: config.redis.host, port: config.redis.port, lazyConnect: true };
const redis = new Redis({ ...redisOptions, enableAutoPipelining: false });
const redisPipelined = new Redis({ ...redisOptions, enableAutoPipelining: true });
await redis.connect();
await redisPipelined.connect();
const redisKeys = keys.map((key) => config.redis.prefix + key);
for (let i = 0; i < keys.length; i += 500) {
  const pipeline = redis.pipeline();
  for (let j = i; j < Math.min(i + 500, keys.length); j++) {
    pipeline.set(redisKeys[j], JSON.stringify(products[j]), 'EX', 3600);
    // The same product in distcache's default encoding, for the row with distcache's decode.
    pipeline.set(contractKey(redisKeys[j]), contractBytes(products[j]), 'EX', 3600);
  }
  await pipeline.exec();
}
const redisKeyOf = new Map(keys.map((key, i) => [key, redisKeys[i]]));
const contractKeyOf = new Map(keys.map((key, i) => [key, contractKey(redisKeys[i])]));

// --- CPU accounting ------------------------------------------------------------------------------
// Wall-clock rates on a shared 2-core VM swing with the neighbours; CPU time per get does not, and
// it says which side is the limit. The server side is the owner process or redis-server (when it
// runs on this machine), read from /proc (Linux; 'n/a' elsewhere).

const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep the Linux default
}
/** CPU microseconds a process has used so far, or undefined when /proc cannot tell. */
function cpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1e6;
  } catch {
    return undefined;
  }
}

/** Write system calls a process has made so far (Linux /proc/<pid>/io); NaN when unreadable. */
function writeCalls(pid) {
  if (pid === undefined) return Number.NaN;
  try {
    return Number(/^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

// --- candidates ---------------------------------------------------------------------------------
// Each returns the decoded product. Redis values are parsed (JSON.parse), as a service must before
// it can use them; distcache decodes its default (V8 structured) encoding and freezes the value.

const CANDIDATES = {
  tcp: {
    contract: true,
    name: 'distcache engine.get, plain TCP',
    get: (key) => engines.get('tcp').engine.get('kv', key),
    serverPid: config.ownerPid,
  },
  'tcp-raw': {
    name: 'distcache engine.get, plain TCP, rawCodec + JSON.parse',
    get: (key) =>
      engines
        .get('tcp')
        .engine.get('raw', key)
        .then((bytes) => JSON.parse(bytes.toString())),
    serverPid: config.ownerPid,
  },
  tls: {
    contract: true,
    name: 'distcache engine.get, mutual TLS',
    get: (key) => engines.get('tls').engine.get('kv', key),
    serverPid: config.ownerPid,
  },
  redis: {
    name: 'ioredis GET + JSON.parse',
    get: (key) => redis.get(redisKeyOf.get(key)).then(JSON.parse),
    serverPid: redisPid,
  },
  'redis-contract': {
    contract: true,
    name: 'ioredis GET + distcache decode + deep freeze',
    get: (key) => redis.getBuffer(contractKeyOf.get(key)).then(contractValue),
    serverPid: redisPid,
  },
  'redis-ap': {
    name: 'ioredis GET + JSON.parse, auto-pipelining',
    get: (key) => redisPipelined.get(redisKeyOf.get(key)).then(JSON.parse),
    serverPid: redisPid,
  },
};
const candidates = config.candidates.map((id) => ({ id, ...CANDIDATES[id] }));

// Every candidate must answer every key with the right product before anything is timed.
for (const candidate of candidates) {
  for (let i = 0; i < keys.length; i += 128) {
    const answers = await Promise.all(keys.slice(i, i + 128).map((key) => candidate.get(key)));
    answers.forEach((answer, j) => {
      if (answer?.id !== ids[i + j]) throw new Error(`${candidate.name} does not return ${keys[i + j]}`);
      if (candidate.contract && !keepsContract(answer)) {
        throw new Error(`${candidate.name} hands out a value that is not frozen with Dates as Dates`);
      }
    });
  }
}

// --- the load -------------------------------------------------------------------------------------
// The access order: back-to-back shuffles of all keys, taken from one shared cursor by every worker.
// Requests in flight at the same moment are consecutive entries, hence distinct keys, so the
// client's own single-flight never merges two of them (which Redis could not do).

const ORDER_LENGTH = 1 << 18;
const ORDER_MASK = ORDER_LENGTH - 1;
const order = new Uint32Array(ORDER_LENGTH);
{
  const deck = Array.from(keys, (_, i) => i);
  for (let filled = 0; filled < ORDER_LENGTH;) {
    for (let i = deck.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [deck[i], deck[j]] = [deck[j], deck[i]];
    }
    for (let i = 0; i < deck.length && filled < ORDER_LENGTH; i++) order[filled++] = deck[i];
  }
}
let cursor = 0;
const latencies = new Float64Array(1 << 22);

/**
 * Runs `concurrency` workers, each awaiting one get at a time, for warm-up plus duration; counts
 * the gets that complete during the timed window and their latencies.
 */
async function measure({ get, serverPid }, concurrency) {
  const state = { stop: false, recording: false, completed: 0, recorded: 0, wrong: 0 };
  const worker = async () => {
    while (!state.stop) {
      const index = order[cursor++ & ORDER_MASK];
      const started = performance.now();
      const value = await get(keys[index]);
      const took = performance.now() - started;
      if (value?.id !== ids[index]) state.wrong++;
      if (state.recording) {
        state.completed++;
        if (state.recorded < latencies.length) latencies[state.recorded++] = took;
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await sleep(config.warmupMs);
  state.recording = true;
  const start = performance.now();
  const clientCpu = process.cpuUsage();
  const serverCpu = cpuMicros(serverPid);
  const clientWrites = writeCalls('self');
  const serverWrites = writeCalls(serverPid);
  await sleep(config.durationMs);
  state.recording = false;
  const elapsed = performance.now() - start;
  const { user, system } = process.cpuUsage(clientCpu);
  const clientWritten = writeCalls('self') - clientWrites;
  const serverWritten = writeCalls(serverPid) - serverWrites;
  const serverUsed = serverCpu === undefined ? undefined : cpuMicros(serverPid) - serverCpu;
  state.stop = true;
  await Promise.all(workers);
  const sample = latencies.subarray(0, state.recorded).sort();
  const at = (q) => sample[Math.min(sample.length - 1, Math.floor(q * sample.length))] * 1e3;
  return {
    opsPerSecond: (state.completed / elapsed) * 1e3,
    p50Us: at(0.5),
    p99Us: at(0.99),
    clientCpuUs: (user + system) / state.completed,
    serverCpuUs:
      serverUsed === undefined || Number.isNaN(serverUsed) ? undefined : serverUsed / state.completed,
    // Write system calls per get (NaN where /proc/<pid>/io cannot be read): on loopback each one
    // runs the receiver's side and wakes it (docs/benchmarks.md, "Issue 18, ninth session").
    clientWritesPerGet: clientWritten / state.completed,
    serverWritesPerGet: serverWritten / state.completed,
    completed: state.completed,
    wrong: state.wrong,
  };
}

function shuffled(items) {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

const samples = [];
for (let round = 0; round < config.rounds; round++) {
  for (const concurrency of config.concurrency) {
    for (const candidate of shuffled(candidates)) {
      const result = await measure(candidate, concurrency);
      samples.push({ round, concurrency, candidate: candidate.id, ...result });
      process.send({ type: 'progress', round, concurrency, candidate: candidate.id });
    }
  }
}

const clientStats = [...engines].map(([kind, { engine }]) => {
  const { kv, raw } = engine.stats().keySpaces;
  const sum = (field) => kv[field] + raw[field];
  return {
    kind,
    kv: { peerLoads: sum('peerLoads'), hotHits: sum('hotHits'), dedupedLoads: sum('dedupedLoads') },
  };
});
process.send({
  type: 'result',
  keys: keys.length,
  valueBytes: {
    structured: (await import('node:v8')).serialize(products[0]).length,
    json: JSON.stringify(products[0]).length,
  },
  candidates: candidates.map(({ id, name }) => ({ id, name })),
  samples,
  clientStats,
  clientSourceCalls,
});

await redis.del(...redisKeys, ...contractKeyOf.values());
redis.disconnect();
redisPipelined.disconnect();
await Promise.all([...engines.values()].map(({ engine }) => engine.stop()));
process.removeAllListeners('disconnect');
process.disconnect();
