// Reads of one owner's keys started in one event-loop turn travel together (read-router.ts,
// remote-loader.ts): in one request, or in two when nothing else is on its way to that owner.
// Engines in this process over real TCP; every assertion is about what the owner served and which
// node called its data source.
import { afterEach, describe, expect, it } from 'vitest';
import { DistCacheEngine, isDistCacheError, staticDiscovery } from '../../src';
import { RecordingSource } from '../../src/testing';
import {
  callsByNode,
  FAST_CLUSTER,
  freePorts,
  startCluster,
  stopAll,
  type TestNode,
  waitUntil,
} from '../support/cluster';

const catalogue = Array.from({ length: 400 }, (_, index): [string, { id: string; n: number }] => [
  String(index),
  { id: String(index), n: index },
]);

let nodes: Array<TestNode<{ id: string; n: number }>> = [];
let engines: DistCacheEngine[] = [];
afterEach(async () => {
  await stopAll(nodes);
  await Promise.all(engines.map((engine) => engine.stop()));
  nodes = [];
  engines = [];
});

/** `count` keys that `owner` owns (on `asker`'s ring). */
function keysOwnedBy(asker: DistCacheEngine, ownerId: string, count: number): string[] {
  const keys = catalogue.map(([key]) => key).filter((key) => asker.ownerOf('products', key) === ownerId);
  expect(keys.length).toBeGreaterThanOrEqual(count);
  return keys.slice(0, count);
}

const served = (node: TestNode<unknown>): number =>
  node.engine.stats().keySpaces.products?.peerRequestsServed ?? 0;

