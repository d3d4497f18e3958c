// Two builds of distcache-core's sources in one process, measured in alternating rounds (see
// ab-source.sh, which bundles this file with the sources of the working tree as NEW and of a commit
// as OLD). On this shared VM the speed of a process swings by up to 2x from one run to the next, so
// an A/B of two runs can hide a 10% change; two builds in one process share whatever speed it has.
// Each sample is the CPU time of the process (GC included) per operation; the table gives the
// median and quartile of the samples after two warm-up rounds.
import { setTimeout as sleep } from 'node:timers/promises';
import * as NEW from '../../packages/distcache-core/src/index';
import { freePorts, waitUntil } from '../../packages/distcache-core/src/testing/loopback';
import * as OLD from '../../node_modules/.ab-old/packages/distcache-core/src/index';
import { makeProduct } from '../lib/product.mjs';

const builds = [
  ['old', OLD],
  ['new', NEW],
];
const ROUNDS = Number(process.env.AB_ROUNDS ?? 14);
const PRODUCTS = 20_000;
const products = Array.from({ length: PRODUCTS }, (_, i) => makeProduct(i));

// A scenario: `setup(core)` starts what it needs with one build and returns `run(count)`, which
// performs `count` operations, and `stop()`.

/** First reads of keys never read (a standalone engine, a source answering after 2 ms). */
const miss = {
  name: 'miss (standalone, 48 in flight)',
  count: 3000,
  async setup(core) {
    const engine = new core.DistCacheEngine({
      keySpaces: [
        core.defineKeySpace({
          name: 'products',
          maxBytes: 2 ** 31,
          ttl: '1h',
          dataSource: async (key) => {
            await sleep(2);
            return structuredClone(products[Number(key.slice(8)) % PRODUCTS]);
          },
        }),
      ],
    });
    await engine.start();
    let serial = 0;
    return {
      async run(count) {
        const first = serial;
        serial += count;
        let next = first;
        await Promise.all(
          Array.from({ length: 48 }, async () => {
            while (next < first + count) {
              const i = next++;
              const value = await engine.get('products', `product:${i}`);
              if (value?.id !== products[i % PRODUCTS].id) throw new Error('wrong product');
            }
          }),
        );
      },
      stop: () => engine.stop(),
    };
  },
};

/**
 * A two-node cluster of one build in this process over loopback TCP: `reader` and `holder`, and
 * 5,000 keys, owned by the holder (`readerOwns` false) or by the reader, put through the holder.
 */
async function twoNodes(core, clusterOptions, readerOwns) {
  const ports = await freePorts(2);
  const make = (port) =>
    new core.DistCacheEngine({
      nodeName: `n${port}`,
      cluster: `ab-${ports[0]}`,
      host: '127.0.0.1',
      port,
      discovery: core.staticDiscovery({ peers: ports.map((p) => `127.0.0.1:${p}`) }),
      clusterOptions,
      keySpaces: [core.defineKeySpace({ name: 'products', maxBytes: 2 ** 30, ttl: '1h' })],
    });
  const [reader, holder] = ports.map(make);
  await Promise.all([reader.start(), holder.start()]);
  await waitUntil(
    () => reader.stats().members === 2 && holder.stats().members === 2,
    15_000,
    'the two nodes to see each other',
  );
  const keys = [];
  for (let i = 0; keys.length < 5000; i++) {
    const key = `product:${i}`;
    if ((reader.ownerOf('products', key) === `127.0.0.1:${ports[0]}`) === readerOwns) keys.push(key);
  }
  await holder.putMany(
    'products',
    keys.map((key) => ({ key, value: products[Number(key.slice(8))] })),
  );
  return { reader, keys, stop: () => Promise.all([reader.stop(), holder.stop()]) };
}

/** The asker's gets of keys the other node holds (no hot copies). */
function remote(name, inFlight, batch) {
  return {
    name,
    count: batch === 1 ? 20_000 : 300,
    async setup(core) {
      const { reader: asker, keys, stop } = await twoNodes(core, { hotTtl: 0 }, false);
      let at = 0;
      return {
        async run(count) {
          let left = count;
          await Promise.all(
            Array.from({ length: inFlight }, async () => {
              while (left-- > 0) {
                if (batch === 1) {
                  const key = keys[at++ % keys.length];
                  const value = await asker.get('products', key);
                  if (value?.id !== products[Number(key.slice(8))].id) throw new Error('wrong product');
                } else {
                  const wanted = Array.from({ length: batch }, () => keys[at++ % keys.length]);
                  const values = await asker.getMany('products', wanted);
                  if (values.size !== batch) throw new Error('missing keys');
                }
              }
            }),
          );
        },
        stop,
      };
    },
  };
}

/** Hits of keys a cluster node owns, one `await` each (local-hit's loop, on a node of a two-node cluster). */
const clusterHit = {
  name: 'local hit on a cluster node',
  count: 200_000,
  async setup(core) {
    const { reader: node, keys, stop } = await twoNodes(core, undefined, true);
    let at = 0;
    return {
      async run(count) {
        for (let i = 0; i < count; i++) {
          const value = await node.get('products', keys[at++ % keys.length]);
          if (value === undefined) throw new Error('missing product');
        }
      },
      stop,
    };
  },
};

const chosen = (process.env.AB_SCENARIOS ?? 'miss,get-16,getmany-16').split(',');
const scenarios = {
  miss,
  'cluster-hit': clusterHit,
  'get-1': remote('remote get, 1 in flight', 1, 1),
  'get-16': remote('remote get, 16 in flight', 16, 1),
  'get-128': remote('remote get, 128 in flight', 128, 1),
  'getmany-16': remote('getMany of 100 remote keys, 16 in flight', 16, 100),
};

console.log(`| scenario | unit | old: CPU µs per op, median (p25-p75) | new | new / old |`);
console.log(`| :-- | :-- | --: | --: | --: |`);
for (const key of chosen) {
  const scenario = scenarios[key];
  if (scenario === undefined) throw new Error(`unknown scenario ${key}`);
  const running = await Promise.all(builds.map(async ([label, core]) => [label, await scenario.setup(core)]));
  const samples = new Map(builds.map(([label]) => [label, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? running : [...running].reverse();
    for (const [label, build] of order) {
      const started = process.cpuUsage();
      await build.run(scenario.count);
      const { user, system } = process.cpuUsage(started);
      if (round >= 2) samples.get(label).push((user + system) / scenario.count);
    }
  }
  for (const [, build] of running) await build.stop();
  const stat = (label) => {
    const sorted = [...samples.get(label)].sort((a, b) => a - b);
    const q = (f) => sorted[Math.floor(f * (sorted.length - 1))];
    // Sub-microsecond operations (a local hit) need more than one decimal.
    const digits = q(0.5) < 1 ? 3 : 1;
    const text = `${q(0.5).toFixed(digits)} (${q(0.25).toFixed(digits)}-${q(0.75).toFixed(digits)})`;
    return { median: q(0.5), text };
  };
  const [a, b] = [stat('old'), stat('new')];
  const unit = key.startsWith('getmany') ? 'batch' : key === 'miss' ? 'miss' : 'get';
  console.log(
    `| ${scenario.name} | ${unit} | ${a.text} | ${b.text} | ${(b.median / a.median).toFixed(2)}x |`,
  );
}
