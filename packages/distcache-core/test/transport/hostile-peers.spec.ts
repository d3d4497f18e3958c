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
import { Opcode } from '../../src/transport/wire-format';
import type { PeerAddress } from '../../src/transport';
import {
  closeAll,
  ping,
  RawSocket,
  rawServer,
  RecordingLogger,
  rejection,
  server,
  transport,
} from './helpers';

afterEach(closeAll);

const hello: HandshakeHello = {
  maxFrameBytes: 1 << 20,
  cluster: 'test',
  nodeId: 'raw',
  address: { host: '127.0.0.1', port: 0 },
  incarnation: 'raw-1',
};

/** A raw socket that completed the handshake. */
async function shaken(address: PeerAddress): Promise<RawSocket> {
  const raw = await RawSocket.connect(address);
  raw.send(encodeHelloFrame(hello));
  expect(decodeHandshakeFrame(await raw.frame()).kind).toBe('welcome');
  return raw;
}

async function expectStillServing(address: PeerAddress): Promise<void> {
  expect(await ping(transport(), address)).toEqual({ op: 'pong', nodeId: 'server' });
}

describe('hostile or broken clients never disturb the server', () => {
  it('closes a connection that sends HTTP or random bytes', async () => {
    const log = new RecordingLogger();
    const { address } = await server(undefined, { logger: log });
    const http = await RawSocket.connect(address);
    http.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await http.closed;
    const noise = await RawSocket.connect(address);
    noise.send(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    await noise.closed;
    expect(log.warnings.join('\n')).toContain('over the limit');
    await expectStillServing(address);
  });

  it('closes the connection on a length prefix over maxFrameBytes without buffering the body', async () => {
    const log = new RecordingLogger();
    const { address } = await server(undefined, { logger: log, maxFrameBytes: 1 << 20 });
    const raw = await shaken(address);
    const before = process.memoryUsage().arrayBuffers;
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(0xffff_fff0, 0);
    raw.send(prefix);
    await raw.closed;
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
    expect(log.warnings.join('\n')).toMatch(/frame length 4294967280 is over the limit of 1048576 bytes/);
    await expectStillServing(address);
  });

  it('survives a truncated frame followed by a hang-up', async () => {
    const { address } = await server();
    const raw = await shaken(address);
    const frame = encodeRequestFrame(1, { op: 'get', keySpace: 'ks', key: 'k', forwarded: false });
    raw.send(frame.subarray(0, frame.length - 3));
    raw.socket.end();
    await raw.closed;
    await expectStillServing(address);
  });

  it('answers a malformed request body with E_PROTOCOL and keeps the connection', async () => {
    const { address } = await server();
    const raw = await shaken(address);
    const bad = Buffer.from(encodeRequestFrame(5, { op: 'get', keySpace: 'ks', key: 'k', forwarded: false }));
    bad.writeUInt16BE(999, 10); // the keyspace length now runs past the frame
    raw.send(bad);
    expect(decodeResponseFrame(await raw.frame(1))).toMatchObject({
      id: 5,
      response: { op: 'error', code: 'E_PROTOCOL' },
    });
    raw.send(encodeRequestFrame(6, { op: 'ping' }));
    expect(decodeResponseFrame(await raw.frame(2))).toEqual({
      id: 6,
      response: { op: 'pong', nodeId: 'server' },
    });
  });

  it('closes a connection that sends a response or handshake frame where a request belongs', async () => {
    const { address } = await server();
    const raw = await shaken(address);
    raw.send(encodeResponseFrame(1, { op: 'ok' }));
    await raw.closed;
    const again = await shaken(address);
    again.send(encodeHelloFrame(hello));
    await again.closed;
    await expectStillServing(address);
  });
});

describe('hostile or broken servers never crash the client', () => {
  /** A raw server that completes the handshake, then runs `then` on each request frame. */
  async function scriptedServer(then: (socket: RawSocket, request: Buffer) => void): Promise<PeerAddress> {
    return rawServer((socket) => {
      void (async () => {
        await socket.frame(0);
        socket.send(encodeWelcomeFrame({ ...hello, nodeId: 'scripted' }));
        then(socket, await socket.frame(1));
      })();
    });
  }

  it('fails pending requests with E_PROTOCOL on an oversized response frame', async () => {
    const address = await scriptedServer((socket) => {
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(0x7fff_ffff, 0);
      socket.send(prefix);
    });
    const error = await rejection(ping(transport({ maxFrameBytes: 1 << 20 }), address));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.details['reason']).toBe('invalid-frame');
  });

  it('fails the request with E_PROTOCOL on a malformed response body', async () => {
    const address = await scriptedServer((socket, request) => {
      const reply = Buffer.from(encodeResponseFrame(request.readUInt32BE(6), { op: 'pong', nodeId: 'abc' }));
      reply.writeUInt16BE(200, 10);
      socket.send(reply);
    });
    const error = await rejection(ping(transport(), address));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toContain('malformed response');
  });

  it('closes the connection when the server sends a request frame', async () => {
    const address = await scriptedServer((socket) => socket.send(encodeRequestFrame(1, { op: 'ping' })));
    const error = await rejection(ping(transport(), address));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toContain(`0x${Opcode.PING.toString(16)} is not a response`);
  });

  it('ignores replies to unknown request ids', async () => {
    const address = await scriptedServer((socket, request) => {
      socket.send(encodeResponseFrame(999_999, { op: 'ok' }));
      socket.send(encodeResponseFrame(request.readUInt32BE(6), { op: 'pong', nodeId: 'scripted' }));
    });
    expect(await ping(transport(), address)).toEqual({ op: 'pong', nodeId: 'scripted' });
  });
});
