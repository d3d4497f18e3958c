// The bounds of the peer port (docs/protocol.md section 6): connection caps, the shared buffer
// budget, the frame timeout and the idle timeout, each exercised with real sockets.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
} from '../../src/transport/frame-codec';
import {
  decodeHandshakeFrame,
  encodeHelloFrame,
  encodeWelcomeFrame,
  type HandshakeHello,
} from '../../src/transport/handshake-codec';
import { encodeGoAwayFrame } from '../../src/transport/response-codec';
import { Opcode } from '../../src/transport/wire-format';
import type { PeerAddress, PeerRequestHandler } from '../../src/transport';
import { closeAll, ping, RawSocket, rawServer, RecordingLogger, server, transport, until } from './helpers';

afterEach(closeAll);

const hello: HandshakeHello = {
  maxFrameBytes: 1 << 20,
  cluster: 'test',
  nodeId: 'raw',
  address: { host: '127.0.0.1', port: 0 },
  incarnation: 'raw-1',
};

/** A raw socket that completed the handshake. */
async function shaken(address: PeerAddress, localAddress?: string): Promise<RawSocket> {
  const raw = await RawSocket.connect(address, localAddress);
  raw.send(encodeHelloFrame(hello));
  expect(decodeHandshakeFrame(await raw.frame()).kind).toBe('welcome');
  return raw;
}

/** The first bytes of a frame announcing `length` bytes: prefix and the rest of the header. */
function frameStart(length: number, id = 1): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt32BE(length, 0);
  head[4] = Opcode.PING;
  head.writeUInt32BE(id, 6);
  return head;
}

describe('connection caps', () => {
  it('closes connections over maxConnections at accept and accepts again once one closes', async () => {
    const log = new RecordingLogger();
    const { server: node, address } = await server(undefined, { logger: log, maxConnections: 3 });
    const client = transport();
    expect(await ping(client, address)).toEqual({ op: 'pong', nodeId: 'server' });
    const first = await RawSocket.connect(address);
    await RawSocket.connect(address);
    await until(() => node.inboundConnections === 3, 'three connections');
    const refused = await RawSocket.connect(address);
    await refused.closed;
    expect(log.warnings.join('\n')).toContain('3 connections are open (maxConnections)');
    expect(node.inboundConnections).toBe(3);
    // The peer link already held keeps working.
    expect(await ping(client, address)).toEqual({ op: 'pong', nodeId: 'server' });
    first.close();
    await until(() => node.inboundConnections === 2, 'the slot to free');
    const admitted = await shaken(address);
    expect(admitted.isClosed).toBe(false);
  });

  it('caps connections per remote address without touching other addresses', async () => {
    const log = new RecordingLogger();
    const { server: node, address } = await server(undefined, { logger: log, maxConnectionsPerAddress: 2 });
    await shaken(address, '127.0.0.2');
    await shaken(address, '127.0.0.2');
    const third = await RawSocket.connect(address, '127.0.0.2');
    await third.closed;
    expect(log.warnings.join('\n')).toContain(
      'refused peer connection from 127.0.0.2: 2 connections from this address are open',
    );
    expect(await ping(transport(), address)).toEqual({ op: 'pong', nodeId: 'server' });
    expect(node.inboundConnections).toBe(3);
  });

  it('rate-limits the warnings of refused connections', async () => {
    const log = new RecordingLogger();
    const { address } = await server(undefined, { logger: log, maxConnections: 1 });
    await RawSocket.connect(address);
    for (let i = 0; i < 20; i++) await (await RawSocket.connect(address)).closed;
    expect(log.warnings.filter((line) => line.includes('maxConnections'))).toHaveLength(1);
  });
});

describe('buffer budget shared by all connections', () => {
  it('refuses a frame announced over what is left, before its body, and releases on close', async () => {
    const log = new RecordingLogger();
    const { server: node, address } = await server(undefined, {
      logger: log,
      maxFrameBytes: 1 << 20,
      maxBufferedBytes: 2 << 20,
    });
    const holders = [await shaken(address), await shaken(address)];
    for (const holder of holders) holder.send(frameStart(1 << 20));
    await until(() => node.inboundBufferedBytes === 2 << 20, 'two reservations');
    const third = await shaken(address);
    third.send(frameStart(1 << 20));
    await third.closed;
    expect(log.warnings.join('\n')).toMatch(
      /frame length 1048576 is over the 0 bytes left of the buffer budget shared by all connections \(maxBufferedBytes 2097152\)/,
    );
    // Small frames are never refused, whatever the budget holds.
    expect(await ping(transport(), address)).toEqual({ op: 'pong', nodeId: 'server' });
    holders[0]?.close();
    await until(() => node.inboundBufferedBytes === 1 << 20, 'the reservation to be released');
    // With room again, a large frame arrives whole and is answered.
    const sender = await shaken(address);
    const value = Buffer.alloc(900 * 1024, 7);
    sender.send(
      encodeRequestFrame(9, { op: 'set', keySpace: 'ks', key: 'k', value, expiresAt: 0, ifAbsent: false }),
    );
    expect(decodeResponseFrame(await sender.frame(1)).id).toBe(9);
    expect(node.inboundBufferedBytes).toBe(1 << 20);
  });
});

