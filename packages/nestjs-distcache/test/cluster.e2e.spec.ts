// Three Nest applications in this process form one cluster over real TCP. Every assertion is a
// cross-node effect: which app ran a method body, what another app sees, what HTTP answers.
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { DistCacheEvent } from '../src';
import type { Product } from './support/catalog.app';
import {
  callsByNode,
  type CatalogNode,
  closeAll,
  candidateKeys,
  keyNotOwnedBy,
  onlyOn,
  ownerNode,
  startCatalogCluster,
  startCatalogClusterWithSpares,
  startNode,
} from './support/catalog.cluster';
import { FAST_CLUSTER, SLOW_FAILURE_DETECTION, waitUntil } from './support/net';

let nodes: CatalogNode[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

const total = (counts: Record<string, number>) =>
  Object.values(counts).reduce((sum, count) => sum + count, 0);

describe('three Nest apps in one process', () => {
  it('@ReadThrough: 30 concurrent calls over three apps run the method body once, on the owner', async () => {
    nodes = await startCatalogCluster(3);
    for (const node of nodes) node.repository.gate.close();
    const calls = Array.from({ length: 30 }, (_, index) => nodes[index % 3]!.catalog.product('7'));
    await waitUntil(
      () => total(callsByNode(nodes, 'find', '7')) === 1,
      15_000,
      'the owner to start its load',
    );
    for (const node of nodes) node.repository.gate.open();
    const products = await Promise.all(calls);
    expect(products.every((product) => product?.id === '7' && product.name === 'Product 7')).toBe(true);
    expect(callsByNode(nodes, 'find', '7')).toEqual(onlyOn(nodes, ownerNode(nodes, 'products', '7')));
  });

  it('@ReadThrough with several arguments: the owner decodes the canonical JSON key and calls the method', async () => {
    nodes = await startCatalogCluster(3);
    const [a, b, c] = nodes as [CatalogNode, CatalogNode, CatalogNode];
    // Same call, object keys in another order, page given or left to its default: one key.
    const first = await a.catalog.search({ category: 'tools', maxPrice: 50 }, 2);
    const second = await b.catalog.search({ maxPrice: 50, category: 'tools' }, 2);
    const other = await c.catalog.search({ category: 'tools' });
    expect(first).toEqual(['tools:50:page-2']);
    expect(second).toEqual(first);
    expect(other).toEqual(['tools:any:page-1']);
    const key = '[{"category":"tools","maxPrice":50},2]';
    const owner = ownerNode(nodes, 'search', key);
    const ownerCalls = owner.repository.calls.filter((call) => call.method === 'search');
    expect(ownerCalls.map((call) => call.args)).toContainEqual([{ category: 'tools', maxPrice: 50 }, 2]);
    expect(total(callsByNode(nodes, 'search'))).toBe(2);
  });

  it('@KeySpace provider: its injected dependency is called once, on the owner, for all three apps', async () => {
    nodes = await startCatalogCluster(3);
    const prices = await Promise.all(
      nodes.map((node) => node.cache.get<{ quotedBy: string }>('prices', 'sku-42')),
    );
    const owner = nodes.find((node) => node.id === nodes[0]!.cache.ownerOf('prices', 'sku-42'))!;
    expect(prices.map((price) => price?.quotedBy)).toEqual([owner.name, owner.name, owner.name]);
    expect(nodes.map((node) => node.pricing.quoted.length)).toEqual(
      nodes.map((node) => (node === owner ? 1 : 0)),
    );
  });

  it('forRootAsync with ConfigService: the nodes configured from ConfigService join and serve', async () => {
    nodes = await startCatalogCluster(3, { config: (index) => (index === 0 ? 'sync' : 'async') });
    expect(nodes.map((node) => node.cache.stats().nodeName)).toEqual(['node-a', 'node-b', 'node-c']);
    expect(nodes.map((node) => node.engine.options.port)).toEqual(
      nodes.map((node) => Number(node.id.split(':')[1])),
    );
    const key = keyNotOwnedBy(nodes, nodes[1]!, candidateKeys(1));
    expect((await nodes[1]!.catalog.product(key))?.id).toBe(key);
    expect(callsByNode(nodes, 'find', key)).toEqual(onlyOn(nodes, ownerNode(nodes, 'products', key)));
  });

  it('@CacheEvict on A makes B reload; @CachePut on A is read by B without a load', async () => {
    nodes = await startCatalogCluster(3);
    const [a, b] = nodes as [CatalogNode, CatalogNode];
    const key = keyNotOwnedBy(nodes, b, candidateKeys(11));
    const owner = ownerNode(nodes, 'products', key);
    expect((await b.catalog.product(key))?.name).toBe(`Product ${key}`);
    expect((await b.catalog.product(key))?.name).toBe(`Product ${key}`); // B's hot copy
    expect(callsByNode(nodes, 'find', key)).toEqual(onlyOn(nodes, owner, 1));

    await a.catalog.rename(key, 'Renamed on A');
    expect((await b.catalog.product(key))?.name).toBe('Renamed on A');
    expect(callsByNode(nodes, 'find', key)).toEqual(onlyOn(nodes, owner, 2));

    const saved: Product = { id: key, name: 'Put by A', updatedAt: new Date(Date.UTC(2030, 5, 1)) };
    await a.catalog.save(saved);
    const read = await b.catalog.product(key);
    expect(read).toEqual(saved);
    expect(callsByNode(nodes, 'find', key)).toEqual(onlyOn(nodes, owner, 2));
  });

  it('a Date field comes back as a Date on every node, owner or not', async () => {
    nodes = await startCatalogCluster(3);
    for (const key of ['21', '22', '23']) {
      const products = await Promise.all(nodes.map((node) => node.catalog.product(key)));
      for (const product of products) {
        expect(product?.updatedAt).toBeInstanceOf(Date);
        expect(product?.updatedAt.getTime()).toBe(Date.UTC(2026, 0, 1 + (Number(key) % 28)));
      }
    }
    const remote = nodes.reduce((sum, node) => sum + node.cache.stats().keySpaces.products!.peerLoads, 0);
    expect(remote).toBe(6); // two of three nodes asked the owner, for each of the three keys
  });

  it('events$ emits peer joined when an app starts and peer left when it closes', async () => {
    const cluster = await startCatalogClusterWithSpares(2, {
      clusterOptions: SLOW_FAILURE_DETECTION,
      spare: 1,
    });
    nodes = cluster.nodes;
    const [a] = nodes as [CatalogNode];
    const peerEvents = firstValueFrom(
      a.cache.events$.pipe(
        filter((event): event is Extract<DistCacheEvent, { kind: 'peer' }> => event.kind === 'peer'),
        take(2),
        toArray(),
      ),
    );
    const c = await startNode({
      nodeName: 'node-c',
      port: cluster.sparePorts[0]!,
      peers: cluster.peers,
      clusterOptions: SLOW_FAILURE_DETECTION,
      database: cluster.database,
    });
    await waitUntil(() => a.cache.stats().members === 3, 15_000, 'node-c to join');
    await c.app.close();
    const events = await peerEvents;
    expect(
      events.map((event) => [event.type, event.peer.id, 'reason' in event ? event.reason : undefined]),
    ).toEqual([
      ['joined', c.id, undefined],
      ['left', c.id, 'graceful'],
    ]);
  });

  it('closing one app removes it from the other apps member lists at once (graceful leave)', async () => {
    // A 20 s failure timeout: a removal within 10 s can only come from the leave notice, and only the
    // leave notice gives the status 'left' (a failed peer is 'pending'). No tighter deadline: the
    // suite runs beside the others on two cores.
    nodes = await startCatalogCluster(3, { clusterOptions: SLOW_FAILURE_DETECTION });
    const [a, b, c] = nodes as [CatalogNode, CatalogNode, CatalogNode];
    await c.app.close();
    await waitUntil(
      () => a.cache.stats().members === 2 && b.cache.stats().members === 2,
      10_000,
      'c to be dropped',
    );
    expect(a.cache.peers().find((peer) => peer.id === c.id)?.status).toBe('left');
    expect(b.cache.peers().find((peer) => peer.id === c.id)?.status).toBe('left');
    expect(c.cache.state).toBe('stopped');
    // Keys move to the remaining members: every product is served without the closed app.
    for (const key of ['1', '2', '3', '4', '5', '6']) expect((await a.catalog.product(key))?.id).toBe(key);
    expect(total(callsByNode([c], 'find'))).toBe(0);
    nodes = [a, b];
    await c.app.close(); // idempotent
  });

  it('GET /health is up with details, and 503 once the engine is stopped', async () => {
    nodes = await startCatalogCluster(3);
    const [a] = nodes as [CatalogNode];
    const up = await fetch(`${a.url}/health`);
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({
      status: 'ok',
      details: {
        distcache: {
          status: 'up',
          state: 'running',
          nodeName: 'node-a',
          members: 3,
          minMembers: 1,
          quorum: true,
          peers: { self: 1, alive: 2 },
          openBreakers: [],
        },
      },
    });
    await a.engine.stop();
    const down = await fetch(`${a.url}/health`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({
      status: 'error',
      error: { distcache: { status: 'down', state: 'stopped', message: 'engine is stopped' } },
    });
    // A stopped engine does not break the service: calls go straight to the method.
    expect((await a.catalog.product('5'))?.id).toBe('5');
  });
});

describe('three Fastify apps', () => {
  it('serve @ReadThrough over HTTP with one body run, on the owner, and report health', async () => {
    nodes = await startCatalogCluster(3, { platform: 'fastify', clusterOptions: FAST_CLUSTER });
    const answers = await Promise.all(
      nodes.flatMap((node) =>
        [1, 2].map(() => fetch(`${node.url}/products/17`).then((response) => response.json())),
      ),
    );
    for (const answer of answers)
      expect(answer).toMatchObject({ id: '17', name: 'Product 17', updatedAtIsDate: true });
    expect(callsByNode(nodes, 'find', '17')).toEqual(onlyOn(nodes, ownerNode(nodes, 'products', '17')));
    const rename = await fetch(`${nodes[0]!.url}/products/17/name`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Renamed over Fastify' }),
    });
    expect(rename.status).toBe(204);
    expect(await (await fetch(`${nodes[2]!.url}/products/17`)).json()).toMatchObject({
      name: 'Renamed over Fastify',
    });
    const health = await fetch(`${nodes[1]!.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ details: { distcache: { status: 'up', members: 3 } } });
    expect((await fetch(`${nodes[1]!.url}/products/not-a-number`)).status).toBe(404);
  });
});
