// Keys must be well-formed UTF-16 (issue 14). A lone surrogate has no UTF-8 encoding: Node writes
// it as U+FFFD, so 'user\uD800' and 'user\uDC00' would both travel as 'user\uFFFD' and collide (a
// non-owner returns another key's value, a put lands on the wrong key). Both are refused with
// E_INVALID_KEY on every API; and on the peer port, key bytes that are not valid UTF-8 (the
// CESU-8 form of a surrogate, ED A0 80) are refused rather than decoded to U+FFFD and served.
// A 3-node cluster of engines in this process, over real TCP.
import { afterEach, describe, expect, it } from 'vitest';
import type { DistCacheEngine } from '../../src';
import { decodeResponseFrame, encodeRequestFrame } from '../../src/transport/frame-codec';
import { decodeHandshakeFrame, encodeHelloFrame } from '../../src/transport/handshake-codec';
import type { PeerAddress, PeerRequest, PeerResponse } from '../../src/transport';
import { startCluster, stopAll, type TestNode } from '../support/cluster';
import { closeAll, RawSocket } from '../transport/helpers';

interface Item {
  id: string;
}
const data = Array.from({ length: 20 }, (_, index): [string, Item] => [
  `user${index}`,
  { id: `user${index}` },
]);
const LONE = ['user\uD800', 'user\uDC00'];

let nodes: Array<TestNode<Item>> = [];
afterEach(async () => {
  await closeAll();
  await stopAll(nodes);
  nodes = [];
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return String((error as { code?: unknown }).code ?? error);
  }
}

const addressOf = (engine: DistCacheEngine): PeerAddress => {
  const self = engine.peers()[0]!;
  return { host: self.host, port: self.port };
};

/** A raw connection that passed the handshake; sends frames as bytes. */
async function handshaked(target: PeerAddress) {
  const raw = await RawSocket.connect(target);
  raw.send(
    encodeHelloFrame({
      maxFrameBytes: 16 << 20,
      cluster: 'distcache',
      nodeId: 'raw',
      address: { host: '127.0.0.1', port: 1 },
      incarnation: 'raw-1',
    }),
  );
  expect(decodeHandshakeFrame(await raw.frame(0)).kind).toBe('welcome');
  let next = 1;
  return {
    raw,
    /** Sends the request with every `userXYZ` in its bytes turned into `user` + ED A0 80. */
    async requestWithCesuKey(request: PeerRequest): Promise<PeerResponse | 'closed'> {
      const id = next++;
      const frame = Buffer.from(encodeRequestFrame(id, request));
      for (let at = frame.indexOf('userXYZ'); at >= 0; at = frame.indexOf('userXYZ', at + 1)) {
        frame[at + 4] = 0xed;
        frame[at + 5] = 0xa0;
        frame[at + 6] = 0x80;
      }
      raw.send(frame);
      const answer = await Promise.race([raw.frame(id), raw.closed.then(() => 'closed' as const)]);
      return answer === 'closed' ? answer : decodeResponseFrame(answer).response;
    },
  };
}

describe('keys with lone UTF-16 surrogates', () => {
  it('are refused with E_INVALID_KEY by get, getMany, put and delete, on owners and non-owners', async () => {
    nodes = await startCluster(3, data);
    const outcomes: Record<string, string> = {};
    for (const node of nodes) {
      for (const key of LONE) {
        const label = `${node.name} ${JSON.stringify(key)}`;
        outcomes[`${label} get`] = await codeOf(node.engine.get('products', key));
        outcomes[`${label} getMany`] = await codeOf(node.engine.getMany('products', ['user1', key]));
        outcomes[`${label} put`] = await codeOf(node.engine.put('products', key, { id: key }));
        outcomes[`${label} delete`] = await codeOf(node.engine.delete('products', key));
      }
    }
    expect(Object.entries(outcomes).filter(([, code]) => code !== 'E_INVALID_KEY')).toEqual([]);
    // Nothing reached a data source with a replacement character, nothing was stored.
    const sourceKeys = nodes.flatMap((node) => node.source.calls.map((call) => call.key));
    expect(sourceKeys.filter((key) => key.includes('\uFFFD'))).toEqual([]);
    for (const node of nodes) expect(node.engine.stats().keySpaces.products!.items).toBe(0);
  });

  it('do not collide: a value put under one is never read under the other', async () => {
    nodes = await startCluster(3, data);
    // Today both keys travel as 'user\uFFFD': a put of one is then read back under the other.
    // Written through a non-owner, so today the value crosses the wire and lands on 'user\uFFFD'.
    let owner: string | undefined;
    try {
      owner = nodes[0]!.engine.ownerOf('products', LONE[0]!);
    } catch {
      owner = undefined; // ownerOf may refuse the key too
    }
    const writer = nodes.find((node) => node.id !== owner)!;
    await writer.engine.put('products', LONE[0]!, { id: 'first' }).catch(() => undefined);
    const reads = await Promise.all(
      nodes.map((node) =>
        node.engine.get<Item>('products', LONE[1]!).then(
          (value) => JSON.stringify(value ?? null),
          (error: { code?: string }) => error.code,
        ),
      ),
    );
    expect(reads).toEqual(['E_INVALID_KEY', 'E_INVALID_KEY', 'E_INVALID_KEY']);
  });

  it('are refused on the peer port: key bytes that are not UTF-8 are not served as U+FFFD', async () => {
    nodes = await startCluster(3, data);
    const target = nodes[1]!;
    const peer = await handshaked(addressOf(target.engine));
    const keySpace = 'products';
    const key = 'userXYZ';
    const requests: PeerRequest[] = [
      { op: 'get', keySpace, key, forwarded: true },
      { op: 'getMany', keySpace, keys: ['user1', key], forwarded: true },
      { op: 'set', keySpace, key, value: new Uint8Array(8), expiresAt: 0 },
      { op: 'delete', keySpace, key },
      { op: 'deleteMany', keySpace, keys: ['user1', key] },
      { op: 'invalidate', keySpace, keys: [key] },
    ];
    const answers: Record<string, unknown> = {};
    for (const request of requests) {
      const answer = await peer.requestWithCesuKey(request);
      answers[request.op] = answer === 'closed' ? answer : answer.op === 'error' ? answer.code : answer.op;
      if (answer === 'closed') break;
    }
    // An error answer with a key or protocol code for each (or the connection closed on it).
    for (const [op, answer] of Object.entries(answers)) {
      expect(['E_INVALID_KEY', 'E_PROTOCOL', 'closed'], `${op}: ${String(answer)}`).toContain(answer);
    }
    const sourceKeys = target.source.calls.map((call) => call.key);
    expect(sourceKeys.filter((k) => k.includes('\uFFFD'))).toEqual([]);
    expect(target.engine.stats().keySpaces.products!.items).toBe(0);
  });
});
