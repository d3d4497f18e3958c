// Stampede: 3,000 concurrent gets of one cold key, 1,000 on each of three nodes, against a data
// source that takes 20 ms (a realistic database query) and counts its calls. distcache loads a key
// on its owner only, once for the whole cluster (each other node sends one request to the owner and
// shares it among its own callers), so the goal is exactly one data-source call.
//
// Candidates, each in every trial with a fresh cold key, in a random order per trial:
// - distcache, three processes (node.mjs, forked): the realistic deployment;
// - distcache, three engines in this process (same code path, no process boundary);
// - bentocache 1.x, three instances in this process, each with its own memory L1 and its own
//   ioredis connection to the shared Redis L2 (`getOrSet`, its stampede-protected read-through);
// - cache-manager 7, three instances in this process (`wrap`, which coalesces concurrent calls per
//   instance), on a shared Keyv Redis store when @keyv/redis is installed, else (as here) each on
//   its own Keyv memory store; the output says which.
// Reference for the ratios: bentocache, measured in the same run.
//
// Run:     npm run build -w distcache-core && node bench/stampede/stampede.bench.mjs   # ~10 s
// Options: --trials=5 --per-node=1000 --source-ms=20 --seed=42 --redis=127.0.0.1:6379
//          --check  exit with status 1 when a goal is missed (the default always exits 0)
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache } from 'cache-manager';
import { DistCacheEngine, staticDiscovery } from 'distcache-core';
import { Keyv } from 'keyv';
import { freePorts } from 'distcache-core/testing';
import { median, seededRandom } from '../lib/measure.mjs';
import { deleteKeysByPrefix } from '../lib/redis.mjs';
import { makeProduct } from '../lib/product.mjs';
import { numberFlag, parseFlags } from '../lib/cli.mjs';
import { formatRatio, machineLine } from '../lib/report.mjs';
import { createResults, SCENARIO_FLAGS } from '../lib/results.mjs';

const flags = parseFlags({ also: SCENARIO_FLAGS });
const TRIALS = numberFlag(flags, 'trials', 5);
const PER_NODE = numberFlag(flags, 'per-node', 1000);
const SOURCE_MS = numberFlag(flags, 'source-ms', 20);
const SEED = numberFlag(flags, 'seed', 42);
const CHECK = flags.check === true;
const [redisHost, redisPort] = (typeof flags.redis === 'string' ? flags.redis : '127.0.0.1:6379').split(':');
const REDIS = { host: redisHost, port: Number(redisPort) };
const PREFIX = `distcache-bench:stampede:${process.pid}`;
const NODES = 3;
const here = dirname(fileURLToPath(import.meta.url));
const random = seededRandom(SEED);

const children = new Set();
const closers = [];
let missed = 0;

