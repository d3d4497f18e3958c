import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DistCacheError } from '../../src/errors';
import type { PeerIdentity, PeerRequest, PeerRequestMeta, PeerResponse } from '../../src/transport';
import { FrameReader } from '../../src/transport/frame-reader';
import { closeAll, RecordingLogger, rejection, server, transport } from './helpers';

afterEach(closeAll);

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** Whole frames in `chunk`, read by the transport's own framing; `chunk` must end on a frame. */
function framesIn(chunk: Buffer): number {
  const reader = new FrameReader(
    1 << 30,
    () => undefined,
    (error) => {
      throw error;
    },
  );
  reader.push(chunk);
  expect(reader.partial).toBe(false);
  return reader.framesRead;
}

/** A client connected to a fresh server (one ping answered), and a spy on socket writes from now. */
async function connectedWithWriteSpy() {
  const { address } = await server();
  const client = transport();
  await client.request(address, { op: 'ping' }, { timeoutMs: 5000 });
  return { address, client, write: vi.spyOn(net.Socket.prototype, 'write') };
}

describe('multiplexing over one persistent connection', () => {
  it('answers 1000 concurrent requests with out-of-order replies over one connection', async () => {
    const held: Array<{ key: string; release: (response: PeerResponse) => void }> = [];
    const signals = new Set<AbortSignal>();
    const { address } = await server(
      (request, _from, signal) =>
        new Promise<PeerResponse>((release) => {
          signals.add(signal);
          held.push({ key: request.op === 'get' ? request.key : '?', release });
          // Once all have arrived, answer in a shuffled order (last first, then odd, then even).
          if (held.length === 1000) {
            const order = [...held].reverse();
            const shuffled = [...order.filter((_, i) => i % 2 === 1), ...order.filter((_, i) => i % 2 === 0)];
            for (const { key, release: answer } of shuffled) {
              answer({ op: 'value', result: { found: true, value: text(`value of ${key}`), expiresAt: 7 } });
            }
          }
        }),
    );
    const logger = new RecordingLogger();
    const client = transport({ logger });
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        client.request(
          address,
          { op: 'get', keySpace: 'ks', key: `k${i}`, forwarded: false },
          { timeoutMs: 10_000 },
        ),
      ),
    );
    replies.forEach((reply, i) => {
      expect(reply.op === 'value' && reply.result.found && new TextDecoder().decode(reply.result.value)).toBe(
        `value of k${i}`,
      );
    });
    // One connection: every request shared one handler signal, and the client connected once.
    expect(signals.size).toBe(1);
    expect(logger.lines.filter((line) => line.message.startsWith('connected to peer'))).toHaveLength(1);
  });

  it('coalesces the requests issued in one tick into one socket write', async () => {
    const { address, client, write } = await connectedWithWriteSpy();
    try {
      const replies = Array.from({ length: 100 }, () =>
        client.request(address, { op: 'ping' }, { timeoutMs: 5000 }),
      );
      expect(write).not.toHaveBeenCalled();
      await Promise.resolve();
      expect(write).toHaveBeenCalledTimes(1);
      write.mockRestore();
      expect(await Promise.all(replies)).toHaveLength(100);
    } finally {
      write.mockRestore();
    }
  });

  it('writes a sendNow request at once, with the requests of the tick queued before it', async () => {
    const { address, client, write } = await connectedWithWriteSpy();
    try {
      const earlier = Array.from({ length: 10 }, () =>
        client.request(address, { op: 'ping' }, { timeoutMs: 5000 }),
      );
      expect(write).not.toHaveBeenCalled();
      const now = client.request(
        address,
        { op: 'getMany', keySpace: 'ks', keys: ['a', 'b'], forwarded: true },
        { timeoutMs: 5000, sendNow: true },
      );
      // Written before this synchronous code ends: the ten pings and the batch in one write.
      expect(write).toHaveBeenCalledTimes(1);
      expect(framesIn(write.mock.calls[0]?.[0] as Buffer)).toBe(11);
      const later = client.request(address, { op: 'ping' }, { timeoutMs: 5000 });
      expect(write).toHaveBeenCalledTimes(1);
      await Promise.resolve();
      // The request after it waits for the end of the tick as usual.
      expect(write).toHaveBeenCalledTimes(2);
      write.mockRestore();
      expect(await Promise.all([...earlier, later])).toHaveLength(11);
      expect(await now).toMatchObject({ op: 'pong' });
    } finally {
      write.mockRestore();
    }
  });

  it('writes the answer to the first request of a read before it starts the others', async () => {
    // Pipelining: the requester decodes the first answer while the server works on the rest.
    const events: string[] = [];
    const { address } = await server(async (request) => {
      events.push(`start ${request.op === 'get' ? request.key : request.op}`);
      return { op: 'value', result: { found: true, value: text('v'), expiresAt: 0 } };
    });
    const client = transport();
    await client.request(address, { op: 'ping' }, { timeoutMs: 5000 });
    events.length = 0;
    const original = net.Socket.prototype.write;
    vi.spyOn(net.Socket.prototype, 'write').mockImplementation(function (
      this: net.Socket,
      ...args: Parameters<net.Socket['write']>
    ) {
      if (this.localPort === address.port) events.push('server write');
      return (original as (...a: unknown[]) => boolean).apply(this, args);
    });
    try {
      // Three requests in one tick: one client write, read by the server in one chunk.
      const replies = ['a', 'b', 'c'].map((key) =>
        client.request(address, { op: 'get', keySpace: 'ks', key, forwarded: true }, { timeoutMs: 5000 }),
      );
      expect(await Promise.all(replies)).toHaveLength(3);
    } finally {
      vi.restoreAllMocks();
    }
    expect(events).toEqual(['start a', 'server write', 'start b', 'start c', 'server write']);
  });

  it('starts none of the requests already read once a handler closes the server', async () => {
    // A node stopping from inside a handler: the requests read in the same chunk behind it must not
    // reach the node's handler after it began closing. Here the second of three closes: the first
    // starts at once, the other two together after its answer is written.
    const started: string[] = [];
    let closing: Promise<void> | undefined;
    const { server: listener, address } = await server(async (request) => {
      const key = request.op === 'get' ? request.key : request.op;
      started.push(key);
      if (key === 'b') closing = listener.close();
      return { op: 'value', result: { found: true, value: text('v'), expiresAt: 0 } };
    });
    const client = transport();
    await client.request(address, { op: 'ping' }, { timeoutMs: 5000 });
    started.length = 0;
    const replies = ['a', 'b', 'c'].map((key) =>
      client.request(address, { op: 'get', keySpace: 'ks', key, forwarded: true }, { timeoutMs: 5000 }),
    );
    const settled = await Promise.allSettled(replies);
    await closing;
    expect(started).toEqual(['a', 'b']);
    expect(settled[0]!.status).toBe('fulfilled');
    // The one that never started fails as the connection closes, with the peer-unavailable code.
    for (const outcome of settled.slice(2)) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(DistCacheError);
      expect(((outcome as PromiseRejectedResult).reason as DistCacheError).code).toBe('E_PEER_UNAVAILABLE');
    }
  });

  it('carries every op, the meta map and the sender identity', async () => {
    const seen: Array<{ request: PeerRequest; from: PeerIdentity; meta: PeerRequestMeta }> = [];
    const { address } = await server(async (request, from, _signal, meta) => {
      seen.push({ request, from, meta });
      switch (request.op) {
        case 'get':
          return {
            op: 'value',
            result: { found: request.forwarded, value: text(request.key), expiresAt: 1 },
          };
        case 'getMany':
          return {
            op: 'values',
            results: request.keys.map((key) => ({ found: true, value: text(key), expiresAt: 0 })),
          };
        case 'ping':
          return { op: 'pong', nodeId: 'server' };
        default:
          return { op: 'ok' };
      }
    });
    const client = transport({ nodeId: 'node-c', advertiseHost: '10.9.8.7' });
    const clientAddress = await client.listen(async () => ({ op: 'ok' }));
    const options = {
      timeoutMs: 5000,
      meta: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    };
    const requests: PeerRequest[] = [
      { op: 'get', keySpace: 'ks', key: 'a', forwarded: true },
      { op: 'getMany', keySpace: 'ks', keys: ['x', 'y'], forwarded: false },
      { op: 'set', keySpace: 'ks', key: 'a', value: text('v'), expiresAt: 1_767_225_600_000 },
      { op: 'delete', keySpace: 'ks', key: 'a' },
      { op: 'deleteMany', keySpace: 'ks', keys: ['a', 'b'] },
      { op: 'invalidate', keySpace: 'ks', keys: ['a'] },
      { op: 'dropKeySpace', keySpace: 'ks' },
      { op: 'ping' },
      { op: 'leave' },
    ];
    const replies = [];
    for (const request of requests) replies.push(await client.request(address, request, options));
    expect(replies.map((reply) => reply.op)).toEqual([
      'value',
      'values',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'pong',
      'ok',
    ]);
    expect(seen.map((entry) => entry.request.op)).toEqual(requests.map((request) => request.op));
    expect(seen[0]?.request).toEqual(requests[0]);
    const set = seen[2]?.request;
    expect(set?.op === 'set' && [set.expiresAt, new TextDecoder().decode(set.value)]).toEqual([
      1_767_225_600_000,
      'v',
    ]);
    expect(seen[0]?.from).toEqual({
      nodeId: 'node-c',
      address: { host: '10.9.8.7', port: clientAddress.port },
      incarnation: expect.stringMatching(/^[0-9a-f]{16}$/) as string,
    });
    expect({ ...seen[0]?.meta }).toEqual(options.meta);
    expect(replies[1]).toMatchObject({ op: 'values', results: [{ found: true }, { found: true }] });
  });

  it('moves values of several MiB across many socket chunks', async () => {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    const { address } = await server(async (request) =>
      request.op === 'set'
        ? { op: 'value', result: { found: true, value: request.value, expiresAt: request.expiresAt } }
        : { op: 'ok' },
    );
    const reply = await transport().request(
      address,
      { op: 'set', keySpace: 'ks', key: 'big', value: big, expiresAt: 0 },
      { timeoutMs: 10_000 },
    );
    expect(reply.op === 'value' && reply.result.found && Buffer.compare(reply.result.value, big)).toBe(0);
  });

  it('returns handler failures as error responses: the DistCacheError code, or E_PEER_UNAVAILABLE', async () => {
    const { address } = await server(async (request) => {
      if (request.op === 'get')
        throw new DistCacheError('E_KEYSPACE_NOT_FOUND', `Keyspace "${request.keySpace}" is not registered`);
      if (request.op === 'delete') throw new TypeError('handler bug');
      return { op: 'ok' };
    });
    const client = transport();
    expect(
      await client.request(
        address,
        { op: 'get', keySpace: 'nope', key: 'k', forwarded: false },
        { timeoutMs: 5000 },
      ),
    ).toEqual({
      op: 'error',
      code: 'E_KEYSPACE_NOT_FOUND',
      message: 'Keyspace "nope" is not registered',
    });
    const bug = await client.request(
      address,
      { op: 'delete', keySpace: 'ks', key: 'k' },
      { timeoutMs: 5000 },
    );
    expect(bug).toMatchObject({ op: 'error', code: 'E_PEER_UNAVAILABLE' });
    expect(bug.op === 'error' && bug.message).toContain('handler bug');
  });

  it('answers a handler that throws synchronously', async () => {
    const { address } = await server(() => {
      throw new DistCacheError('E_RATE_LIMITED', 'slow down');
    });
    expect(await transport().request(address, { op: 'ping' }, { timeoutMs: 5000 })).toEqual({
      op: 'error',
      code: 'E_RATE_LIMITED',
      message: 'slow down',
    });
  });

  it("refuses to send a frame over the peer's maxFrameBytes, and replies too big for the requester become errors", async () => {
    const { address } = await server(
      async () => ({ op: 'value', result: { found: true, value: new Uint8Array(4096), expiresAt: 0 } }),
      {
        maxFrameBytes: 2048,
      },
    );
    const client = transport({ maxFrameBytes: 2048 });
    const tooBig = await rejection(
      client.request(
        address,
        { op: 'set', keySpace: 'ks', key: 'k', value: new Uint8Array(4096), expiresAt: 0 },
        { timeoutMs: 5000 },
      ),
    );
    expect(tooBig.code).toBe('E_PROTOCOL');
    expect(tooBig.details['reason']).toBe('frame-too-large');
    const reply = await client.request(address, { op: 'ping' }, { timeoutMs: 5000 });
    expect(reply).toMatchObject({ op: 'error', code: 'E_PROTOCOL' });
    expect(reply.op === 'error' && reply.message).toContain(
      'over the 2048 bytes a frame may have on this connection',
    );
  });
});
