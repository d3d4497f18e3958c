// One distcache node in its own process, forked by a multi-process scenario (get-many, scaling)
// through `childGroup().start(NODE_PROCESS, config)`. It runs one engine per cluster it is told
// to join, each with two keyspaces holding the bench products (`product:<i>` -> makeProduct(i)):
//   kv   the default codec (V8 structured serialisation, values handed out deeply frozen);
//   raw  the product's JSON bytes (`rawCodec()`), for rows that decode like a Redis client does.
// Both data sources count their calls, so a scenario can prove that no timed read reached them.
//
// Config (argv[2], JSON): { name, engines: [{ id, cluster, port, peers: [port..], hotTtl? }] }
// IPC in:  { type: 'stats' } | { type: 'warm', engine, keys } (reads every key once)
//          | { type: 'load', engine, concurrency, warmupMs, durationMs, keys, seed }
//          | { type: 'stop' }
// IPC out: { type: 'ready' } once every engine sees all its peers;
//          { type: 'stats', sourceCalls, engines: [{ id, sourceCalls, peerEvents, ...counters }] };
//          { type: 'warmed' }; { type: 'loaded', result, counters }; { type: 'stopped' }
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DistCacheEngine, rawCodec, staticDiscovery } from 'distcache-core';
import { runClosedLoop, shuffledOrder } from './closed-loop.mjs';
import { seededRandom } from './measure.mjs';
import { makeProduct } from './product.mjs';

/** This file's path, for `childGroup().start(NODE_PROCESS, config)`. */
export const NODE_PROCESS = fileURLToPath(import.meta.url);

/** The product number of a bench key `product:<i>`. */
export const productNumber = (key) => Number(key.slice(key.indexOf(':') + 1));

/** The keyspaces every bench node defines; `onFetch` is called once per data-source call. */
export function benchKeySpaces(onFetch) {
  return [
    {
      name: 'kv',
      maxBytes: 256 << 20,
      dataSource: async (key) => {
        onFetch();
        return makeProduct(productNumber(key));
      },
    },
    {
      name: 'raw',
      maxBytes: 256 << 20,
      codec: rawCodec(),
      dataSource: async (key) => {
        onFetch();
        return Buffer.from(JSON.stringify(makeProduct(productNumber(key))));
      },
    },
  ];
}

/** An engine of a bench cluster on loopback: static discovery over `peers` (ports). */
export function benchEngine({ name, cluster, port, peers, hotTtl, onFetch }) {
  return new DistCacheEngine({
    nodeName: name,
    cluster,
    host: '127.0.0.1',
    port,
    discovery: staticDiscovery({ peers: peers.map((peer) => `127.0.0.1:${peer}`) }),
    clusterOptions: hotTtl === undefined ? undefined : { hotTtl },
    keySpaces: benchKeySpaces(onFetch),
  });
}

/** Waits until every engine sees `size` members (the peers' handshakes and pings are done). */
export async function waitForMembers(engines, size, timeoutMs = 15_000) {
  const deadline = performance.now() + timeoutMs;
  while (engines.some((engine) => engine.stats().members !== size)) {
    if (performance.now() > deadline) throw new Error(`the cluster did not reach ${size} members in time`);
    await sleep(20);
  }
}

/** Sum of the counters of both keyspaces of an engine (the ones a scenario reports). */
export function counters(engine) {
  const { kv, raw } = engine.stats().keySpaces;
  const fields = [
    'gets',
    'hits',
    'hotHits',
    'peerLoads',
    'loads',
    'dedupedLoads',
    'peerRequestsServed',
    'peerErrors',
    'fallbackLoads',
  ];
  return Object.fromEntries(fields.map((field) => [field, kv[field] + raw[field]]));
}

async function main() {
  const config = JSON.parse(process.argv[2]);
  const sourceCalls = new Map(config.engines.map((spec) => [spec.id, 0]));
  const engines = new Map(
    config.engines.map((spec) => [
      spec.id,
      benchEngine({
        name: `${config.name}-${spec.id}`,
        cluster: spec.cluster,
        port: spec.port,
        peers: spec.peers,
        hotTtl: spec.hotTtl,
        onFetch: () => sourceCalls.set(spec.id, sourceCalls.get(spec.id) + 1),
      }),
    ]),
  );
  await Promise.all([...engines.values()].map((engine) => engine.start()));
  for (const spec of config.engines) await waitForMembers([engines.get(spec.id)], spec.peers.length);
  // Membership changes after start (a peer dropped by the failure detector when this shared VM
  // starves a process, then joining again) move keys; the scenarios report them.
  const peerEvents = new Map(config.engines.map((spec) => [spec.id, 0]));
  for (const [id, engine] of engines) engine.on('peer', () => peerEvents.set(id, peerEvents.get(id) + 1));
  process.send({ type: 'ready' });

  /** Random gets of `product:0..keys-1` from this node, `concurrency` in flight. */
  async function load({ engine: id, concurrency, warmupMs, durationMs, keys, seed }) {
    const engine = engines.get(id);
    const names = Array.from({ length: keys }, (_, i) => `product:${i}`);
    const ids = Array.from({ length: keys }, (_, i) => makeProduct(i).id);
    const order = shuffledOrder(keys, 1 << 18, seededRandom(seed));
    const mask = order.length - 1;
    let cursor = 0;
    const op = async () => {
      const index = order[cursor++ & mask];
      const value = await engine.get('kv', names[index]);
      return value?.id === ids[index];
    };
    const before = counters(engine);
    const result = await runClosedLoop({ op, concurrency, warmupMs, durationMs });
    const after = counters(engine);
    return {
      result,
      counters: Object.fromEntries(Object.keys(after).map((field) => [field, after[field] - before[field]])),
    };
  }

  const stopAll = () => Promise.all([...engines.values()].map((engine) => engine.stop()));
  process.on('message', async (message) => {
    if (message.type === 'stats') {
      process.send({
        type: 'stats',
        sourceCalls: [...sourceCalls.values()].reduce((sum, calls) => sum + calls, 0),
        engines: [...engines].map(([id, engine]) => ({
          id,
          sourceCalls: sourceCalls.get(id),
          peerEvents: peerEvents.get(id),
          ...counters(engine),
        })),
      });
    } else if (message.type === 'warm') {
      // Every key once, 100 per getMany: owners load what they lack, others take hot copies.
      const engine = engines.get(message.engine);
      for (let i = 0; i < message.keys; i += 100) {
        const names = [];
        for (let j = i; j < Math.min(i + 100, message.keys); j++) names.push(`product:${j}`);
        await engine.getMany('kv', names);
      }
      process.send({ type: 'warmed' });
    } else if (message.type === 'load') {
      process.send({ type: 'loaded', ...(await load(message)) });
    } else if (message.type === 'stop') {
      await stopAll();
      process.send({ type: 'stopped' }, () => process.disconnect());
    }
  });
  // Without the parent there is nothing to serve: leave (this also ends an orphan after a crash).
  process.on('disconnect', () => {
    void stopAll().finally(() => process.exit(0));
  });
}

// Imported by a scenario for its helpers, or forked as a node: only the fork runs a node.
if (process.argv[1] === NODE_PROCESS && process.send !== undefined) await main();
