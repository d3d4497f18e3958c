// Three engines in one process that find each other only through NATS (no static list). Every
// assertion is about a cross-node effect: which node called its source, what another node reads,
// who is a member, and why a node left.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DiscoveredPeer, DistCacheEngine, type PeerEvent } from '../../src';
import { type NatsDiscovery, natsDiscovery } from '../../src/discovery/nats';
import { RecordingSource } from '../../src/testing';
import { callsByNode, FAST_CLUSTER, freePorts, ownerOf, type TestNode, waitUntil } from '../support/cluster';
import { capturingClient, type NatsServer, startNatsServer } from '../support/nats-server';

interface Product {
  id: string;
  name: string;
}
const catalogue = Array.from({ length: 100 }, (_, index): [string, Product] => [
  String(index),
  { id: String(index), name: `Product ${index}` },
]);

const HEARTBEAT_INTERVAL = 200;
const HEARTBEAT_TIMEOUT = 1_200;

interface NatsNode extends TestNode<Product> {
  readonly discovery: NatsDiscovery;
  readonly events: PeerEvent[];
  /** Cuts this node's NATS connection without a departure notice, as a crash would. */
  readonly cutNats: () => Promise<void>;
}

let nodes: NatsNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((node) => node.engine.stop()));
  nodes = [];
});

async function startNatsCluster(server: NatsServer, size: number, cluster: string): Promise<NatsNode[]> {
  const ports = await freePorts(size);
  const started = ports.map((port, index): NatsNode => {
    const source = new RecordingSource<Product>(catalogue);
    const name = `node-${String.fromCharCode(97 + index)}`;
    const client = capturingClient();
    const discovery = natsDiscovery({
      servers: server.url,
      cluster,
      heartbeatInterval: HEARTBEAT_INTERVAL,
      heartbeatTimeout: HEARTBEAT_TIMEOUT,
      discoverWindow: 100,
      reconnectTimeWait: 100,
      importClient: client.importClient,
    });
    const engine = new DistCacheEngine({
      nodeName: name,
      host: '127.0.0.1',
      port,
      cluster,
      discovery,
      clusterOptions: FAST_CLUSTER,
      keySpaces: [{ name: 'products', dataSource: source }],
    });
    const events: PeerEvent[] = [];
    engine.on('peer', (event) => events.push(event));
    return {
      name,
      id: `127.0.0.1:${port}`,
      engine,
      source,
      discovery,
      events,
      cutNats: async () => {
        for (const connection of client.connections) await connection.close();
      },
    };
  });
  nodes = started;
  await Promise.all(started.map((node) => node.engine.start()));
  await waitUntil(() => started.every((node) => node.engine.stats().members === size), 10_000, 'all members');
  return started;
}

const summary = (event: PeerEvent) =>
  `${event.type} ${event.peer.id}${event.type === 'left' ? ` ${event.reason}` : ''}`;
const ids = (peers: DiscoveredPeer[]) => peers.map((peer) => `${peer.host}:${peer.port}`).sort();

describe('engines discovering each other through NATS', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server.stop('SIGTERM');
  });

  it('form a cluster, and a cold key read on every node calls the source once, on its owner', async () => {
    const cluster = await startNatsCluster(server, 3, 'formation');
    for (const node of cluster) {
      expect(ids(await node.discovery.discoverPeers(new AbortController().signal))).toEqual(
        cluster.map((peer) => peer.id).sort(),
      );
    }
    for (const key of ['1', '2', '3', '4', '5', '6']) {
      for (const node of cluster) expect((await node.engine.get<Product>('products', key))?.id).toBe(key);
      const owner = ownerOf(cluster, key);
      expect(owner.engine.ownerOf('products', key)).toBe(owner.id);
      expect(callsByNode(cluster, key)).toEqual(
        Object.fromEntries(cluster.map((node) => [node.name, node === owner ? 1 : 0])),
      );
    }
    const owners = new Set(Array.from({ length: 20 }, (_, index) => ownerOf(cluster, String(index)).name));
    expect(owners.size).toBeGreaterThan(1);
  });

  it('drop a node that stops gracefully at once, and one whose NATS link dies after the heartbeat timeout', async () => {
    const [a, b, c] = (await startNatsCluster(server, 3, 'departures')) as [NatsNode, NatsNode, NatsNode];
    let listedByA = (await a.discovery.discoverPeers(new AbortController().signal)).length;
    a.discovery.watch((peers) => {
      listedByA = peers.length;
    });

    const stoppedAt = Date.now();
    await c.engine.stop();
    await waitUntil(() => listedByA === 2 && a.engine.stats().members === 2, 2_000, 'C gone from A');
    expect(Date.now() - stoppedAt).toBeLessThan(HEARTBEAT_TIMEOUT / 2);
    await waitUntil(() => b.engine.stats().members === 2, 2_000, 'C gone from B');
    expect(a.events.filter((event) => event.type === 'left').map(summary)).toEqual([`left ${c.id} graceful`]);

    // B's engine still answers pings: only discovery (its heartbeats stopping) can remove it.
    const cutAt = Date.now();
    await b.cutNats();
    await waitUntil(() => a.engine.stats().members === 1, HEARTBEAT_TIMEOUT * 4, 'B gone from A');
    const droppedAfter = Date.now() - cutAt;
    expect(droppedAfter).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT / 2);
    expect(droppedAfter).toBeLessThan(HEARTBEAT_TIMEOUT * 2);
    expect(summary(a.events.at(-1)!)).toBe(`left ${b.id} undiscovered`);
    expect(listedByA).toBe(1);
    // A owns every key now and serves it.
    expect((await a.engine.get<Product>('products', '7'))?.id).toBe('7');
    expect(a.engine.ownerOf('products', '7')).toBe(a.id);
  });
});

describe('engines discovering each other through NATS, while NATS restarts', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('stay one cluster: no member is lost, and a put on one node is read on the others without a source call', async () => {
    const cluster = await startNatsCluster(server, 3, 'outage');
    const [a, b, c] = cluster as [NatsNode, NatsNode, NatsNode];
    let fewestMembers = 3;
    const sampler = setInterval(() => {
      for (const node of cluster) fewestMembers = Math.min(fewestMembers, node.engine.stats().members);
    }, 25);
    try {
      // Down for twice the heartbeat timeout, then a full grace period after the restart.
      await server.restart(2 * HEARTBEAT_TIMEOUT);
      await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_TIMEOUT + 600));
    } finally {
      clearInterval(sampler);
    }
    expect(fewestMembers).toBe(3);
    for (const node of cluster) {
      expect(node.events.filter((event) => event.type === 'left')).toEqual([]);
      expect(ids(await node.discovery.discoverPeers(new AbortController().signal))).toEqual(
        cluster.map((peer) => peer.id).sort(),
      );
    }
    for (const key of ['31', '32', '33', '34']) {
      await a.engine.put('products', key, { id: key, name: 'written on A after the restart' });
      expect((await b.engine.get<Product>('products', key))?.name).toBe('written on A after the restart');
      expect((await c.engine.get<Product>('products', key))?.name).toBe('written on A after the restart');
      expect(Object.values(callsByNode(cluster, key)).reduce((sum, count) => sum + count, 0)).toBe(0);
    }
  });
});