describe('frame timeout', () => {
  it('closes a connection whose frame trickles in slower than frameTimeout, and only that one', async () => {
    const log = new RecordingLogger();
    const { server: node, address } = await server(undefined, {
      logger: log,
      maxBufferedBytes: 16 << 20,
      frameTimeout: 150,
    });
    const client = transport();
    const slow = await shaken(address);
    slow.send(frameStart(1 << 20));
    const trickle = setInterval(() => slow.send(Buffer.alloc(64, 1)), 20);
    try {
      await slow.closed;
    } finally {
      clearInterval(trickle);
    }
    expect(log.warnings.join('\n')).toContain('a frame did not complete within 150ms (frameTimeout)');
    expect(node.inboundBufferedBytes).toBe(0);
    expect(await ping(client, address)).toEqual({ op: 'pong', nodeId: 'server' });
  });
});

describe('idle timeout', () => {
  it('sends GOAWAY to an idle connection, still answers a request that crossed it, then closes', async () => {
    const { server: node, address } = await server(undefined, { idleTimeout: 100, handshakeTimeout: 300 });
    const raw = await shaken(address);
    const goAway = await raw.frame(1);
    expect(goAway[4]).toBe(Opcode.GOAWAY);
    expect(goAway.readUInt32BE(6)).toBe(0);
    // A request sent before the client saw GOAWAY is still served.
    raw.send(encodeRequestFrame(4, { op: 'ping' }));
    expect(decodeResponseFrame(await raw.frame(2))).toEqual({
      id: 4,
      response: { op: 'pong', nodeId: 'server' },
    });
    // Traffic after a GOAWAY makes the connection live again; idle again, it gets a new GOAWAY,
    // and a client that ignores it is closed after the linger.
    expect((await raw.frame(3))[4]).toBe(Opcode.GOAWAY);
    await raw.closed;
    await until(() => node.inboundConnections === 0, 'the connection to go');
  });

  it('lets a real client reconnect transparently after the server closed its idle connection', async () => {
    const { server: node, address } = await server(undefined, { idleTimeout: 50 });
    const client = transport();
    expect(await ping(client, address)).toEqual({ op: 'pong', nodeId: 'server' });
    expect(node.inboundConnections).toBe(1);
    // The client hangs up on GOAWAY itself (nothing in flight), long before the server's linger.
    await until(() => node.inboundConnections === 0, 'the idle connection to close');
    expect(await ping(client, address)).toEqual({ op: 'pong', nodeId: 'server' });
    expect(node.inboundConnections).toBe(1);
  });

  it('keeps a connection with a request in flight, however long the handler takes', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { server: node, address } = await server(
      async () => {
        await held;
        return { op: 'ok' };
      },
      { idleTimeout: 30 },
    );
    const reply = transport().request(address, { op: 'ping' }, { timeoutMs: 5000 });
    await until(() => node.inboundConnections === 1, 'the connection');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(node.inboundConnections).toBe(1);
    release();
    expect(await reply).toEqual({ op: 'ok' });
  });

  it('loses no request that crosses the GOAWAY: it is answered on the old connection', async () => {
    const connections: RawSocket[] = [];
    const address = await rawServer((socket) => {
      connections.push(socket);
      void (async () => {
        await socket.frame(0);
        socket.send(encodeWelcomeFrame({ ...hello, nodeId: 'scripted' }));
        const request = await socket.frame(1);
        // GOAWAY first, the answer after: the request crossed it on the wire.
        socket.send(encodeGoAwayFrame());
        setTimeout(
          () => socket.send(encodeResponseFrame(request.readUInt32BE(6), { op: 'pong', nodeId: 'scripted' })),
          50,
        );
      })();
    });
    const client = transport();
    expect(await ping(client, address)).toEqual({ op: 'pong', nodeId: 'scripted' });
    // The client closed the drained connection, and its next request opened a new one.
    await connections[0]?.closed;
    expect(await ping(client, address)).toEqual({ op: 'pong', nodeId: 'scripted' });
    expect(connections).toHaveLength(2);
  });
});

