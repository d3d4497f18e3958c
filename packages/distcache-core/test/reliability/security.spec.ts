// Security of the peer port (issue 10): who is refused, how it shows, and what a peer that passed
// the handshake can and cannot do. Every refusal is checked from both sides (the bad node dials the
// cluster, and the cluster, finding it through discovery, dials the bad node), with the typed error
// the dialling side gets and the warning the accepting side logs, and ends by checking that the
// cluster still shares data. Trust model and figures: docs/reliability.md, "Security".
import { serialize } from 'node:v8';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type DiscoveredPeer,
  type DiscoveryProvider,
  DistCacheEngine,
  type DistCacheEngineOptions,
  jsonCodec,
  type KeySpaceDefinition,
  type PeerTlsOptions,
  tcpPeerTransport,
} from '../../src';
import { decodeResponseFrame, encodeRequestFrame } from '../../src/transport/frame-codec';
import { decodeHandshakeFrame, encodeHelloFrame } from '../../src/transport/handshake-codec';
import type { PeerAddress, PeerRequest, PeerResponse } from '../../src/transport';
import { createTestPki, type TestPki } from '../support/certs';
import { FAST_CLUSTER, freePorts, startCluster, stopAll, type TestNode, waitUntil } from '../support/cluster';
import { closeAll, RawSocket, RecordingLogger } from '../transport/helpers';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.cleanup());

interface Item {
  id: string;
}
const data = Array.from({ length: 50 }, (_, index): [string, Item] => [String(index), { id: String(index) }]);

let nodes: Array<TestNode<Item>> = [];
/** Everything the cluster nodes logged (one logger for the three). */
let log: RecordingLogger;
let registry: Registry;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await closeAll();
  await stopAll(nodes);
  nodes = [];
});

/**
 * Discovery through a shared in-memory list that every node registers in: the cluster finds an
 * intruder as soon as it starts, so both directions of every connection are exercised.
 */
interface Registry extends DiscoveryProvider {
  readonly peers: Map<string, DiscoveredPeer>;
}
function memoryRegistry(): Registry {
  const peers = new Map<string, DiscoveredPeer>();
  return {
    name: 'memory',
    peers,
    initialize: async () => undefined,
    register: async (self) => void peers.set(`${self.host}:${self.port}`, self),
    discoverPeers: async () => [...peers.values()],
    deregister: async () => undefined,
    close: async () => undefined,
  };
}

const clusterTls = (): PeerTlsOptions => ({ ca: pki.ca, ...pki.nodeA });

/** A 3-node cluster discovering through {@link registry}, logging into {@link log}. */
async function cluster(
  options: Partial<DistCacheEngineOptions> = {},
  keySpace: Partial<KeySpaceDefinition<Item>> = {},
): Promise<void> {
  log = new RecordingLogger();
  registry = memoryRegistry();
  nodes = await startCluster(3, data, keySpace, { discovery: registry, logger: log, ...options });
}

/** An engine that tries to join the cluster through the same registry. */
async function intruder(options: Partial<DistCacheEngineOptions>): Promise<DistCacheEngine> {
  const [port] = await freePorts(1);
  const engine = new DistCacheEngine({
    nodeName: 'intruder',
    host: '127.0.0.1',
    port,
    discovery: registry,
    clusterOptions: FAST_CLUSTER,
    keySpaces: [{ name: 'products' }],
    ...options,
  });
  cleanups.push(() => engine.stop());
  await engine.start();
  return engine;
}

/** Gives the cluster time to discover the intruder and both sides several ping rounds. */
const discoveryAndPings = () =>
  new Promise((resolve) => setTimeout(resolve, FAST_CLUSTER.discoveryInterval + 400));

