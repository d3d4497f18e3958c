import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/testing';
import {
  decodeHandshakeFrame,
  encodeHelloFrame,
  encodeRefuseFrame,
  encodeWelcomeFrame,
  type HandshakeHello,
} from '../../src/transport/handshake-codec';
import { PROTOCOL_VERSION, RefuseReason } from '../../src/transport/wire-format';
import {
  closeAll,
  ping,
  RawSocket,
  rawServer,
  RecordingLogger,
  rejection,
  server,
  transport,
  until,
} from './helpers';

afterEach(closeAll);

const hello = (overrides: Partial<HandshakeHello> = {}): HandshakeHello => ({
  maxFrameBytes: 1 << 20,
  cluster: 'test',
  nodeId: 'raw',
  address: { host: '127.0.0.1', port: 0 },
  incarnation: 'raw-1',
  ...overrides,
});

describe('handshake', () => {
  it('refuses a peer of another cluster, with a warning on both sides and E_PROTOCOL for the caller', async () => {
    const serverLog = new RecordingLogger();
    const clientLog = new RecordingLogger();
    const { address } = await server(undefined, { cluster: 'shop', logger: serverLog });
    const stranger = transport({ cluster: 'billing', nodeId: 'intruder', logger: clientLog });
    const error = await rejection(ping(stranger, address));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.details['reason']).toBe('cluster-mismatch');
    expect(error.message).toContain('refused the handshake');
    expect(error.message).toContain('"billing"');
    expect(clientLog.warnings.join('\n')).toMatch(
      /refused our handshake \(cluster-mismatch\).*"intruder".*"billing".*"shop"/,
    );
    await until(() => serverLog.warnings.length > 0, 'the server warning');
    expect(serverLog.warnings[0]).toMatch(
      /refused peer connection from 127\.0\.0\.1:\d+ \(cluster-mismatch\)/,
    );
    // A member of the right cluster is still served.
    expect(await ping(transport({ cluster: 'shop' }), address)).toEqual({ op: 'pong', nodeId: 'server' });
  });

  it.each([1, PROTOCOL_VERSION + 1])(
    'refuses a client speaking protocol version %i with a REFUSE naming both versions',
    async (version) => {
      const log = new RecordingLogger();
      const { address } = await server(undefined, { logger: log });
      const raw = await RawSocket.connect(address);
      raw.send(encodeHelloFrame(hello(), version));
      const refusal = decodeHandshakeFrame(await raw.frame());
      expect(refusal).toEqual({
        kind: 'refuse',
        refusal: {
          version: PROTOCOL_VERSION,
          reason: RefuseReason.VERSION,
          message: `protocol version ${version} is not supported (this node speaks ${PROTOCOL_VERSION})`,
        },
      });
      await raw.closed;
      expect(log.warnings[0]).toContain(
        `(version-mismatch): protocol version ${version} is not supported (this node speaks ${PROTOCOL_VERSION})`,
      );
      expect(await ping(transport(), address)).toEqual({ op: 'pong', nodeId: 'server' });
    },
  );

  it('rejects the request when a server of another version refuses us', async () => {
    const address = await rawServer((socket) => {
      socket.send(
        encodeRefuseFrame(
          RefuseReason.VERSION,
          'protocol version 1 is not supported (this node speaks 2)',
          2,
        ),
      );
      socket.socket.end();
    });
    const log = new RecordingLogger();
    const error = await rejection(ping(transport({ logger: log }), address));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.details['reason']).toBe('version-mismatch');
    expect(error.message).toContain('this node speaks 2');
    expect(log.warnings[0]).toContain('refused our handshake (version-mismatch)');
  });

  it('names both versions when a server refuses us without saying them itself', async () => {
    // An older node's wording is not ours to rely on: the versions come from the REFUSE fields.
    const address = await rawServer((socket) => {
      socket.send(encodeRefuseFrame(RefuseReason.VERSION, 'unsupported', 1));
      socket.socket.end();
    });
    const log = new RecordingLogger();
    const error = await rejection(ping(transport({ logger: log }), address));
    const expected = `the peer speaks protocol version 1, this node speaks ${PROTOCOL_VERSION}: unsupported`;
    expect([error.code, error.details['reason']]).toEqual(['E_PROTOCOL', 'version-mismatch']);
    expect(error.message).toContain(`the peer refused the handshake: ${expected}`);
    expect(log.warnings[0]).toContain(`refused our handshake (version-mismatch): ${expected}`);
  });

  it('refuses a WELCOME of another version or cluster on the client side', async () => {
    const welcome = (version: number, cluster: string) =>
      rawServer((socket) => socket.send(encodeWelcomeFrame(hello({ cluster, nodeId: 'odd' }), version)));
    const log = new RecordingLogger();
    const client = transport({ logger: log });
    const newer = await rejection(ping(client, await welcome(PROTOCOL_VERSION + 1, 'test')));
    expect([newer.code, newer.details['reason']]).toEqual(['E_PROTOCOL', 'version-mismatch']);
    expect(newer.message).toContain(
      `protocol version ${PROTOCOL_VERSION + 1} is not supported (this node speaks ${PROTOCOL_VERSION})`,
    );
    const other = await rejection(ping(client, await welcome(PROTOCOL_VERSION, 'elsewhere')));
    expect([other.code, other.details['reason']]).toEqual(['E_PROTOCOL', 'cluster-mismatch']);
    expect(log.warnings).toHaveLength(2);
  });

  it('drops a client that connects and says nothing, at the handshake deadline', async () => {
    const clock = new ManualClock();
    const log = new RecordingLogger();
    const { address } = await server(undefined, { clock, logger: log, handshakeTimeout: 2000 });
    const silent = await RawSocket.connect(address);
    await until(() => clock.pendingTimers > 0, 'the handshake timer');
    await clock.advance(1999);
    expect(silent.isClosed).toBe(false);
    await clock.advance(1);
    await silent.closed;
    expect(log.warnings[0]).toMatch(/no handshake within 2000ms/);
    expect(await ping(transport(), address)).toEqual({ op: 'pong', nodeId: 'server' });
  });

  it('gives up on a server that accepts and never answers the handshake', async () => {
    const clock = new ManualClock();
    const accepted: RawSocket[] = [];
    const address = await rawServer((socket) => accepted.push(socket));
    const client = transport({ clock, handshakeTimeout: 300 });
    const pending = client.request(address, { op: 'ping' }, { timeoutMs: 10_000 });
    // The HELLO is written after the client armed its handshake timer.
    await until(() => accepted.length === 1, 'the connection');
    expect(decodeHandshakeFrame(await (accepted[0] as RawSocket).frame()).kind).toBe('hello');
    await clock.advance(299);
    let settled = false;
    void pending.catch(() => (settled = true));
    await clock.advance(0);
    expect(settled).toBe(false);
    await clock.advance(1);
    const error = await rejection(pending);
    expect(error.code).toBe('E_PEER_UNAVAILABLE');
    expect(error.details['reason']).toBe('handshake-timeout');
  });

  it('answers garbage instead of a HELLO with REFUSE (malformed) and keeps serving', async () => {
    const log = new RecordingLogger();
    const { address } = await server(undefined, { logger: log });
    const raw = await RawSocket.connect(address);
    const garbage = Buffer.alloc(40, 0x41);
    garbage.writeUInt32BE(36, 0);
    raw.send(garbage);
    const refusal = decodeHandshakeFrame(await raw.frame());
    expect(refusal.kind === 'refuse' && refusal.refusal.reason).toBe(RefuseReason.MALFORMED);
    await raw.closed;
    expect(log.warnings[0]).toContain('malformed-handshake');
    expect(await ping(transport(), address)).toEqual({ op: 'pong', nodeId: 'server' });
  });
});