async function cleanup() {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  await deleteKeysByPrefix(REDIS, PREFIX);
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

/** Waits for the next message of `type` from `child`; rejects if the child exits first. */
function next(child, type) {
  return new Promise((resolveMessage, reject) => {
    const onMessage = (message) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolveMessage(message);
    };
    const onExit = (code, signal) => reject(new Error(`a node exited (${signal ?? code}) before "${type}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** A data source per node: 20 ms, counting its calls per key. */
function countingSource() {
  const calls = new Map();
  const fetch = async (key, signal) => {
    calls.set(key, (calls.get(key) ?? 0) + 1);
    await sleep(SOURCE_MS, undefined, signal === undefined ? undefined : { signal });
    return makeProduct(Number(key.slice(key.indexOf(':') + 1)));
  };
  return { calls, fetch };
}

/**
 * Fires PER_NODE gets on each in-process node at once; resolves to the trial's outcome.
 * @param {Array<(key: string) => Promise<unknown>>} gets one function per node
 */
async function stampedeInProcess(gets, sources, key, id) {
  const started = performance.now();
  const values = await Promise.all(gets.flatMap((get) => Array.from({ length: PER_NODE }, () => get(key))));
  const ms = performance.now() - started;
  return {
    ms,
    perNode: sources.map((source) => source.calls.get(key) ?? 0),
    wrong: values.filter((value) => value?.id !== id).length,
  };
}

try {
  console.log(`stampede: ${machineLine()}`);
  const report = createResults('stampede');

  // --- distcache, three processes ---------------------------------------------------------------
  const processPorts = await freePorts(NODES);
  const nodes = processPorts.map((_, index) => {
    const config = { index, ports: processPorts, sourceDelayMs: SOURCE_MS };
    const child = fork(join(here, 'node.mjs'), [JSON.stringify(config)], { stdio: 'inherit' });
    children.add(child);
    return child;
  });
  await Promise.all(nodes.map((child) => next(child, 'ready')));
  closers.push(async () => {
    await Promise.all(
      nodes.map((child) => {
        const stopped = next(child, 'stopped').catch(() => undefined);
        child.send({ type: 'stop' });
        return stopped;
      }),
    );
  });

  // --- distcache, three engines in this process --------------------------------------------------
  const enginePorts = await freePorts(NODES);
  const engineSources = enginePorts.map(() => countingSource());
  const engines = enginePorts.map(
    (port, index) =>
      new DistCacheEngine({
        nodeName: `stampede-inproc-${index}`,
        cluster: 'stampede-inproc',
        host: '127.0.0.1',
        port,
        discovery: staticDiscovery({ peers: enginePorts.map((p) => `127.0.0.1:${p}`) }),
        keySpaces: [
          {
            name: 'products',
            maxBytes: 64 << 20,
            dataSource: (key, { signal }) => engineSources[index].fetch(key, signal),
          },
        ],
      }),
  );
  await Promise.all(engines.map((engine) => engine.start()));
  closers.push(() => Promise.all(engines.map((engine) => engine.stop())));
  while (engines.some((engine) => engine.stats().members !== NODES)) await sleep(20);

  // --- bentocache: memory L1 per instance, shared Redis L2 --------------------------------------
  const bentoSources = Array.from({ length: NODES }, () => countingSource());
  const bentos = bentoSources.map(
    () =>
      new BentoCache({
        default: 'products',
        prefix: PREFIX,
        stores: {
          products: bentostore()
            .useL1Layer(memoryDriver({ maxSize: '64mb' }))
            .useL2Layer(redisDriver({ connection: { ...REDIS } })),
        },
      }),
  );
  closers.push(() => Promise.all(bentos.map((bento) => bento.disconnect())));

  // --- cache-manager: Keyv Redis store when installed, else a memory store per instance ----------
  let managerStore = 'Keyv memory store per instance (@keyv/redis is not installed)';
  let makeStore = () => new Keyv();
  try {
    const { default: KeyvRedis } = await import('@keyv/redis');
    makeStore = () =>
      new Keyv({ store: new KeyvRedis(`redis://${REDIS.host}:${REDIS.port}`), namespace: `${PREFIX}:cm` });
    managerStore = 'shared Keyv Redis store (@keyv/redis)';
  } catch {
    // not installed: memory stores, as announced in the output
  }
  const managerSources = Array.from({ length: NODES }, () => countingSource());
  const managers = managerSources.map(() => createCache({ stores: [makeStore()] }));
  closers.push(() => Promise.all(managers.map((manager) => manager.disconnect())));

  // --- the trials ---------------------------------------------------------------------------------
  let keyNumber = 100_000;
  const candidates = [
    {
      id: 'distcache-processes',
      name: 'distcache, 3 processes',
      async run(key, id) {
        const replies = Promise.all(nodes.map((child) => next(child, 'fired')));
        for (const child of nodes) child.send({ type: 'fire', key, count: PER_NODE, id });
        const fired = (await replies).sort((a, b) => a.node - b.node);
        return {
          ms: Math.max(...fired.map((f) => f.ended)) - Math.min(...fired.map((f) => f.started)),
          perNode: fired.map((f) => f.sourceCalls),
          wrong: fired.reduce((sum, f) => sum + f.wrong, 0),
          ownerOnly: fired.every((f) => f.owner || f.sourceCalls === 0),
          peerRequests: fired.reduce((sum, f) => sum + f.peerLoads, 0),
        };
      },
    },
    {
      id: 'distcache-engines',
      name: 'distcache, 3 engines in one process',
      async run(key, id) {
        const gets = engines.map((engine) => (k) => engine.get('products', k));
        const outcome = await stampedeInProcess(gets, engineSources, key, id);
        const owner = engines.findIndex(
          (engine, i) => engine.ownerOf('products', key) === `127.0.0.1:${enginePorts[i]}`,
        );
        return { ...outcome, ownerOnly: outcome.perNode.every((calls, i) => i === owner || calls === 0) };
      },
    },
    {
      id: 'bentocache',
      name: 'bentocache getOrSet, memory L1 + Redis L2, 3 instances',
      run: (key, id) =>
        stampedeInProcess(
          bentos.map(
            (bento, i) => (k) =>
              bento.getOrSet({
                key: k,
                ttl: '1h',
                factory: ({ signal } = {}) => bentoSources[i].fetch(k, signal),
              }),
          ),
          bentoSources,
          key,
          id,
        ),
    },
    {
      id: 'cache-manager',
      name: `cache-manager wrap, ${managerStore.startsWith('shared') ? 'Keyv Redis' : 'Keyv memory'}, 3 instances`,
      run: (key, id) =>
        stampedeInProcess(
          managers.map((manager, i) => (k) => manager.wrap(k, () => managerSources[i].fetch(k), 3_600_000)),
          managerSources,
          key,
          id,
        ),
    },
  ];

  const results = new Map(candidates.map((candidate) => [candidate.id, []]));
  // Trial 0 warms up (JIT, Redis connections) and is not reported.
  for (let trial = 0; trial <= TRIALS; trial++) {
    const order = [...candidates];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const candidate of order) {
      const n = keyNumber++;
      const key = `product:${n}`;
      const outcome = await candidate.run(key, makeProduct(n).id);
      if (outcome.wrong > 0)
        throw new Error(`${candidate.name}: ${outcome.wrong} gets returned a wrong value`);
      if (trial > 0)
        results.get(candidate.id).push({ ...outcome, calls: outcome.perNode.reduce((a, b) => a + b, 0) });
      await sleep(50);
    }
  }

  console.log(
    `${NODES} nodes x ${PER_NODE.toLocaleString('en')} concurrent gets of one cold key ` +
      `(${(NODES * PER_NODE).toLocaleString('en')} in all), data source ${SOURCE_MS} ms; ${TRIALS} trials after ` +
      'one warm-up, a fresh key per trial and candidate, candidates in random order per trial; ' +
      `cache-manager: ${managerStore}\n`,
  );
  const reference = results.get('bentocache');
  const rows = candidates.map((candidate) => {
    const trials = results.get(candidate.id);
    const ms = trials.map((t) => t.ms);
    const timeRatio = median(trials.map((t, i) => t.ms / reference[i].ms));
    return {
      candidate: candidate.name,
      'source calls per trial': trials.map((t) => t.calls).join(', '),
      'per node, each trial': trials.map((t) => t.perNode.join('/')).join('  '),
      'ms to all resolved (median)': median(ms).toFixed(1),
      'min-max ms': `${Math.min(...ms).toFixed(1)}-${Math.max(...ms).toFixed(1)}`,
      'calls vs bentocache': formatRatio(median(trials.map((t, i) => t.calls / reference[i].calls))),
      'time vs bentocache': formatRatio(timeRatio),
    };
  });
  report.table('Stampede: 3 nodes x 1,000 concurrent gets of one cold key', rows);

  const processTrials = results.get('distcache-processes');
  console.log(
    `\ndistcache, 3 processes: requests from the two other nodes to the owner per trial: ` +
      `${processTrials.map((t) => t.peerRequests).join(', ')} (one per node: each node shares one ` +
      `request among its own ${PER_NODE.toLocaleString('en')} callers); source called on the owner only: ` +
      `${processTrials.every((t) => t.ownerOnly) ? 'yes' : 'no'}.`,
  );

  const goals = ['distcache-processes', 'distcache-engines'].map((id) => {
    const trials = results.get(id);
    return {
      goal: `${candidates.find((c) => c.id === id).name}: exactly 1 data-source call per stampede`,
      measured: `${trials.filter((t) => t.calls === 1 && t.ownerOnly).length}/${trials.length} trials`,
      result: trials.every((t) => t.calls === 1 && t.ownerOnly) ? 'PASS' : 'MISS',
    };
  });
  console.log('');
  report.table('Goals', goals);
  missed = goals.filter((goal) => goal.result === 'MISS').length;
  console.log(`\n${missed === 0 ? 'all goals met' : `${missed} goal(s) missed`}${CHECK ? ' (--check)' : ''}`);
  report.note(`cache-manager: ${managerStore}.`);
  const perCandidate = (field) => [
    {
      label: '',
      bars: candidates.map((candidate) => ({
        label: candidate.name,
        value: median(results.get(candidate.id).map((trial) => trial[field])),
      })),
    },
  ];
  report.chart({
    id: 'source-calls',
    title: `Data-source calls for ${(NODES * PER_NODE).toLocaleString('en')} concurrent gets of one cold key on ${NODES} nodes`,
    unit: 'calls',
    higherIsBetter: false,
    groups: perCandidate('calls'),
  });
  report.chart({
    id: 'time',
    title: `Time until all ${(NODES * PER_NODE).toLocaleString('en')} gets resolved (data source takes ${SOURCE_MS} ms)`,
    unit: 'ms',
    higherIsBetter: false,
    groups: perCandidate('ms'),
  });
  await report.write();
} finally {
  await cleanup();
}
if (CHECK && missed > 0) process.exitCode = 1;
