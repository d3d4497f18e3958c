import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PeerRequestHandler, PeerTlsOptions, PeerResponse } from '../../src/transport';
import { FrameWriter } from '../../src/transport/frame-writer';
import { createTestPki, type TestPki } from '../support/certs';
import { closeAll, server, transport } from './helpers';

// A connection encodes its frames into one arena and starts it over once the socket has written
// everything (frame-writer.ts). Real sockets, plain and TLS: a FrameWriter writes ~24 MB in small
// ticks to a peer that does not read at first, so the socket queues and drains many times; every
// byte that arrives is checked. Then the whole transport, with packed-string and Uint8Array answers.

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.cleanup());
afterEach(closeAll);

/** The value of `key`: its length and bytes follow from the key, so any overwrite shows. */
function valueOf(key: string): Uint8Array {
  let seed = 0;
  for (let index = 0; index < key.length; index++) seed = (seed * 31 + key.charCodeAt(index)) >>> 0;
  const length = 200 + (seed % 4_000);
  return Uint8Array.from({ length }, (_, index) => (seed + index * 7) % 256);
}

/** Answers GET_MANY with every key's value, odd keys as packed strings, even ones as bytes. */
const handler: PeerRequestHandler = async (request) => {
  if (request.op !== 'getMany') return { op: 'error', code: 'E_PROTOCOL', message: 'getMany only' };
  return {
    op: 'values',
    results: request.keys.map((key) => {
      const bytes = valueOf(key);
      const value = Number(key.split('-')[1]) % 2 === 1 ? Buffer.from(bytes).toString('latin1') : bytes;
      return { found: true as const, value, expiresAt: 0 };
    }),
  };
};

async function exchange(tls?: { server: PeerTlsOptions; client: PeerTlsOptions }): Promise<void> {
  const { address } = await server(handler, tls === undefined ? {} : { tls: tls.server });
  const client = transport(tls === undefined ? {} : { tls: tls.client });
  // 120 requests at once, 1 to 120 keys each (~2 KB per key): ~30 MB of answers, written while the
  // requester's loop is also the server's, so the server's socket queues and drains repeatedly.
  const requests = Array.from({ length: 120 }, (_, request) =>
    Array.from({ length: 1 + request }, (_, index) => `r${request}-${index}`),
  );
  const replies: PeerResponse[] = await Promise.all(
    requests.map((keys) =>
      client.request(
        address,
        { op: 'getMany', keySpace: 'ks', keys, forwarded: true },
        { timeoutMs: 30_000 },
      ),
    ),
  );
  let bytes = 0;
  let wrong = 0;
  replies.forEach((reply, request) => {
    const keys = requests[request]!;
    if (reply.op !== 'values' || reply.results.length !== keys.length) {
      wrong++;
      return;
    }
    reply.results.forEach((result, index) => {
      const expected = valueOf(keys[index]!);
      bytes += expected.length;
      if (result.found !== true || !Buffer.from(result.value).equals(Buffer.from(expected))) wrong++;
    });
  });
  expect(wrong).toBe(0);
  expect(bytes).toBeGreaterThan(10_000_000);
}

/** Byte `index` of the stream the writer sends. */
const streamByte = (index: number): number => (index * 131 + (index >>> 11)) % 256;

type Pair = { writer: net.Socket; reader: net.Socket; close: () => void };

async function tcpPair(): Promise<Pair> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const { port } = listener.address() as net.AddressInfo;
  const writer = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => writer.once('connect', resolve));
  const reader = await accepted;
  return { writer, reader, close: () => (writer.destroy(), reader.destroy(), listener.close()) };
}

async function tlsPair(): Promise<Pair> {
  const listener = tls.createServer({ ...pki.nodeA, ca: pki.ca });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<tls.TLSSocket>((resolve) => listener.once('secureConnection', resolve));
  const { port } = listener.address() as net.AddressInfo;
  const writer = tls.connect({ port, host: '127.0.0.1', ca: pki.ca, servername: 'localhost' });
  await new Promise((resolve) => writer.once('secureConnect', resolve));
  const reader = await accepted;
  return { writer, reader, close: () => (writer.destroy(), reader.destroy(), listener.close()) };
}

/** Writes `total` bytes in frames of 1-20 KB, a few per tick, while the reader sleeps at first. */
async function stream(
  pair: Pair,
  total: number,
): Promise<{ received: number; wrong: number; drains: number; arenas: number }> {
  const { writer: socket, reader } = pair;
  // The arenas the writer handed to the socket (each a distinct ArrayBuffer of 64 KiB or more).
  const arenas = new Set<ArrayBufferLike>();
  const sink = {
    write: (chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean => {
      arenas.add(chunk.buffer);
      return socket.write(chunk, callback);
    },
    get writableLength(): number {
      return socket.writableLength;
    },
    once: (event: 'drain', listener: () => void) => socket.once(event, listener),
    cork: () => socket.cork(),
    uncork: () => socket.uncork(),
  };
  let received = 0;
  let wrong = 0;
  reader.pause();
  reader.on('data', (chunk: Buffer) => {
    for (let index = 0; index < chunk.length; index++) {
      if (chunk[index] !== streamByte(received + index)) wrong++;
    }
    received += chunk.length;
  });
  let drains = 0;
  const writer = new FrameWriter(sink, (blocked) => {
    if (!blocked) drains++;
  });
  let sent = 0;
  let tick = 0;
  while (sent < total) {
    for (let frame = 0; frame < 3 && sent < total; frame++) {
      const length = Math.min(total - sent, 1_000 + ((tick * 7919 + frame * 104_729) % 19_000));
      const bytes = Buffer.allocUnsafe(length);
      for (let index = 0; index < length; index++) bytes[index] = streamByte(sent + index);
      writer.write(bytes);
      sent += length;
    }
    tick++;
    // The reader wakes once the socket queues (the kernel's buffers are full) and the writer waits.
    if (writer.blocked || sent > 20_000_000) reader.resume();
    await new Promise((resolve) => setImmediate(resolve));
  }
  reader.resume();
  while (received < total) await new Promise((resolve) => setTimeout(resolve, 5));
  return { received, wrong, drains, arenas: arenas.size };
}

describe("a connection's frame arena, reused once the socket has written it", () => {
  // TLS completes each write a turn later: there the write's callback starts the arena over.
  it.each([
    ['a plain TCP', tcpPair],
    ['a TLS', tlsPair],
  ])('never overwrites bytes %s socket still queues', async (_kind, open) => {
    const pair = await open();
    try {
      const result = await stream(pair, 24_000_000);
      expect(result).toMatchObject({ received: 24_000_000, wrong: 0 });
      // The socket did queue: the writer waited for 'drain' at least once.
      expect(result.drains).toBeGreaterThan(0);
      // And the arena was reused: 24 MB in 64 KiB arenas would be ~370 without reuse.
      expect(result.arenas).toBeLessThan(40);
    } finally {
      pair.close();
    }
  });

  it('carries packed-string and Uint8Array answers intact through the transport (mutual TLS)', async () => {
    await exchange({
      server: { ca: pki.ca, ...pki.nodeA },
      client: { ca: pki.ca, ...pki.nodeB },
    });
  });
});
