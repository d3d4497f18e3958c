// GET_MANY sent straight to a node's peer port, as any client that speaks the protocol can: a
// request of a few kilobytes must not make the owner do unbounded work or build an unbounded
// answer (docs/protocol.md, "Limits"). Before: one GET_MANY repeating a ~900 KB value's key 2,000
// times took an owner from 61 to 3,567 MiB of RSS for an answer it then refused as too large, and
// one of 400,000 keys made 400,000 data-source calls.
import { afterEach, describe, expect, it } from 'vitest';
import { decodeResponseFrame, encodeRequestFrame } from '../../src/transport/frame-codec';
import { decodeHandshakeFrame, encodeHelloFrame } from '../../src/transport/handshake-codec';
import { MAX_GET_MANY_KEYS } from '../../src/transport/transport';
import { Opcode } from '../../src/transport/wire-format';
import { type PeerAddress } from '../../src/transport';
import { createPeerRequestHandler } from '../../src/cluster/peer-request.handler';
import { KeySpace } from '../../src/keyspace/keyspace';
import { resolveKeySpaceConfig } from '../../src/keyspace/keyspace.options';
import { systemClock } from '../../src/util/clock';
import { closeAll, RawSocket } from '../transport/helpers';
import { startCluster, stopAll, type TestNode } from '../support/cluster';

let nodes: Array<TestNode<string>> = [];
afterEach(async () => {
  await closeAll();
  await stopAll(nodes);
  nodes = [];
});

const LARGE = 'x'.repeat(200_000);

/** A raw client of `address` that announced `maxFrameBytes` (1 MiB unless given). */
async function client(address: PeerAddress, maxFrameBytes = 1 << 20): Promise<RawSocket> {
  const raw = await RawSocket.connect(address);
  raw.send(
    encodeHelloFrame({
      maxFrameBytes,
      cluster: 'distcache',
      nodeId: 'raw',
      address: { host: '127.0.0.1', port: 1 },
      incarnation: 'raw-1',
    }),
  );
  expect(decodeHandshakeFrame(await raw.frame()).kind).toBe('welcome');
  return raw;
}

function getMany(id: number, keys: string[]): Buffer {
  return encodeRequestFrame(id, { op: 'getMany', keySpace: 'products', keys, forwarded: false });
}

