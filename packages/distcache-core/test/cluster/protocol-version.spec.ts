// A node of another protocol version against real engines: refused at the handshake with an error
// that names both versions, on the side that refuses and on the side that is refused, while the
// nodes that speak the same version go on sharing their data.
import { afterEach, describe, expect, it } from 'vitest';
import { DistCacheEngine, staticDiscovery } from '../../src';
import {
  decodeHandshakeFrame,
  encodeHelloFrame,
  encodeRefuseFrame,
} from '../../src/transport/handshake-codec';
import { PROTOCOL_VERSION, RefuseReason } from '../../src/transport/wire-format';
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
import { closeAll, RawSocket, rawServer, RecordingLogger } from '../transport/helpers';

const catalogue = Array.from({ length: 50 }, (_, index): [string, string] => [
  String(index),
  `product ${index}`,
]);

let nodes: Array<TestNode<string>> = [];
const engines: DistCacheEngine[] = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  await closeAll();
});

describe('protocol version', () => {
  it.each([1, PROTOCOL_VERSION + 1])(
    'refuses a node speaking version %i with a REFUSE naming both versions; the cluster keeps working',
    async (version) => {
      const log = new RecordingLogger();
      nodes = await startCluster(2, catalogue, {}, { logger: log });
      const [a, b] = nodes as [TestNode<string>, TestNode<string>];
      const [host, port] = a.id.split(':') as [string, string];
      const raw = await RawSocket.connect({ host, port: Number(port) });
      raw.send(
        encodeHelloFrame(
          {
            maxFrameBytes: 1 << 20,
            cluster: 'distcache',
            nodeId: 'foreign',
            address: { host: '127.0.0.1', port: 0 },
            incarnation: 'foreign-1',
          },
          version,
        ),
      );
      const expected = `protocol version ${version} is not supported (this node speaks ${PROTOCOL_VERSION})`;
      expect(decodeHandshakeFrame(await raw.frame())).toEqual({
        kind: 'refuse',
        refusal: { version: PROTOCOL_VERSION, reason: RefuseReason.VERSION, message: expected },
      });
      await raw.closed;
      expect(log.warnings.join('\n')).toContain(`(version-mismatch): ${expected}`);
      // The two nodes of our version still share: b reads a key a owns, and only a loads it.
      const key = catalogue.map(([k]) => k).find((k) => ownerOf(nodes, k) === a) as string;
      expect(await b.engine.get('products', key)).toBe(`product ${key}`);
      expect(callsByNode(nodes, key)).toEqual({ [a.name]: 1, [b.name]: 0 });
    },
  );

  it('names both versions when a peer of another version refuses this node', async () => {
    // An older node refuses with its own version in the REFUSE fields and wording of its own.
    const foreign = await rawServer((socket) => {
      socket.send(encodeRefuseFrame(RefuseReason.VERSION, 'unsupported protocol', 1));
      socket.socket.end();
    });
    const [port] = await freePorts(1);
    const log = new RecordingLogger();
    const engine = new DistCacheEngine({
      nodeName: 'current',
      host: '127.0.0.1',
      port,
      discovery: staticDiscovery({ peers: [`127.0.0.1:${port}`, `${foreign.host}:${foreign.port}`] }),
      clusterOptions: FAST_CLUSTER,
      logger: log,
      keySpaces: [{ name: 'products', dataSource: async (key: string) => `local ${key}` }],
    });
    engines.push(engine);
    await engine.start();
    const expected = `(version-mismatch): the peer speaks protocol version 1, this node speaks ${PROTOCOL_VERSION}: unsupported protocol`;
    await waitUntil(
      () => log.warnings.some((line) => line.includes(expected)),
      10_000,
      'the refusal warning',
    );
  });
});