describe('batched reads from an owner', () => {
  it('sends concurrent gets of one owner as one request while another is unanswered, in two when none is', async () => {
    const source = new RecordingSource(catalogue);
    let releaseSlow: (() => void) | undefined;
    let slowKey = '';
    nodes = await startCluster(2, catalogue, {
      dataSource: {
        fetch: async (key, context) => {
          if (key === slowKey) await new Promise<void>((resolve) => (releaseSlow = resolve));
          return source.fetch(key, context);
        },
      },
    });
    const [asker, owner] = nodes as [
      TestNode<{ id: string; n: number }>,
      TestNode<{ id: string; n: number }>,
    ];
    const keys = keysOwnedBy(asker.engine, owner.id, 37);
    const [idle, busy] = [keys.slice(0, 16), keys.slice(16, 36)];
    slowKey = keys[36]!;

    // Nothing on its way to the owner: the turn's 16 gets go in two requests of 8, so this node
    // decodes the first answer while the owner works on the second.
    let before = served(owner);
    const values = await Promise.all(idle.map((key) => asker.engine.get<{ id: string }>('products', key)));
    expect(values.map((value) => value?.id)).toEqual(idle);
    expect(served(owner) - before).toBe(2);

    // A read the owner has not answered (its load hangs): the next turn's 20 gets go as one request.
    const slow = asker.engine.get<{ id: string }>('products', slowKey);
    await waitUntil(() => releaseSlow !== undefined, 5_000, 'the slow load to start');
    before = served(owner);
    const more = await Promise.all(busy.map((key) => asker.engine.get<{ id: string }>('products', key)));
    expect(more.map((value) => value?.id)).toEqual(busy);
    expect(served(owner) - before).toBe(1);
    releaseSlow?.();
    expect((await slow)?.id).toBe(slowKey);

    // Each key loaded once in the cluster, by its owner.
    for (const key of [...idle, ...busy, slowKey]) expect(source.callsFor(key)).toBe(1);
    expect(owner.engine.stats().keySpaces.products).toMatchObject({ loads: 37 });
    expect(asker.engine.stats().keySpaces.products).toMatchObject({
      loads: 0,
      peerLoads: 37,
      fallbackLoads: 0,
    });
    // Answers are kept as hot copies, as for single gets.
    const hot = asker.engine.stats().keySpaces.products!.hotHits;
    await asker.engine.get('products', idle[0]!);
    expect(asker.engine.stats().keySpaces.products!.hotHits).toBe(hot + 1);
  });

  it('a turn split in two stays with the owner when the second request is over the in-flight limit', async () => {
    // maxInFlightPerPeer 1 on the asker: the second half is refused here (E_TOO_MANY_REQUESTS) and
    // goes again once the first is answered, instead of being loaded from the asker's own source.
    nodes = await startCluster(2, catalogue, {}, { transportOptions: { maxInFlightPerPeer: 1 } });
    const [asker, owner] = nodes as [
      TestNode<{ id: string; n: number }>,
      TestNode<{ id: string; n: number }>,
    ];
    const keys = keysOwnedBy(asker.engine, owner.id, 4);
    const before = served(owner);
    const values = await Promise.all(keys.map((key) => asker.engine.get<{ id: string }>('products', key)));
    expect(values.map((value) => value?.id)).toEqual(keys);
    expect(served(owner) - before).toBe(2);
    for (const key of keys) expect(callsByNode(nodes, key)).toEqual({ [asker.name]: 0, [owner.name]: 1 });
    expect(asker.engine.stats().keySpaces.products).toMatchObject({ fallbackLoads: 0, peerLoads: 4 });
  });

  it('deduplicates a key asked twice in one turn, and a getMany joins gets in flight', async () => {
    nodes = await startCluster(2, catalogue, {}, { clusterOptions: { ...FAST_CLUSTER, hotTtl: 0 } });
    const [asker, owner] = nodes as [
      TestNode<{ id: string; n: number }>,
      TestNode<{ id: string; n: number }>,
    ];
    const keys = keysOwnedBy(asker.engine, owner.id, 4);
    const before = served(owner);
    const [a, b, many] = await Promise.all([
      asker.engine.get<{ id: string }>('products', keys[0]!),
      asker.engine.get<{ id: string }>('products', keys[0]!),
      asker.engine.getMany<{ id: string }>('products', keys),
    ]);
    expect([a?.id, b?.id]).toEqual([keys[0], keys[0]]);
    expect([...many.values()].map((value) => value?.id)).toEqual(keys);
    // The two gets of keys[0] share one read, and the getMany joins it for that key.
    expect(asker.engine.stats().keySpaces.products!.dedupedLoads).toBe(2);
    expect(served(owner) - before).toBe(2);
    for (const key of keys) expect(owner.source.callsFor(key)).toBe(1);
  });

  it('getMany returns what individual gets return, across owners, "not found" included', async () => {
    nodes = await startCluster(3, catalogue);
    const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'missing-1', 'missing-2', '300'];
    const many = await nodes[0]!.engine.getMany('products', keys);
    const single = await Promise.all(keys.map((key) => nodes[1]!.engine.get('products', key)));
    expect([...many.keys()]).toEqual(keys);
    expect([...many.values()]).toEqual(single);
    expect(many.get('missing-1')).toBeUndefined();
    // Each found key loaded once in the cluster ("not found" is not remembered without negativeTtl).
    for (const key of keys.filter((k) => !k.startsWith('missing')))
      expect(Object.values(callsByNode(nodes, key)).reduce((a, b) => a + b)).toBe(1);
  });

  it('a key whose load fails on the owner fails alone; the other keys of the batch get their values', async () => {
    const source = new RecordingSource(catalogue);
    const failing = new Set<string>();
    nodes = await startCluster(2, catalogue, {
      dataSource: {
        fetch: async (key, context) => {
          if (failing.has(key)) throw new Error(`no row for ${key}`);
          return source.fetch(key, context);
        },
      },
    });
    const [asker, owner] = nodes as [
      TestNode<{ id: string; n: number }>,
      TestNode<{ id: string; n: number }>,
    ];
    const keys = keysOwnedBy(asker.engine, owner.id, 6);
    failing.add(keys[2]!);
    const before = served(owner);
    const outcomes = await Promise.allSettled(
      keys.map((key) => asker.engine.get<{ id: string }>('products', key)),
    );
    // Two requests of three (nothing else was on its way to the owner); the failing key is in the first.
    expect(served(owner) - before).toBe(2);
    outcomes.forEach((outcome, index) => {
      if (index === 2) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason as Error;
        expect(isDistCacheError(reason, 'E_DATASOURCE_FAILED')).toBe(true);
        expect((reason.cause as Error).message).toBe(`no row for ${keys[2]}`);
      } else {
        expect((outcome as PromiseFulfilledResult<{ id: string }>).value.id).toBe(keys[index]);
      }
    });
    // The failure is the owner's: nobody fell back to its own source.
    expect(asker.engine.stats().keySpaces.products).toMatchObject({ fallbackLoads: 0, peerLoads: 5 });
    await expect(asker.engine.getMany('products', keys)).rejects.toMatchObject({
      code: 'E_DATASOURCE_FAILED',
    });
  });

  it('a key whose load hangs on the owner does not hold back the other gets of its batch', async () => {
    const source = new RecordingSource(catalogue);
    const hanging = new Set<string>();
    nodes = await startCluster(2, catalogue, {
      readTimeout: 600,
      dataSource: {
        fetch: async (key, context) => {
          if (hanging.has(key)) {
            await new Promise<never>((_resolve, reject) =>
              context.signal.addEventListener('abort', () => reject(context.signal.reason), { once: true }),
            );
          }
          return source.fetch(key, context);
        },
      },
    });
    const [asker, owner] = nodes as [
      TestNode<{ id: string; n: number }>,
      TestNode<{ id: string; n: number }>,
    ];
    const [fast, cold, slow] = keysOwnedBy(asker.engine, owner.id, 3) as [string, string, string];
    hanging.add(slow);
    await owner.engine.get('products', fast);
    const before = served(owner);
    const settled: string[] = [];
    const track = (name: string, read: Promise<unknown>) =>
      read.then(
        (value) => {
          settled.push(name);
          return value;
        },
        (error: unknown) => {
          settled.push(name);
          throw error;
        },
      );
    // One turn: a key the owner holds, one it loads at once, one whose load hangs.
    const reads = [
      track('fast', asker.engine.get<{ id: string }>('products', fast)),
      track('cold', asker.engine.get<{ id: string }>('products', cold)),
      track('slow', asker.engine.get<{ id: string }>('products', slow)),
    ];
    const [fastValue, coldValue] = await Promise.all(reads.slice(0, 2));
    expect([fastValue, coldValue]).toMatchObject([{ id: fast }, { id: cold }]);
    expect(settled).toEqual(['fast', 'cold']);
    // The hanging key fails alone, at the read timeout: the owner's load timeout and the caller's
    // own deadline both start with the call, so either may be the one that ends it.
    const error = await reads[2]!.catch((e: unknown) => e);
    expect((error as { code?: string }).code).toMatch(/^E_(DATASOURCE_)?TIMEOUT$/);
    // The batch, then one GET for the key that was still loading.
    expect(served(owner) - before).toBe(2);
    expect(asker.engine.stats().keySpaces.products).toMatchObject({ fallbackLoads: 0 });
  });

  it('does not keep an answer that a write made stale while the batch was in flight', async () => {
    nodes = await startCluster(2, catalogue);
    const [asker, owner] = nodes as [
      TestNode<{ id: string; n: number }>,
      TestNode<{ id: string; n: number }>,
    ];
    const keys = keysOwnedBy(asker.engine, owner.id, 3);
    owner.source.hold();
    const reads = Promise.all(
      keys.map((key) => asker.engine.get<{ id: string; n: number }>('products', key)),
    );
    await waitUntil(() => keys.every((key) => owner.source.callsFor(key) === 1), 5_000, 'owner loading');
    // Written while the owner is still loading: the batch's answer for keys[0] predates it.
    await asker.engine.put('products', keys[0]!, { id: keys[0]!, n: -1 });
    owner.source.release();
    await reads;
    expect(await asker.engine.get('products', keys[0]!)).toEqual({ id: keys[0], n: -1 });
    expect(await owner.engine.get('products', keys[0]!)).toEqual({ id: keys[0], n: -1 });
    // The other keys of the batch were kept as hot copies.
    const hot = asker.engine.stats().keySpaces.products!.hotHits;
    await asker.engine.get('products', keys[1]!);
    expect(asker.engine.stats().keySpaces.products!.hotHits).toBe(hot + 1);
  });

  it('falls back per key when the owner refuses the batch (its in-flight limit), like single gets', async () => {
    const [askerPort, ownerPort] = await freePorts(2);
    const peers = [`127.0.0.1:${askerPort}`, `127.0.0.1:${ownerPort}`];
    const askerSource = new RecordingSource(catalogue);
    const ownerSource = new RecordingSource(catalogue);
    const make = (
      port: number,
      source: RecordingSource<unknown>,
      maxInFlightPerPeer?: number,
    ): DistCacheEngine =>
      new DistCacheEngine({
        nodeName: `node-${port}`,
        host: '127.0.0.1',
        port,
        discovery: staticDiscovery({ peers }),
        clusterOptions: FAST_CLUSTER,
        transportOptions: maxInFlightPerPeer === undefined ? {} : { maxInFlightPerPeer },
        keySpaces: [{ name: 'products', dataSource: source }],
      });
    const asker = make(askerPort!, askerSource);
    const owner = make(ownerPort!, ownerSource, 1);
    engines = [asker, owner];
    await Promise.all(engines.map((engine) => engine.start()));
    await waitUntil(() => engines.every((engine) => engine.stats().members === 2), 10_000, 'members');
    const keys = keysOwnedBy(asker, `127.0.0.1:${ownerPort}`, 6);
    // One read holds the owner's only request slot on the asker's connection...
    ownerSource.hold();
    const first = asker.get<{ id: string }>('products', keys[0]!);
    await waitUntil(() => ownerSource.callsFor(keys[0]!) === 1, 5_000, 'owner loading');
    // ...so the batch of the other five is refused (E_TOO_MANY_REQUESTS): each key loads here.
    const rest = await Promise.all(keys.slice(1).map((key) => asker.get<{ id: string }>('products', key)));
    expect(rest.map((value) => value?.id)).toEqual(keys.slice(1));
    for (const key of keys.slice(1)) {
      expect(askerSource.callsFor(key)).toBe(1);
      expect(ownerSource.callsFor(key)).toBe(0);
    }
    expect(asker.stats().keySpaces.products).toMatchObject({ fallbackLoads: 5, peerErrors: 5 });
    ownerSource.release();
    expect((await first)?.id).toBe(keys[0]);
    expect(askerSource.callsFor(keys[0]!)).toBe(0);
  });
});