describe('GET_MANY on the peer port', () => {
  it('loads and encodes a repeated key once, and refuses an answer over the requester limit unbuilt', async () => {
    nodes = await startCluster(1, [
      ['large', LARGE],
      ['a', 'A'],
      ['b', 'B'],
    ]);
    const node = nodes[0] as TestNode<string>;
    const [host, port] = node.id.split(':') as [string, string];
    const raw = await client({ host, port: Number(port) });

    // A small answer with repeats: one result per position, one load per distinct key.
    raw.send(getMany(1, ['a', 'b', 'a', 'a']));
    const small = decodeResponseFrame(await raw.frame(1));
    expect(small.id).toBe(1);
    if (small.response.op !== 'values') throw new Error(`expected values, got ${small.response.op}`);
    const values = small.response.results.map((result) => {
      if (result.found !== true) throw new Error(`expected a value, got ${String(result.found)}`);
      return Buffer.from(result.value).toString('latin1');
    });
    expect(values).toHaveLength(4);
    expect([values[2], values[3]]).toEqual([values[0], values[0]]);
    expect(values[1]).not.toBe(values[0]);
    expect(node.source.callsFor('a')).toBe(1);
    expect(node.source.callsFor('b')).toBe(1);

    // 2,000 repetitions of a 200 KB value: 400 MB that the requester refuses anyway.
    const before = process.resourceUsage().maxRSS;
    raw.send(
      getMany(
        2,
        Array.from({ length: 2000 }, () => 'large'),
      ),
    );
    const refused = decodeResponseFrame(await raw.frame(2));
    expect(refused).toMatchObject({ id: 2, response: { op: 'error', code: 'E_PROTOCOL' } });
    expect(refused.response.op === 'error' && refused.response.message).toMatch(
      /the response of \d+ bytes is over the 1048576 bytes a frame may have on this connection/,
    );
    expect((process.resourceUsage().maxRSS - before) * 1024).toBeLessThan(128 << 20);
    expect(node.source.callsFor('large')).toBe(1);
    // The connection stays, and the same keys once each are answered.
    raw.send(getMany(3, ['large', 'a']));
    expect(decodeResponseFrame(await raw.frame(3)).response.op).toBe('values');
  });

  it('sends no answer larger than the node itself accepts, whatever the requester announced', async () => {
    nodes = await startCluster(1, [['large', LARGE]]);
    const node = nodes[0] as TestNode<string>;
    const [host, port] = node.id.split(':') as [string, string];
    // 1 GiB announced: 4,096 repetitions of a 200 KB value (800 MB) were built before being sent.
    const raw = await client({ host, port: Number(port) }, 1 << 30);
    const before = process.resourceUsage().maxRSS;
    raw.send(
      getMany(
        1,
        Array.from({ length: MAX_GET_MANY_KEYS }, () => 'large'),
      ),
    );
    const refused = decodeResponseFrame(await raw.frame(1));
    expect(refused).toMatchObject({ id: 1, response: { op: 'error', code: 'E_PROTOCOL' } });
    expect(refused.response.op === 'error' && refused.response.message).toMatch(
      /over the 8388608 bytes a frame may have on this connection \(the smaller of the requester's and this node's maxFrameBytes\)/,
    );
    expect((process.resourceUsage().maxRSS - before) * 1024).toBeLessThan(128 << 20);
  });

  it(`answers E_PROTOCOL to more than ${MAX_GET_MANY_KEYS} keys without calling the source, and keeps the connection`, async () => {
    nodes = await startCluster(1, [['a', 'A']]);
    const node = nodes[0] as TestNode<string>;
    const [host, port] = node.id.split(':') as [string, string];
    const raw = await client({ host, port: Number(port) });
    const keys = Array.from({ length: MAX_GET_MANY_KEYS + 1 }, (_, i) => `k${i}`);
    raw.send(getMany(1, keys));
    const refused = decodeResponseFrame(await raw.frame(1));
    expect(refused).toMatchObject({ id: 1, response: { op: 'error', code: 'E_PROTOCOL' } });
    expect(refused.response.op === 'error' && refused.response.message).toContain(
      `GET_MANY of ${MAX_GET_MANY_KEYS + 1} keys, over the limit of ${MAX_GET_MANY_KEYS}`,
    );
    expect(node.source.calls).toHaveLength(0);
    // The limit itself is served.
    raw.send(getMany(2, keys.slice(0, MAX_GET_MANY_KEYS)));
    const served = decodeResponseFrame(await raw.frame(2));
    expect(served.response.op).toBe('values');
    expect(node.source.calls).toHaveLength(MAX_GET_MANY_KEYS);
    expect(raw.frames[0]?.[4]).toBe(Opcode.WELCOME);
  });
});

describe('GET_MANY in the owner request handler', () => {
  it('looks up, loads and encodes a key once however often one request repeats it', async () => {
    const loads: string[] = [];
    const space = new KeySpace(
      resolveKeySpaceConfig(
        {
          name: 'products',
          dataSource: {
            fetch: async (key: string) => {
              loads.push(key);
              return { id: key };
            },
          },
        },
        {},
        'keySpace',
      ),
      { clock: systemClock, lifetime: new AbortController().signal, hotShare: 0, readNow: () => Date.now() },
    );
    const handler = createPeerRequestHandler({
      nodeName: 'owner',
      clock: systemClock,
      maxKeyBytes: 1024,
      spaces: new Map([['products', space as KeySpace]]),
      accepting: () => true,
      dropKeySpace: () => undefined,
    });
    const from = { nodeId: 'asker', address: { host: '127.0.0.1', port: 1 }, incarnation: 'x' };
    const signal = new AbortController().signal;
    // 'held' is in the cache, read here once, so it is held decoded and encoded again per answer.
    expect(await space.load('held', {})).toEqual({ id: 'held' });
    let encoded = 0;
    const wireBytes = space.wireBytes.bind(space);
    space.wireBytes = (key, entry) => {
      encoded += 1;
      return wireBytes(key, entry);
    };
    const reply = await handler(
      {
        op: 'getMany',
        keySpace: 'products',
        keys: ['held', 'new', 'held', 'held', 'new'],
        forwarded: false,
        keyErrors: true,
      },
      from,
      signal,
      {},
    );
    if (reply.op !== 'values') throw new Error(`expected values, got ${reply.op}`);
    expect(reply.results).toHaveLength(5);
    expect(reply.results[2]).toBe(reply.results[0]);
    expect(reply.results[3]).toBe(reply.results[0]);
    expect(reply.results[4]).toBe(reply.results[1]);
    expect(reply.results[0]).not.toBe(reply.results[1]);
    expect(encoded).toBe(2);
    expect(loads).toEqual(['held', 'new']);
  });
});