describe('answers a peer does not read', () => {
  // A handler answering every GET with one held 256 KiB value, as an owner holding a large entry.
  const value = Buffer.alloc(256 * 1024, 1);
  let started = 0;
  const large: PeerRequestHandler = async (request) => {
    if (request.op !== 'get') return { op: 'pong', nodeId: 'server' };
    started += 1;
    return { op: 'value', result: { found: true, value, expiresAt: 0 } };
  };

  function gets(from: number, count: number): Buffer {
    return Buffer.concat(
      Array.from({ length: count }, (_, i) =>
        encodeRequestFrame(from + i, { op: 'get', keySpace: 'ks', key: `k${from + i}`, forwarded: false }),
      ),
    );
  }

  /** A handshaken raw socket that reads nothing more, with `count` GETs pipelined in one write. */
  async function nonReader(address: PeerAddress, count: number): Promise<RawSocket> {
    const raw = await shaken(address);
    raw.socket.pause();
    raw.send(gets(1, count));
    return raw;
  }

  it('does not build the answers of a peer that reads none, and drops it once it read nothing for frameTimeout', async () => {
    // 1,000 pipelined GETs of a 256 KiB value are 250 MiB of answers; before, the server built
    // every answer it had started (1,024 in flight) whatever the socket said, and held them until
    // the idle timeout.
    const log = new RecordingLogger();
    const { server: node, address } = await server(large, { logger: log, frameTimeout: 500 });
    // The process's peak RSS, in KiB: building the answers would add ~250 MiB to it.
    const peakBefore = process.resourceUsage().maxRSS;
    await nonReader(address, 1000);
    await until(() => node.queuedReplies > 0, 'answers to wait for the peer');
    // The peer does not read, so its socket would not see the close: the server's count does.
    await vi.waitFor(
      () => {
        if (node.inboundConnections !== 0) throw new Error('waiting for the connection to be dropped');
      },
      { timeout: 10_000, interval: 10 },
    );
    expect(log.warnings.join('\n')).toContain('it read nothing of its answers for 500ms (frameTimeout)');
    // The socket's queue and one flush of answers, not 250 MiB.
    expect((process.resourceUsage().maxRSS - peakBefore) * 1024).toBeLessThan(128 << 20);
    expect(node.queuedReplies).toBe(0);
    expect(await ping(transport(), address)).toEqual({ op: 'pong', nodeId: 'server' });
  });

  it('starts nothing a blocked peer sends until it reads, then answers everything in order of completion', async () => {
    const { server: node, address } = await server(large);
    started = 0;
    const raw = await nonReader(address, 100);
    await until(() => node.queuedReplies > 0, 'the socket to wait for drain');
    const before = started;
    raw.send(gets(101, 50));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(started).toBe(before);
    raw.socket.resume();
    await raw.frame(150); // the WELCOME, then 150 answers
    const answers = raw.frames.slice(1).map((frame) => decodeResponseFrame(frame));
    expect(answers.map((answer) => answer.id).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 150 }, (_, i) => i + 1),
    );
    expect(answers.every((answer) => answer.response.op === 'value')).toBe(true);
    expect(started).toBe(150);
    expect(node.queuedReplies).toBe(0);
    expect(raw.isClosed).toBe(false);
  });

  it('serves a reader with many large answers in flight at once, without dropping it', async () => {
    // 128 gets of a 1 MiB value in flight on one connection: 128 MiB of answers, more than
    // maxBufferedBytes, for a peer that reads them as they come.
    const big = Buffer.alloc(1 << 20, 2);
    const { address } = await server(async () => ({
      op: 'value',
      result: { found: true, value: big, expiresAt: 0 },
    }));
    const client = transport();
    const answers = await Promise.all(
      Array.from({ length: 128 }, (_, i) =>
        client.request(
          address,
          { op: 'get', keySpace: 'ks', key: `k${i}`, forwarded: false },
          { timeoutMs: 20_000 },
        ),
      ),
    );
    expect(answers.every((answer) => answer.op === 'value' && answer.result.found === true)).toBe(true);
  });

  it('keeps a peer that reads slowly but steadily, however long its answers take', async () => {
    const log = new RecordingLogger();
    const { server: node, address } = await server(large, { logger: log, frameTimeout: 300 });
    const raw = await nonReader(address, 60);
    await until(() => node.queuedReplies > 0, 'the socket to wait for drain');
    // Reads in short bursts: the 15 MiB take longer than frameTimeout, with progress all along.
    const reading = setInterval(() => {
      raw.socket.resume();
      setTimeout(() => raw.socket.pause(), 2);
    }, 100);
    const startedAt = Date.now();
    try {
      await vi.waitFor(
        () => {
          if (raw.frames.length < 61 && !raw.isClosed) throw new Error('waiting for 60 answers');
        },
        { timeout: 20_000, interval: 10 },
      );
    } finally {
      clearInterval(reading);
    }
    expect(raw.frames.length - 1).toBe(60);
    expect(Date.now() - startedAt).toBeGreaterThan(300);
    expect(log.warnings.join('\n')).not.toContain('frameTimeout');
    expect(node.inboundConnections).toBe(1);
  });
});
