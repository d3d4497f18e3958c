// Engines in one process that find each other through dnsDiscovery and a real DNS server on a
// loopback port. Assertions are about cross-node effects: which node called its data source, and
// which members each node's ring holds as the records change or DNS fails.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DistCacheEngine, type Logger } from '../../src';
import { type DnsDiscoveryOptions, dnsDiscovery } from '../../src/discovery/dns';
import { RecordingSource } from '../../src/testing';
import { TestDnsServer, type TestSrvRecord } from '../support/dns-server';
import { FAST_CLUSTER, freePorts, keysOwnedByEach, waitUntil } from '../support/cluster';

const SRV = '_distcache._tcp.cache.test';
const NAME = 'cache.test';
const catalogue = Array.from({ length: 50 }, (_, index): [string, string] => [
  String(index),
  `product ${index}`,
]);

interface DnsNode {
  readonly id: string;
  readonly port: number;
  readonly engine: DistCacheEngine;
  readonly source: RecordingSource<string>;
  /** Log lines of discovery failures this engine reported. */
  readonly discoveryFailures: string[];
}

let dns: TestDnsServer;
let nodes: DnsNode[] = [];
beforeEach(async () => {
  dns = await TestDnsServer.start();
});
afterEach(async () => {
  await Promise.all(nodes.map((node) => node.engine.stop()));
  nodes = [];
  await dns.stop();
});

function startNode(host: string, port: number, discovery: DnsDiscoveryOptions): DnsNode {
  const source = new RecordingSource<string>(catalogue);
  const discoveryFailures: string[] = [];
  const noop = (): void => undefined;
  const logger: Logger = {
    debug: noop,
    info: noop,
    error: noop,
    warn: (message) => {
      if (message.startsWith('discovery failed')) discoveryFailures.push(message);
    },
  };
  const engine = new DistCacheEngine({
    nodeName: `node-${host}-${port}`,
    host,
    port,
    discovery: dnsDiscovery({ servers: [dns.address], timeout: 100, tries: 1, ...discovery }),
    clusterOptions: { ...FAST_CLUSTER },
    keySpaces: [{ name: 'products', dataSource: source }],
    logger,
  });
  const node = { id: `${host}:${port}`, port, engine, source, discoveryFailures };
  nodes.push(node);
  return node;
}

const members = (node: DnsNode): string[] =>
  node.engine
    .peers()
    .filter((peer) => peer.status === 'self' || peer.status === 'alive' || peer.status === 'suspect')
    .map((peer) => peer.id)
    .sort();

const membersEverywhere = (expected: readonly DnsNode[]) => () =>
  expected.every(
    (node) =>
      node.engine.stats().members === expected.length &&
      JSON.stringify(members(node)) === JSON.stringify(expected.map((n) => n.id).sort()),
  );

/** Three nodes on 127.0.0.1, listed by SRV records whose targets are per-node names. */
async function srvCluster(): Promise<DnsNode[]> {
  const ports = await freePorts(3);
  const records: TestSrvRecord[] = ports.map((port, index) => ({ target: `node-${index}.${NAME}`, port }));
  dns.setSrv(SRV, records);
  for (const record of records) dns.setA(record.target, ['127.0.0.1']);
  const started = ports.map((port) => startNode('127.0.0.1', port, { srv: SRV }));
  await Promise.all(started.map((node) => node.engine.start()));
  await waitUntil(membersEverywhere(started), 5_000, 'three members on every node');
  return started;
}