/** Neither side put the other on its ring: the intruder sees only itself, the nodes stay three. */
function refusedBothWays(bad: DistCacheEngine): void {
  expect(bad.stats().members).toBe(1);
  const badId = bad.peers()[0]!.id;
  for (const node of nodes) {
    expect(node.engine.stats().members).toBe(3);
    expect(node.engine.peers().find((peer) => peer.id === badId)?.status, node.name).toBe('pending');
  }
}

/** The cluster still shares data: a put on the first node is read on the last without a source call. */
async function clusterStillWorks(key: string): Promise<void> {
  await nodes[0]!.engine.put('products', key, { id: `fresh ${key}` });
  expect(await nodes[2]!.engine.get('products', key)).toEqual({ id: `fresh ${key}` });
  expect(nodes.every((node) => node.source.callsFor(key) === 0)).toBe(true);
  expect(nodes.every((node) => node.engine.stats().members === 3)).toBe(true);
}

/** One request from a bare transport with the given settings; resolves with the error it failed with. */
async function dialFails(
  address: PeerAddress,
  options: { tls?: PeerTlsOptions; cluster?: string } = {},
): Promise<{ code: string; reason: unknown; cause: { code?: string; message?: string } | undefined }> {
  const client = tcpPeerTransport({ nodeId: 'probe', reconnect: { jitter: 0 }, ...options });
  cleanups.push(() => client.close());
  try {
    const answer = await client.request(address, { op: 'ping' }, { timeoutMs: 3000 });
    throw new Error(`expected a refusal, got ${JSON.stringify(answer)}`);
  } catch (error) {
    const failure = error as {
      code: string;
      details: Record<string, unknown>;
      cause?: Error & { code?: string };
    };
    return { code: failure.code, reason: failure.details?.['reason'], cause: failure.cause };
  }
}

const addressOf = (engine: DistCacheEngine): PeerAddress => {
  const self = engine.peers()[0]!;
  return { host: self.host, port: self.port };
};
const warnings = (pattern: RegExp) => () => log.warnings.some((line) => pattern.test(line));

