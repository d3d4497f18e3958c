// Regression tests for the defects the fault-injection suite (faults.spec.ts) found, each reduced to
// a deterministic sequence. docs/reliability.md, "Fault injection", lists them.
import { afterEach, describe, expect, it } from 'vitest';
import { DistCacheEngine, type DiscoveredPeer, type DiscoveryProvider, staticDiscovery } from '../../src';
import type { ClusterCoordinator, PeerRef } from '../../src/cluster/coordinator';
import { WarmUp } from '../../src/cluster/warm-up';
import { KeySpace } from '../../src/keyspace/keyspace';
import { resolveKeySpaceConfig } from '../../src/keyspace/keyspace.options';
import { RecordingSource } from '../../src/testing';
import type { PeerResponse } from '../../src/transport/transport';
import { systemClock } from '../../src/util/clock';
import { silentLogger } from '../../src/util/logger';
import {
  FAST_CLUSTER,
  freePorts,
  ownerOf,
  startCluster,
  stopAll,
  type TestNode,
  waitUntil,
} from '../support/cluster';
import {
  FaultCluster,
  type FaultNode,
  sleep,
  VersionedDatabase,
  type Versioned,
} from '../support/fault-cluster';

const KEYS = Array.from({ length: 60 }, (_, index) => `k${index}`);

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('regressions found by fault injection', () => {
  it('a popular-key hand-off overtaken by a write keeps the new value and makes the new owner drop the old one', async () => {
    const clock = systemClock;
    const space = new KeySpace(resolveKeySpaceConfig({ name: 'products' }, {}, 'keySpace'), {
      clock,
      lifetime: new AbortController().signal,
      hotShare: 0.25,
      readNow: () => clock.now(),
    });
    space.noteRead('k', false);
    const handedOff = space.store('k', space.encode('k', { version: 1 }), Infinity);
    const newOwner: PeerRef = { id: '127.0.0.1:9', host: '127.0.0.1', port: 9 };
    let answer: ((response: PeerResponse) => void) | undefined;
    const sent: unknown[] = [];
    const coordinator = {
      ownerOf: () => newOwner,
      send: (_peer: PeerRef, request: unknown) => {
        sent.push(request);
        return new Promise<PeerResponse>((resolve) => (answer = resolve));
      },
    } as unknown as ClusterCoordinator;
    const warmUp = new WarmUp({
      spaces: new Map([['products', space]]),
      maxKeyBytes: 1024,
      coordinator,
      clock,
      logger: silentLogger,
    });

    const rebalance = warmUp.rebalance();
    await waitUntil(() => answer !== undefined, 2_000, 'the hand-off');
    expect(sent).toEqual([expect.objectContaining({ op: 'set', key: 'k', ifAbsent: true })]);
    // A writer whose ring still says this node owns the key stores a newer value here.
    const newer = space.store('k', space.encode('k', { version: 2 }), Infinity);
    answer!({ op: 'ok' });
    // The newer value stays, and the new owner is told to drop the older copy it just got.
    await waitUntil(() => sent.length === 2, 2_000, 'the invalidation');
    expect(sent[1]).toEqual({ op: 'invalidate', keySpace: 'products', keys: ['k'] });
    answer!({ op: 'ok' });
    await rebalance;
    expect(space.storage.peek('k')).toBe(newer);

    // Without a write meanwhile, the handed-off copy goes, and nothing else is sent.
    answer = undefined;
    const second = warmUp.rebalance();
    await waitUntil(() => answer !== undefined, 2_000, 'the second hand-off');
    answer!({ op: 'ok' });
    await second;
    expect(space.storage.peek('k')).toBeUndefined();
    expect(sent).toHaveLength(3);
    expect(handedOff).not.toBe(newer);
  });

  it('a node that is stopping still takes the writes routed to it before its leave notice', async () => {
    const nodes: Array<TestNode<{ v: number }>> = await startCluster(3, [['k', { v: 0 }]]);
    cleanups.push(() => stopAll(nodes));
    const [a, b, c] = nodes as [TestNode<{ v: number }>, TestNode<{ v: number }>, TestNode<{ v: number }>];
    const key = KEYS.find((candidate) => ownerOf(nodes, candidate) === c)!;
    const stopping = c.engine.stop();
    // a routed the write to c before it heard that c leaves: it must not fail.
    await expect(a.engine.put('products', key, { v: 1 })).resolves.toBeUndefined();
    await stopping;
    await waitUntil(() => a.engine.stats().members === 2 && b.engine.stats().members === 2);
  });

  it(
    'a node that was frozen does not serve, once back, values written while it was out',
    { timeout: 30_000 },
    async () => {
      const database = new VersionedDatabase(KEYS);
      const cluster = await FaultCluster.start(3, database, {
        readTimeoutMs: 1_000,
        proxy: false,
        clusterOptions: FAST_CLUSTER,
      });
      cleanups.push(() => cluster.close());
      const [a, b, c] = cluster.nodes as [FaultNode, FaultNode, FaultNode];
      const key = await keyOwnedBy(a, c);
      for (const node of cluster.nodes) expect(await get(node, key)).toBe(0);

      cluster.freeze('c');
      await cluster.awaitConvergence(['a', 'b'], performance.now(), 10_000);
      await put(a, key, database);
      // Older than what a node replays to a peer that joins: only dropping on resumed contact helps.
      await sleep(2 * FAST_CLUSTER.failureTimeout);
      cluster.thaw('c');
      await cluster.awaitConvergence(['a', 'b', 'c'], performance.now(), 10_000);
      expect(await a.process.call('ownerOf', { key })).toBe(c.id);
      for (const node of [a, b, c]) expect(await get(node, key)).toBe(1);
    },
  );

  it(
    'after a partition heals, the owners on both sides serve what the other side wrote',
    { timeout: 30_000 },
    async () => {
      const database = new VersionedDatabase(KEYS);
      const cluster = await FaultCluster.start(3, database, {
        readTimeoutMs: 1_000,
        proxy: true,
        clusterOptions: FAST_CLUSTER,
      });
      cleanups.push(() => cluster.close());
      const [a, b, c] = cluster.nodes as [FaultNode, FaultNode, FaultNode];
      const ownedByB = await keyOwnedBy(a, b);
      const ownedByA = await keyOwnedBy(a, a);
      for (const node of cluster.nodes) {
        expect(await get(node, ownedByB)).toBe(0);
        expect(await get(node, ownedByA)).toBe(0);
      }

      cluster.proxy!.partition([['a'], ['b', 'c']], 'stall');
      await cluster.awaitConvergenceOf(['a'], ['a'], performance.now(), 10_000);
      await cluster.awaitConvergenceOf(['b', 'c'], ['b', 'c'], performance.now(), 10_000);
      // Each side writes the key the other side's node owns in the whole ring.
      await put(a, ownedByB, database);
      await put(b, ownedByA, database);
      await sleep(2 * FAST_CLUSTER.failureTimeout);
      cluster.proxy!.heal();
      await cluster.awaitConvergence(['a', 'b', 'c'], performance.now(), 10_000);
      for (const node of [a, b, c]) {
        expect(await get(node, ownedByB)).toBe(1);
        expect(await get(node, ownedByA)).toBe(1);
      }
    },
  );

  it(
    'a node that joins is told about writes made by a node that had not seen it join yet',
    { timeout: 30_000 },
    async () => {
      const ports = await freePorts(3);
      const ids = ports.map((port) => `127.0.0.1:${port}`);
      const data: Array<[string, Versioned]> = KEYS.map((key) => [key, { id: key, version: 0 }]);
      // b's candidate list comes without c until the test adds it: b learns of c late.
      let listedByB = [ids[0]!, ids[1]!];
      const lateDiscovery: DiscoveryProvider = {
        name: 'late',
        initialize: () => Promise.resolve(),
        register: () => Promise.resolve(),
        discoverPeers: () => Promise.resolve(listedByB.map((id): DiscoveredPeer => parse(id))),
        deregister: () => Promise.resolve(),
        close: () => Promise.resolve(),
      };
      // c's list comes from a provider whose lists change (as DNS, NATS or Kubernetes do): with a
      // static list c would refuse to start while b does not list it (E_NOT_A_MEMBER).
      const changingList: DiscoveryProvider = {
        ...lateDiscovery,
        name: 'changing',
        discoverPeers: () => Promise.resolve(ids.map((id): DiscoveredPeer => parse(id))),
      };
      const [a, b, c] = ports.map((port, index) => {
        const source = new RecordingSource<Versioned>(data);
        const engine = new DistCacheEngine({
          nodeName: `n${index}`,
          port,
          discovery: [staticDiscovery({ peers: ids }), lateDiscovery, changingList][index]!,
          clusterOptions: FAST_CLUSTER,
          keySpaces: [{ name: 'products', dataSource: source }],
        });
        return { engine, source, id: ids[index]! };
      }) as [Joining, Joining, Joining];
      cleanups.push(async () => {
        await Promise.all([a, b, c].map((node) => node.engine.stop()));
      });
      await Promise.all([a.engine.start(), b.engine.start()]);
      await waitUntil(() => a.engine.stats().members === 2 && b.engine.stats().members === 2);
      await c.engine.start();
      await waitUntil(() => a.engine.stats().members === 3, 5_000, 'a sees c');
      expect(b.engine.stats().members).toBe(2);

      const key = KEYS.find((candidate) => a.engine.ownerOf('products', candidate) === c.id)!;
      // a routes the read to c, which loads version 0 as the key's owner.
      expect((await a.engine.get<Versioned>('products', key))?.version).toBe(0);
      // b, which has not seen c, writes version 1: to the previous owner, invalidating a only.
      for (const node of [a, b, c]) node.source.data.set(key, { id: key, version: 1 });
      await b.engine.put('products', key, { id: key, version: 1 });

      listedByB = ids;
      await waitUntil(() => b.engine.stats().members === 3, 5_000, 'b sees c');
      await waitUntil(
        async () =>
          (await a.engine.get<Versioned>('products', key))?.version === 1 &&
          (await c.engine.get<Versioned>('products', key))?.version === 1,
        5_000,
        'c to drop the value b never told it about',
      );
    },
  );

  it('a node that starts is on every ring well before the next ping round', { timeout: 30_000 }, async () => {
    const pingInterval = 6_000;
    const ports = await freePorts(3);
    const peers = ports.map((port) => `127.0.0.1:${port}`);
    const engines = ports.map(
      (port, index) =>
        new DistCacheEngine({
          nodeName: `n${index}`,
          port,
          discovery: staticDiscovery({ peers }),
          clusterOptions: { ...FAST_CLUSTER, pingInterval, failureTimeout: 2 * pingInterval },
          keySpaces: [{ name: 'products', dataSource: () => undefined }],
        }),
    );
    cleanups.push(async () => {
      await Promise.all(engines.map((engine) => engine.stop()));
    });
    const [first, second, third] = engines as [DistCacheEngine, DistCacheEngine, DistCacheEngine];
    await first.start();
    await second.start();
    // The first node's last ping round found nobody; the second one's pings reach it.
    await waitUntil(() => first.stats().members === 2, pingInterval / 3, 'the first node to see the second');
    await third.start();
    await waitUntil(
      () => first.stats().members === 3 && second.stats().members === 3,
      pingInterval / 3,
      'both to see the third',
    );
  });
});

interface Joining {
  engine: DistCacheEngine;
  source: RecordingSource<Versioned>;
  id: string;
}

function parse(id: string): DiscoveredPeer {
  const [host, port] = id.split(':') as [string, string];
  return { host, port: Number(port) };
}

async function keyOwnedBy(asked: FaultNode, owner: FaultNode): Promise<string> {
  for (const key of KEYS) if ((await asked.process.call<string>('ownerOf', { key })) === owner.id) return key;
  throw new Error(`no key owned by ${owner.name}`);
}

async function get(node: FaultNode, key: string): Promise<number | undefined> {
  return (await node.process.call<Versioned | undefined>('get', { key }))?.version;
}

/** Writes the database, then the cache through `node` (the order every writer follows). */
async function put(node: FaultNode, key: string, database: VersionedDatabase): Promise<void> {
  await node.process.call('put', { key, value: database.bump(key) });
}