describe('a cluster found through DNS', () => {
  it('assembles from SRV records, loads a cold key once on its owner, and drops a node whose record goes', async () => {
    const [a, b, c] = (await srvCluster()) as [DnsNode, DnsNode, DnsNode];
    const keys = keysOwnedByEach((key) => a.engine.ownerOf('products', key), 3);
    for (const key of keys) {
      for (const node of nodes) expect(await node.engine.get('products', key)).toBe(`product ${key}`);
      const owner = a.engine.ownerOf('products', key);
      expect(nodes.map((node) => node.engine.ownerOf('products', key))).toEqual([owner, owner, owner]);
      expect(nodes.map((node) => node.source.callsFor(key))).toEqual(
        nodes.map((node) => (node.id === owner ? 1 : 0)),
      );
    }
    expect(new Set(keys.map((key) => a.engine.ownerOf('products', key))).size).toBe(3);

    // C's record goes (a pod no longer ready): A and B drop it although it still answers pings.
    dns.setSrv(SRV, [
      { target: `node-0.${NAME}`, port: a.port },
      { target: `node-1.${NAME}`, port: b.port },
    ]);
    await waitUntil(membersEverywhere([a, b]), 5_000, 'C dropped by A and B');
    for (const key of catalogue.map(([k]) => k)) {
      expect([a.engine.ownerOf('products', key), b.engine.ownerOf('products', key)]).not.toContain(c.id);
    }
  });

  it('follows A records as they add and remove members (one port, one address per node)', async () => {
    // Loopback has all of 127/8: each node gets its own address and the same port, as pods do.
    const [port] = (await freePorts(1)) as [number];
    dns.setA(NAME, ['127.0.0.1', '127.0.0.2']);
    const discovery = { name: NAME, port };
    const [first, second, third] = ['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((host) =>
      startNode(host, port, discovery),
    ) as [DnsNode, DnsNode, DnsNode];
    await Promise.all([first.engine.start(), second.engine.start()]);
    await waitUntil(membersEverywhere([first, second]), 5_000, 'two members');

    await third.engine.start(); // running, but not in DNS yet: nobody lists it, and it lists the others
    dns.setA(NAME, ['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    await waitUntil(membersEverywhere([first, second, third]), 5_000, 'third node added');

    dns.setA(NAME, ['127.0.0.1', '127.0.0.3']);
    await waitUntil(membersEverywhere([first, third]), 5_000, 'second node removed');
    expect(first.engine.ownerOf('products', '1')).not.toBe(second.id);
  });

  it('keeps its members while DNS times out or is down, and reports E_DISCOVERY_FAILED meanwhile', async () => {
    await srvCluster();
    // Repeated identical failures are logged once a minute; each new kind of failure at once.
    let baseline = nodes.map((node) => node.discoveryFailures.length);
    const failedTwiceMore = () =>
      nodes.every((node, index) => node.discoveryFailures.length >= baseline[index]! + 1);

    dns.mode = 'silent';
    await waitUntil(failedTwiceMore, 5_000, 'discovery timing out on every node');
    expect(membersEverywhere(nodes)()).toBe(true);
    const probe = dnsDiscovery({ srv: SRV, servers: [dns.address], timeout: 100, tries: 1 });
    await expect(probe.discoverPeers(new AbortController().signal)).rejects.toMatchObject({
      code: 'E_DISCOVERY_FAILED',
    });

    baseline = nodes.map((node) => node.discoveryFailures.length);
    await dns.stop();
    await waitUntil(failedTwiceMore, 5_000, 'discovery refused on every node');
    expect(membersEverywhere(nodes)()).toBe(true);
    await expect(probe.discoverPeers(new AbortController().signal)).rejects.toMatchObject({
      code: 'E_DISCOVERY_FAILED',
    });
    await probe.close();
  });

  it('starts while DNS fails, alone, and assembles once DNS answers', async () => {
    const ports = await freePorts(2);
    dns.setSrv(
      SRV,
      ports.map((port) => ({ target: '127.0.0.1', port })),
    );
    dns.mode = 'servfail';
    const started = ports.map((port) => startNode('127.0.0.1', port, { srv: SRV }));
    await Promise.all(started.map((node) => node.engine.start()));
    expect(started.map((node) => node.engine.stats().members)).toEqual([1, 1]);
    expect(started.every((node) => node.discoveryFailures.length > 0)).toBe(true);
    dns.mode = 'answer';
    await waitUntil(membersEverywhere(started), 5_000, 'both members once DNS answers');
  });
});
