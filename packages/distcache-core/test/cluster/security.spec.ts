// Mutual TLS between peers, and the ways a wrong peer is refused without disturbing the cluster:
// a certificate from another CA, plaintext on a TLS port, another cluster name, garbage bytes.
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DistCacheEngine, staticDiscovery } from '../../src';
import { createTestPki, type TestPki } from '../support/certs';
import { FAST_CLUSTER, freePorts, startCluster, stopAll, type TestNode, waitUntil } from '../support/cluster';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.cleanup());

let nodes: Array<TestNode<{ id: string }>> = [];
const extra: DistCacheEngine[] = [];
afterEach(async () => {
  await Promise.all(extra.splice(0).map((engine) => engine.stop()));
  await stopAll(nodes);
  nodes = [];
});

const data = Array.from({ length: 50 }, (_, index): [string, { id: string }] => [
  String(index),
  { id: String(index) },
]);

/** An engine that tries to join `nodes` with the given settings. */
async function intruder(
  options: Partial<ConstructorParameters<typeof DistCacheEngine>[0]>,
): Promise<DistCacheEngine> {
  const [port] = await freePorts(1);
  const engine = new DistCacheEngine({
    nodeName: 'intruder',
    host: '127.0.0.1',
    port,
    discovery: staticDiscovery({ peers: nodes.map((node) => node.id) }),
    clusterOptions: FAST_CLUSTER,
    keySpaces: [{ name: 'products' }],
    ...options,
  });
  extra.push(engine);
  await engine.start();
  return engine;
}

/** The cluster still shares data: a put on the first node is read on the last without a source call. */
async function clusterStillWorks(key: string): Promise<void> {
  await nodes[0]!.engine.put('products', key, { id: `fresh ${key}` });
  expect(await nodes.at(-1)!.engine.get('products', key)).toEqual({ id: `fresh ${key}` });
  expect(nodes.every((node) => node.source.callsFor(key) === 0)).toBe(true);
  expect(nodes.every((node) => node.engine.stats().members === nodes.length)).toBe(true);
}

/** Gives an intruder a few ping rounds to (fail to) join. */
const pingRounds = () => new Promise((resolve) => setTimeout(resolve, FAST_CLUSTER.pingInterval * 6));

describe('mutual TLS cluster', () => {
  it('forms a cluster over TLS and shares data across nodes', async () => {
    nodes = await startCluster(3, data, {}, { tls: { ca: pki.ca, ...pki.nodeA } });
    await clusterStillWorks('1');
    const key = data.map(([k]) => k).find((k) => nodes[0]!.engine.ownerOf('products', k) !== nodes[0]!.id)!;
    await nodes[0]!.engine.get('products', key);
    expect(nodes[0]!.engine.stats().keySpaces.products!.peerLoads).toBe(1);
  });

  it('refuses a peer whose certificate comes from another CA', async () => {
    nodes = await startCluster(3, data, {}, { tls: { ca: pki.ca, ...pki.nodeA } });
    const stranger = await intruder({ tls: { ca: pki.otherCa, ...pki.stranger } });
    await pingRounds();
    expect(stranger.stats().members).toBe(1);
    await clusterStillWorks('2');
  });

  it('refuses a plaintext peer on the TLS port', async () => {
    nodes = await startCluster(3, data, {}, { tls: { ca: pki.ca, ...pki.nodeA } });
    const plain = await intruder({});
    await pingRounds();
    expect(plain.stats().members).toBe(1);
    await clusterStillWorks('3');
  });
});

describe('refusals without TLS', () => {
  it('refuses a peer of another cluster name', async () => {
    nodes = await startCluster(3, data);
    const other = await intruder({ cluster: 'another-cluster' });
    await pingRounds();
    expect(other.stats().members).toBe(1);
    await clusterStillWorks('4');
  });

  it('survives garbage bytes and a silent connection on the peer port', async () => {
    nodes = await startCluster(3, data);
    const port = Number(nodes[1]!.id.split(':')[1]);
    const garbage = connect(port, '127.0.0.1', () =>
      garbage.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(50))),
    );
    const silent = connect(port, '127.0.0.1');
    const closed = new Promise((resolve) => garbage.once('close', resolve));
    garbage.on('error', () => undefined);
    silent.on('error', () => undefined);
    await closed;
    await clusterStillWorks('5');
    silent.destroy();
    await waitUntil(() => nodes.every((node) => node.engine.stats().members === 3), 2_000, 'members');
  });
});