describe('mutual TLS: a node without valid credentials is refused both ways', () => {
  it('forms a cluster over TLS and shares data across nodes', async () => {
    await cluster({ tls: clusterTls() });
    await clusterStillWorks('1');
    const key = data.map(([k]) => k).find((k) => nodes[0]!.engine.ownerOf('products', k) !== nodes[0]!.id)!;
    await nodes[0]!.engine.get('products', key);
    expect(nodes[0]!.engine.stats().keySpaces.products!.peerLoads).toBe(1);
  });

  it('refuses a node whose certificate comes from another CA', async () => {
    await cluster({ tls: clusterTls() });
    // It trusts the cluster CA (so it does send its certificate), but its own comes from another.
    const stranger = await intruder({ tls: { ca: pki.ca, ...pki.stranger } });
    await discoveryAndPings();
    refusedBothWays(stranger);
    // Its client certificate is refused, by name, with its address...
    await waitUntil(
      warnings(
        /^refused tls connection from 127\.0\.0\.1:\d+: client certificate not accepted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/,
      ),
      3000,
      'the warning',
    );
    // ...and a node of the cluster dialling it does not accept its certificate.
    const failure = await dialFails(addressOf(stranger), { tls: clusterTls() });
    expect(failure).toMatchObject({ code: 'E_PEER_UNAVAILABLE', reason: 'connect-failed' });
    expect(failure.cause?.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    await clusterStillWorks('2');
  });

  it('refuses a node whose certificate (from the cluster CA) has expired', async () => {
    await cluster({ tls: clusterTls() });
    const expired = await intruder({ tls: { ca: pki.ca, ...pki.expired } });
    await discoveryAndPings();
    refusedBothWays(expired);
    await waitUntil(
      warnings(
        /^refused tls connection from 127\.0\.0\.1:\d+: client certificate not accepted \(CERT_HAS_EXPIRED\)$/,
      ),
      3000,
      'the warning',
    );
    const failure = await dialFails(addressOf(expired), { tls: clusterTls() });
    expect(failure).toMatchObject({ code: 'E_PEER_UNAVAILABLE', reason: 'connect-failed' });
    expect(failure.cause).toMatchObject({ code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' });
    await clusterStillWorks('3');
  });

  it('does not route to a node whose certificate names another host, when peers are dialled by name', async () => {
    // Peers advertise "localhost": the default hostnameCheck ('dns-only') checks DNS names.
    await cluster({ tls: clusterTls(), advertiseHost: 'localhost' });
    const misnamedLog = new RecordingLogger();
    const misnamed = await intruder({
      tls: { ca: pki.ca, ...pki.wrongName },
      advertiseHost: 'localhost',
      logger: misnamedLog,
    });
    await discoveryAndPings();
    const misnamedId = misnamed.peers()[0]!.id;
    for (const node of nodes) {
      expect(node.engine.stats().members).toBe(3);
      expect(node.engine.peers().find((peer) => peer.id === misnamedId)?.status).toBe('pending');
    }
    const failure = await dialFails(addressOf(misnamed), { tls: clusterTls() });
    expect(failure).toMatchObject({ code: 'E_PEER_UNAVAILABLE', reason: 'connect-failed' });
    expect(failure.cause?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(failure.cause?.message).toMatch(
      /Host: localhost\. is not in the cert's altnames: DNS:wrong-node\.invalid/,
    );
    // The accepting side checks the chain only (the trust model: a certificate of the cluster CA is
    // a member's credential, whatever its name), so the misnamed node may still send requests as a
    // client; the cluster never sends it any, and never gives it keys.
    expect(misnamed.stats().members).toBe(4);
    // What the misnamed node logs when the cluster gives up on its certificate.
    await waitUntil(
      () =>
        misnamedLog.warnings.some((line) =>
          /: the client ended the TLS handshake \(does it accept/.test(line),
        ),
      3000,
      'the warning of the misnamed node',
    );
    await clusterStillWorks('4');
  });

  it('refuses a plaintext node on the TLS port', async () => {
    await cluster({ tls: clusterTls() });
    const plain = await intruder({});
    await discoveryAndPings();
    refusedBothWays(plain);
    await waitUntil(
      warnings(/^refused tls connection from 127\.0\.0\.1:\d+: not a TLS client \(a peer without tls\?\)$/),
      3000,
      'the warning',
    );
    const failure = await dialFails(addressOf(nodes[1]!.engine));
    expect(failure).toMatchObject({ code: 'E_PEER_UNAVAILABLE' });
    await clusterStillWorks('5');
  });

  it('refuses a TLS node on a plaintext port', async () => {
    await cluster();
    const tlsNode = await intruder({ tls: clusterTls() });
    await discoveryAndPings();
    refusedBothWays(tlsNode);
    await waitUntil(
      warnings(
        /^dropping peer connection from 127\.0\.0\.1:\d+: .*over the limit of 65536 bytes \(the bytes are a TLS handshake: the peer uses tls and this node does not\)$/,
      ),
      3000,
      'the warning',
    );
    const failure = await dialFails(addressOf(nodes[1]!.engine), { tls: clusterTls() });
    expect(failure).toMatchObject({ code: 'E_PEER_UNAVAILABLE', reason: 'connect-failed' });
    expect(failure.cause?.code).toBe('ECONNRESET');
    await clusterStillWorks('6');
  });
});

describe('handshake: another cluster, garbage', () => {
  it('refuses a node of another cluster name, both ways, with E_PROTOCOL cluster-mismatch', async () => {
    await cluster();
    const other = await intruder({ cluster: 'another-cluster' });
    await discoveryAndPings();
    refusedBothWays(other);
    await waitUntil(
      warnings(/^refused peer connection from 127\.0\.0\.1:\d+ \(cluster-mismatch\): /),
      3000,
      'the server warning',
    );
    await waitUntil(
      warnings(/^peer 127\.0\.0\.1:\d+ refused our handshake \(cluster-mismatch\)/),
      3000,
      'the client warning',
    );
    const failure = await dialFails(addressOf(nodes[0]!.engine), { cluster: 'another-cluster' });
    expect(failure).toMatchObject({ code: 'E_PROTOCOL', reason: 'cluster-mismatch' });
    await clusterStillWorks('7');
  });

  it('survives garbage bytes and a silent connection on the peer port', async () => {
    await cluster();
    const address = addressOf(nodes[1]!.engine);
    const garbage = await RawSocket.connect(address);
    garbage.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(50)));
    const silent = await RawSocket.connect(address);
    await garbage.closed;
    expect(log.warnings.some((line) => line.endsWith('(the bytes are an HTTP request)'))).toBe(true);
    await clusterStillWorks('8');
    silent.close();
    await waitUntil(() => nodes.every((node) => node.engine.stats().members === 3), 2_000, 'members');
  });
});

// ---------------------------------------------------------------------------------------------
// A client that passed the handshake

/** A raw connection that completed the handshake with `target`, advertising `as`. */
async function handshaked(target: PeerAddress, as: PeerAddress = { host: '127.0.0.1', port: 1 }) {
  const raw = await RawSocket.connect(target);
  raw.send(
    encodeHelloFrame({
      maxFrameBytes: 16 << 20,
      cluster: 'distcache',
      nodeId: 'raw',
      address: as,
      incarnation: 'raw-1',
    }),
  );
  expect(decodeHandshakeFrame(await raw.frame(0)).kind).toBe('welcome');
  let next = 1;
  return {
    raw,
    /** Sends one request and resolves with its answer. */
    async request(request: PeerRequest): Promise<PeerResponse> {
      const id = next++;
      raw.send(encodeRequestFrame(id, request));
      const answer = decodeResponseFrame(await raw.frame(id));
      expect(answer.id).toBe(id);
      return answer.response;
    },
  };
}

describe('what a peer that passed the handshake cannot do', () => {
  it('cannot make a node drop a live member with a forged LEAVE; a real leave still drops at once', async () => {
    await cluster();
    const [a, b, c] = nodes as [TestNode<Item>, TestNode<Item>, TestNode<Item>];
    const events: string[] = [];
    a.engine.on('peer', (event) => events.push(`${event.type} ${event.peer.id}`));
    // The forger advertises b's address, then announces "its" departure to a.
    const forger = await handshaked(addressOf(a.engine), addressOf(b.engine));
    expect(await forger.request({ op: 'leave' })).toEqual({ op: 'ok' });
    expect(a.engine.peers().find((peer) => peer.id === b.id)?.status).toBe('alive');
    expect(a.engine.stats().members).toBe(3);
    expect(events).toEqual([]);
    expect(log.warnings).toContain(`ignored a leave notice for peer ${b.id}: it still answers pings`);
    // A node that really stops is still off the others' rings by the time its stop() resolves.
    await c.engine.stop();
    expect(a.engine.stats().members).toBe(2);
    expect(b.engine.stats().members).toBe(2);
    expect(events).toEqual([`left ${c.id}`]);
    await nodes[0]!.engine.put('products', 'after', { id: 'after' });
    expect(await b.engine.get('products', 'after')).toEqual({ id: 'after' });
  });

  it('cannot pass keys over maxKeyBytes or values over maxValueBytes through the peer port', async () => {
    await cluster({ maxKeyBytes: 64 }, { maxValueBytes: 1024 });
    const target = nodes[1]!;
    const peer = await handshaked(addressOf(target.engine));
    const long = 'k'.repeat(65);
    const invalidKey = { op: 'error', code: 'E_INVALID_KEY' };
    const keySpace = 'products';
    const requests: PeerRequest[] = [
      { op: 'get', keySpace, key: long, forwarded: true },
      { op: 'getMany', keySpace, keys: ['1', long], forwarded: true },
      { op: 'set', keySpace, key: long, value: new Uint8Array(8), expiresAt: 0 },
    ];
    for (const request of requests) {
      expect(await peer.request(request), request.op).toMatchObject(invalidKey);
    }
    // A removal of a key this node cannot hold is done (nothing to remove): refusing it kept a
    // writer with a larger limit owing it for ever, with this node off its ring
    // (test/cluster/unequal-limits.spec.ts). The key still reaches nothing.
    const removals: PeerRequest[] = [
      { op: 'delete', keySpace, key: long },
      { op: 'deleteMany', keySpace, keys: ['1', long] },
      { op: 'invalidate', keySpace, keys: [long] },
    ];
    for (const request of removals)
      expect(await peer.request(request), request.op).toMatchObject({ op: 'ok' });
    expect(
      await peer.request({ op: 'set', keySpace, key: 'big', value: new Uint8Array(1025), expiresAt: 0 }),
    ).toMatchObject({ op: 'error', code: 'E_VALUE_TOO_LARGE' });
    // Nothing reached the source or the storage; the key at the limit still works.
    expect(target.source.calls.map((call) => call.key.length)).toEqual([]);
    expect(target.engine.stats().keySpaces.products!.items).toBe(0);
    expect(await peer.request({ op: 'get', keySpace, key: 'k'.repeat(64), forwarded: true })).toMatchObject({
      op: 'value',
      result: { found: false },
    });
    // A frame over the node's maxFrameBytes (default 8 MiB) closes the connection, unread.
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE((8 << 20) + 1, 0);
    peer.raw.send(prefix);
    await peer.raw.closed;
    expect(
      log.warnings.some((line) => /frame length 8388609 is over the limit of 8388608 bytes/.test(line)),
    ).toBe(true);
    await clusterStillWorks('9');
  });

  it('cannot inject a prototype through JSON or structured values it stores on the owner', async () => {
    await cluster();
    for (const node of nodes) node.engine.addKeySpace({ name: 'json', codec: jsonCodec() });
    const polluting =
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},' +
      '"nested":{"__proto__":{"polluted":1},"\\u005f_proto__":{"polluted":1}},"list":[{"__proto__":{"polluted":1}}],"ok":1}';
    const structured = serialize(JSON.parse('{"__proto__":{"polluted":1},"ok":1}'));
    const owner = (keySpace: string, key: string) =>
      nodes.find((node) => node.id === nodes[0]!.engine.ownerOf(keySpace, key))!;
    const reader = (ownerNode: TestNode<Item>) => nodes.find((node) => node !== ownerNode)!;

    for (const [keySpace, bytes] of [
      ['json', new TextEncoder().encode(polluting)],
      ['products', new Uint8Array(structured)],
    ] as const) {
      const key = `evil-${keySpace}`;
      const ownerNode = owner(keySpace, key);
      const peer = await handshaked(addressOf(ownerNode.engine));
      expect(await peer.request({ op: 'set', keySpace, key, value: bytes, expiresAt: 0 })).toEqual({
        op: 'ok',
      });
      // Read on the owner (its storage) and on another node (the value crosses the wire again).
      for (const node of [ownerNode, reader(ownerNode)]) {
        const value = (await node.engine.get(keySpace, key)) as Record<string, unknown>;
        expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
        expect(Object.prototype).not.toHaveProperty('polluted');
        if (keySpace === 'json') {
          expect(value).toEqual({ nested: {}, list: [{}], ok: 1 });
          expect(Object.keys(value)).toEqual(['nested', 'list', 'ok']);
          expect(Object.getOwnPropertyNames(value['nested'])).toEqual([]);
        } else {
          // The structured codec keeps an own "__proto__" data property (as it was stored); it never
          // sets a prototype.
          expect(Object.getOwnPropertyNames(value)).toEqual(['__proto__', 'ok']);
        }
      }
    }
    await clusterStillWorks('10');
  });
});
