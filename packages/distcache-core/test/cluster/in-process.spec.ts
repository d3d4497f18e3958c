// Three engines in one process, talking over real TCP on loopback. Every assertion is about a
// cross-node effect: which node called its data source, how often, and what another node sees.
import { afterEach, describe, expect, it } from 'vitest';
import { DistCacheEngine, isDistCacheError, type PeerEvent, staticDiscovery } from '../../src';
import { TcpPeerTransport } from '../../src/transport/tcp-peer-transport';
import {
  callsByNode,
  FAST_CLUSTER,
  freePorts,
  ownerOf,
  startCluster,
  stopAll,
  type TestNode,
  waitUntil,
} from '../support/cluster';

interface Product {
  id: string;
  name: string;
  updatedAt: Date;
}
const catalogue = Array.from({ length: 200 }, (_, index): [string, Product] => [
  String(index),
  { id: String(index), name: `Product ${index}`, updatedAt: new Date(Date.UTC(2026, 0, 1 + (index % 28))) },
]);

let nodes: Array<TestNode<Product>> = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

const totalCalls = (key: string) =>
  Object.values(callsByNode(nodes, key)).reduce((sum, count) => sum + count, 0);

describe('cluster of three engines in one process', () => {
  it('loads a cold key once, on its owner, whichever node is asked', async () => {
    nodes = await startCluster(3, catalogue);
    for (const key of ['1', '2', '3', '4', '5', '6']) {
      for (const node of nodes) expect((await node.engine.get<Product>('products', key))?.id).toBe(key);
      const owner = ownerOf(nodes, key);
      expect(callsByNode(nodes, key)).toEqual(
        Object.fromEntries(nodes.map((node) => [node.name, node === owner ? 1 : 0])),
      );
    }
    // Keys spread over every node: each owned some of them.
    const owners = new Set(catalogue.map(([key]) => ownerOf(nodes, key).name));
    expect(owners.size).toBe(3);
  });

  it('returns Dates as Dates after crossing the wire', async () => {
    nodes = await startCluster(3, catalogue);
    // Any key another node owns; the ports are random, so five fixed candidates were all owned by
    // nodes[0] about once in 240 runs (seen in CI). Among 200 that does not happen.
    const key = catalogue.map(([k]) => k).find((k) => ownerOf(nodes, k) !== nodes[0])!;
    const value = await nodes[0]!.engine.get<Product>('products', key);
    expect(value?.updatedAt).toBeInstanceOf(Date);
    expect(nodes[0]!.engine.stats().keySpaces.products).toMatchObject({ peerLoads: 1, loads: 0 });
  });

  it('3,000 concurrent gets of one cold key spread over three nodes call the source exactly once', async () => {
    nodes = await startCluster(3, catalogue);
    for (const node of nodes) node.source.hold();
    const reads = Array.from({ length: 3_000 }, (_, index) =>
      nodes[index % 3]!.engine.get<Product>('products', '42'),
    );
    await waitUntil(() => totalCalls('42') === 1, 5_000, 'the owner to start its load');
    for (const node of nodes) node.source.release();
    const values = await Promise.all(reads);
    expect(values.every((value) => value?.id === '42')).toBe(true);
    expect(totalCalls('42')).toBe(1);
    expect(callsByNode(nodes, '42')[ownerOf(nodes, '42').name]).toBe(1);
  });

  it('a value put on A is read on B and C without any source call', async () => {
    nodes = await startCluster(3, catalogue);
    const [a, b, c] = nodes as [TestNode<Product>, TestNode<Product>, TestNode<Product>];
    for (const key of ['7', '8', '9', '10']) {
      await a.engine.put('products', key, { id: key, name: 'written on A', updatedAt: new Date(0) });
      expect((await b.engine.get<Product>('products', key))?.name).toBe('written on A');
      expect((await c.engine.get<Product>('products', key))?.name).toBe('written on A');
      expect(totalCalls(key)).toBe(0);
    }
  });

  it('after a delete on A resolves, the next get anywhere loads from the source again, once, on the owner', async () => {
    nodes = await startCluster(3, catalogue);
    const [a, b, c] = nodes as [TestNode<Product>, TestNode<Product>, TestNode<Product>];
    for (const key of ['11', '12', '13']) {
      await a.engine.put('products', key, { id: key, name: 'stale', updatedAt: new Date(0) });
      await b.engine.get('products', key);
      await c.engine.get('products', key); // B and C now hold hot copies of "stale"
      await a.engine.delete('products', key);
      expect((await b.engine.get<Product>('products', key))?.name).toBe(`Product ${key}`);
      expect((await c.engine.get<Product>('products', key))?.name).toBe(`Product ${key}`);
      expect(totalCalls(key)).toBe(1);
      expect(callsByNode(nodes, key)[ownerOf(nodes, key).name]).toBe(1);
    }
  });

  it('a put replaces hot copies everywhere before it resolves', async () => {
    nodes = await startCluster(3, catalogue);
    const key = '20';
    for (const node of nodes) await node.engine.get('products', key);
    for (const [index, writer] of nodes.entries()) {
      await writer.engine.put('products', key, { id: key, name: `v${index}`, updatedAt: new Date(0) });
      for (const reader of nodes)
        expect((await reader.engine.get<Product>('products', key))?.name).toBe(`v${index}`);
    }
  });

  it('getMany sends one batched request per owner and returns every key', async () => {
    nodes = await startCluster(3, catalogue);
    const keys = Array.from({ length: 30 }, (_, index) => String(100 + index));
    const result = await nodes[0]!.engine.getMany<Product>('products', [...keys, 'missing']);
    expect([...result.keys()]).toEqual([...keys, 'missing']);
    for (const key of keys) expect(result.get(key)?.id).toBe(key);
    expect(result.get('missing')).toBeUndefined();
    for (const key of keys) expect(totalCalls(key)).toBe(1);
    const stats = nodes[0]!.engine.stats().keySpaces.products!;
    const remoteKeys = [...keys, 'missing'].filter((key) => ownerOf(nodes, key) !== nodes[0]).length;
    expect(stats.peerLoads).toBe(remoteKeys);
  });

  it('deleteMany on one node removes keys owned by every node', async () => {
    nodes = await startCluster(3, catalogue);
    const keys = Array.from({ length: 12 }, (_, index) => String(150 + index));
    for (const node of nodes) await node.engine.getMany('products', keys);
    await nodes[1]!.engine.deleteMany('products', keys);
    for (const node of nodes) await node.engine.getMany('products', keys);
    for (const key of keys) expect(totalCalls(key)).toBe(2);
  });

  it('deleteKeySpace on one node removes the keyspace on every node', async () => {
    nodes = await startCluster(3, catalogue);
    await nodes[2]!.engine.deleteKeySpace('products');
    await waitUntil(
      () => nodes.every((node) => node.engine.keySpaces().length === 0),
      2_000,
      'drop everywhere',
    );
    const error = await nodes[0]!.engine.get('products', '1').catch((e: unknown) => e);
    expect(isDistCacheError(error, 'E_KEYSPACE_NOT_FOUND')).toBe(true);
  });

  it('a node that stops gracefully is dropped by the others at once, and its keys move', async () => {
    nodes = await startCluster(
      3,
      catalogue,
      {},
      { clusterOptions: { pingInterval: 50, failureTimeout: '1h' } },
    );
    const leaving = nodes[2]!;
    const owned = catalogue.map(([key]) => key).filter((key) => ownerOf(nodes, key) === leaving);
    expect(owned.length).toBeGreaterThan(0);
    await leaving.engine.stop();
    // failureTimeout is an hour, so only the leave notice can explain a prompt drop.
    await waitUntil(
      () => nodes.slice(0, 2).every((node) => node.engine.stats().members === 2),
      2_000,
      'drop on leave',
    );
    const survivors = nodes.slice(0, 2);
    nodes = survivors;
    const value = await survivors[0]!.engine.get<Product>('products', owned[0]!);
    expect(value?.id).toBe(owned[0]);
    expect(survivors.map((node) => node.id)).toContain(survivors[0]!.engine.ownerOf('products', owned[0]!));
  });

  it('serves a request that came from a peer itself, never forwarding it, even when it is not the owner', async () => {
    nodes = await startCluster(3, catalogue);
    const [, b, c] = nodes as [TestNode<Product>, TestNode<Product>, TestNode<Product>];
    // A key C owns, asked of B as if by a peer whose ring is out of date.
    const key = catalogue.map(([k]) => k).find((k) => ownerOf(nodes, k) === c)!;
    const client = new TcpPeerTransport({ nodeId: 'stale-ring-peer', host: '127.0.0.1', port: 0 });
    try {
      const [host, port] = b.id.split(':') as [string, string];
      const response = await client.request(
        { host, port: Number(port) },
        { op: 'get', keySpace: 'products', key, forwarded: true },
        { timeoutMs: 2_000 },
      );
      expect(response.op).toBe('value');
      expect(callsByNode(nodes, key)).toEqual({ 'node-a': 0, 'node-b': 1, 'node-c': 0 });
    } finally {
      await client.close();
    }
  });

  it('raises typed peer events when a node joins and when it leaves gracefully', async () => {
    const [portA, portB] = (await freePorts(2)) as [number, number];
    const peers = [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`];
    const make = (name: string, port: number) =>
      new DistCacheEngine({
        nodeName: name,
        port,
        discovery: staticDiscovery({ peers }),
        clusterOptions: FAST_CLUSTER,
        keySpaces: [{ name: 'products' }],
      });
    const first = make('first', portA);
    const second = make('second', portB);
    const events: PeerEvent[] = [];
    first.on('peer', (event) => events.push(event));
    try {
      await first.start();
      expect(first.stats().members).toBe(1);
      await second.start();
      await waitUntil(() => events.length === 1, 3_000, 'the join event');
      await second.stop();
      await waitUntil(() => events.length === 2, 3_000, 'the leave event');
      expect(events).toEqual([
        { type: 'joined', peer: { id: peers[1], host: '127.0.0.1', port: portB } },
        { type: 'left', peer: { id: peers[1], host: '127.0.0.1', port: portB }, reason: 'graceful' },
      ]);
      expect(first.stats().members).toBe(1);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('reports peers with state and ownership shares that add up to 1', async () => {
    nodes = await startCluster(3, catalogue);
    const peers = nodes[0]!.engine.peers();
    expect(peers.map((peer) => peer.status).sort()).toEqual(['alive', 'alive', 'self']);
    const total = peers.reduce((sum, peer) => sum + peer.ownershipShare, 0);
    expect(total).toBeCloseTo(1, 6);
    for (const peer of peers) expect(peer.ownershipShare).toBeGreaterThan(0.15);
  });
});
