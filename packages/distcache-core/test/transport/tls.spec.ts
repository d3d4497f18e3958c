import * as tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isDistCacheError } from '../../src/errors';
import { type PeerAddress, type PeerTlsOptions, resolveTransportOptions } from '../../src/transport';
import { encodeHelloFrame } from '../../src/transport/handshake-codec';
import { createTestPki, type TestPki } from '../support/certs';
import { closeAll, ping, RecordingLogger, rejection, server, transport, until } from './helpers';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.cleanup());
afterEach(closeAll);

const nodeTls = (which: 'nodeA' | 'nodeB', extra: Partial<PeerTlsOptions> = {}): PeerTlsOptions => ({
  ca: pki.ca,
  ...pki[which],
  ...extra,
});

async function tlsServer(
  log = new RecordingLogger(),
): Promise<{ address: PeerAddress; log: RecordingLogger }> {
  const { address } = await server(undefined, { tls: nodeTls('nodeA'), logger: log });
  return { address, log };
}

async function expectGoodClientServed(address: PeerAddress): Promise<void> {
  expect(await ping(transport({ tls: nodeTls('nodeB') }), address)).toEqual({ op: 'pong', nodeId: 'server' });
}

describe('mutual TLS', () => {
  it('validates the PEM material at construction', () => {
    const withTls = (tls: PeerTlsOptions): void => void resolveTransportOptions({ nodeId: 'a', tls });
    expect(() => withTls(nodeTls('nodeA'))).not.toThrow();
    expect(resolveTransportOptions({ nodeId: 'a', tls: nodeTls('nodeA') }).tls?.hostnameCheck).toBe(
      'dns-only',
    );
    const invalid = (tls: PeerTlsOptions): unknown => {
      try {
        withTls(tls);
      } catch (error) {
        return isDistCacheError(error, 'E_INVALID_OPTION') ? error.details['path'] : error;
      }
      return undefined;
    };
    expect(invalid({ ...nodeTls('nodeA'), key: pki.nodeB.key })).toBe('tls.key');
    expect(invalid({ ...nodeTls('nodeA'), cert: 'garbage' })).toBe('tls.cert');
  });

  it('serves a client with a certificate of the cluster CA, in every hostname-check mode', async () => {
    const { address } = await tlsServer();
    for (const hostnameCheck of ['dns-only', 'always', 'never'] as const) {
      const client = transport({ tls: nodeTls('nodeB', { hostnameCheck }) });
      expect(await ping(client, address)).toEqual({ op: 'pong', nodeId: 'server' });
      const big = new Uint8Array(256 * 1024).fill(3);
      const reply = await client.request(
        address,
        { op: 'set', keySpace: 'k', key: 'k', value: big, expiresAt: 0 },
        { timeoutMs: 5000 },
      );
      expect(reply).toEqual({ op: 'pong', nodeId: 'server' });
    }
  });

  it('checks IP SANs in "always" mode and skips the name check for IPs in "dns-only" mode', async () => {
    // The certificates name 127.0.0.1 and localhost only; this server is dialled as 127.0.0.2
    // (also loopback on Linux), so only the name check can tell the difference.
    const { address } = await server(undefined, { tls: nodeTls('nodeA'), host: '127.0.0.2' });
    const strict = await rejection(
      ping(transport({ tls: nodeTls('nodeB', { hostnameCheck: 'always' }) }), address),
    );
    expect(strict.code).toBe('E_PEER_UNAVAILABLE');
    expect(String((strict.cause as Error | undefined)?.message)).toMatch(
      /IP: 127\.0\.0\.2 is not in the cert's list/,
    );
    expect(await ping(transport({ tls: nodeTls('nodeB', { hostnameCheck: 'dns-only' }) }), address)).toEqual({
      op: 'pong',
      nodeId: 'server',
    });
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    const { address, log } = await tlsServer();
    const stranger = transport({ tls: { ca: pki.ca, ...pki.stranger } });
    const error = await rejection(ping(stranger, address));
    expect(error.code).toBe('E_PEER_UNAVAILABLE');
    await until(
      () => log.warnings.some((line) => line.startsWith('refused tls connection')),
      'the server warning',
    );
    await expectGoodClientServed(address);
  });

  it('refuses a client without a certificate', async () => {
    const { address, log } = await tlsServer();
    const socket = tls.connect({ host: address.host, port: address.port, ca: pki.ca, minVersion: 'TLSv1.2' });
    socket.on('error', () => undefined);
    socket.on('secureConnect', () =>
      socket.write(
        encodeHelloFrame({
          maxFrameBytes: 1 << 20,
          cluster: 'test',
          nodeId: 'anon',
          address: { host: '127.0.0.1', port: 0 },
          incarnation: 'anon-1',
        }),
      ),
    );
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(received).toEqual([]);
    await until(
      () => log.warnings.some((line) => line.startsWith('refused tls connection')),
      'the server warning',
    );
    await expectGoodClientServed(address);
  });

  it('refuses a server whose certificate the client cannot verify', async () => {
    const { address } = await tlsServer();
    const error = await rejection(ping(transport({ tls: { ca: pki.otherCa, ...pki.nodeB } }), address));
    expect(error.code).toBe('E_PEER_UNAVAILABLE');
    expect(String((error.cause as Error | undefined)?.message)).toMatch(/certificate/i);
    await expectGoodClientServed(address);
  });

  it('refuses a plaintext client on the TLS port without disturbing other connections', async () => {
    const { address, log } = await tlsServer();
    const steady = transport({ tls: nodeTls('nodeB') });
    expect(await ping(steady, address)).toEqual({ op: 'pong', nodeId: 'server' });
    const error = await rejection(ping(transport(), address));
    expect(error.code).toBe('E_PEER_UNAVAILABLE');
    await until(
      () => log.warnings.some((line) => line.startsWith('refused tls connection')),
      'the server warning',
    );
    // The connection opened before is still the same healthy one.
    expect(await ping(steady, address)).toEqual({ op: 'pong', nodeId: 'server' });
    await expectGoodClientServed(address);
  });

  it('fails cleanly when a TLS client dials a plaintext peer', async () => {
    const { address } = await server();
    const error = await rejection(ping(transport({ tls: nodeTls('nodeB'), connectTimeout: 2000 }), address));
    expect(error.code).toBe('E_PEER_UNAVAILABLE');
    expect(await ping(transport(), address)).toEqual({ op: 'pong', nodeId: 'server' });
  });
});
