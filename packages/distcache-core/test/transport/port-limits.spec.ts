// The bounds of the peer port (docs/protocol.md section 6): connection caps, the shared buffer
// budget, the frame timeout and the idle timeout, each exercised with real sockets.
import { afterEach, describe, expect, it } from 'vitest';
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
  const large: PeerRequestHandler = async (request) =>
    request.op === 'get'
      ? { op: 'value', result: { found: true, value, expiresAt: 0 } }
      : { op: 'pong', nodeId: 'server' };

  /** A handshaken raw socket that reads nothing more, with `count` GETs pipelined in one write. */
  async function nonReader(address: PeerAddress, count: number): Promise<RawSocket> {
    const raw = await shaken(address);
    raw.socket.pause();
    const gets = Array.from({ length: count }, (_, i) =>
      encodeRequestFrame(i + 1, { op: 'get', keySpace: 'ks', key: `k${i}`, forwarded: false }),
    );
    raw.send(Buffer.concat(gets));
    return raw;
  }

  it('holds the answers of a peer that reads none within maxBufferedBytes, then drops it', async () => {
    // 1,000 pipelined GETs of a 256 KiB value are 250 MiB of answers; before, the server built
    // every answer it had started (1,024 in flight) whatever the socket said.
    const log = new RecordingLogger();
    const limit = 4 << 20;
    const { server: node, address } = await server(large, {
      logger: log,
      maxFrameBytes: 1 << 20,
      maxBufferedBytes: limit,
    });
    // The process's peak RSS, in KiB: building the answers would add ~250 MiB to it.
    const peakBefore = process.resourceUsage().maxRSS;
    await nonReader(address, 1000);
    // The peer does not read, so its socket would not see the close: the server's count does.
    await until(() => node.inboundConnections === 0, 'the connection to be dropped');
    expect(log.warnings.join('\n')).toMatch(
      /does not read its answers, and their \d+ bytes are over what is left of the 4194304 bytes all such connections may hold \(maxBufferedBytes\)/,
    );
    // The budget, the socket's queues and the answers of one tick, not 250 MiB.
    expect((process.resourceUsage().maxRSS - peakBefore) * 1024).toBeLessThan(128 << 20);
    expect(node.heldReplyBytes).toBe(0);
    expect(await ping(transport(), address)).toEqual({ op: 'pong', nodeId: 'server' });
  });

  it('drops a peer that reads none of its answers for frameTimeout, and releases what they held', async () => {
    const log = new RecordingLogger();
    const { server: node, address } = await server(large, {
      logger: log,
      maxBufferedBytes: 256 << 20,
      frameTimeout: 300,
    });
    await nonReader(address, 200);
    await until(() => node.heldReplyBytes > 0, 'answers held for the peer');
    await until(() => node.inboundConnections === 0, 'the connection to be dropped');
    expect(log.warnings.join('\n')).toContain('it read none of its answers for 300ms (frameTimeout)');
    expect(node.heldReplyBytes).toBe(0);
    expect(await ping(transport(), address)).toEqual({ op: 'pong', nodeId: 'server' });
  });

  it('answers everything to a peer that reads slowly, starting what it read while blocked once it drains', async () => {
    const { server: node, address } = await server(large, { maxBufferedBytes: 256 << 20 });
    const raw = await nonReader(address, 120);
    await until(() => node.heldReplyBytes > 0, 'the socket to wait for drain');
    raw.socket.resume();
    await raw.frame(120); // the WELCOME, then 120 answers
    const ids = raw.frames.slice(1).map((frame) => decodeResponseFrame(frame));
    expect(ids.map((answer) => answer.id).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 120 }, (_, i) => i + 1),
    );
    expect(ids.every((answer) => answer.response.op === 'value')).toBe(true);
    await until(() => node.heldReplyBytes === 0, 'the held bytes to be released');
    expect(raw.isClosed).toBe(false);
  });
});
