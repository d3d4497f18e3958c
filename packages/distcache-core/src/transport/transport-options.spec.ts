import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors';
import { systemClock } from '../util/clock';
import { silentLogger } from '../util/logger';
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_IN_FLIGHT_PER_PEER,
  resolveTransportOptions,
  type TcpPeerTransportOptions,
} from './transport-options';

function invalidField(options: unknown): string | undefined {
  try {
    resolveTransportOptions(options as TcpPeerTransportOptions);
    return undefined;
  } catch (error) {
    if (!isDistCacheError(error, 'E_INVALID_OPTION')) throw error;
    return error.details['path'] as string;
  }
}

describe('resolveTransportOptions', () => {
  it('fills every default', () => {
    expect(resolveTransportOptions({ nodeId: 'a' })).toEqual({
      nodeId: 'a',
      cluster: 'distcache',
      host: '127.0.0.1',
      port: 0,
      advertiseHost: '127.0.0.1',
      tls: undefined,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      maxInFlightPerPeer: DEFAULT_MAX_IN_FLIGHT_PER_PEER,
      handshakeTimeoutMs: 2000,
      maxConnections: DEFAULT_MAX_CONNECTIONS,
      maxConnectionsPerAddress: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
      maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES,
      frameTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      connectTimeoutMs: 2000,
      reconnectBaseMs: 100,
      reconnectMaxMs: 5000,
      reconnectJitter: 0.2,
      clock: systemClock,
      logger: silentLogger,
    });
  });

  it('converts durations and keeps given values', () => {
    const resolved = resolveTransportOptions({
      nodeId: 'a',
      host: '0.0.0.0',
      advertiseHost: '10.0.0.7',
      handshakeTimeout: '500ms',
      connectTimeout: 1500,
      reconnect: { baseDelay: '1s', maxDelay: '1m', jitter: 0 },
    });
    expect(resolved).toMatchObject({
      advertiseHost: '10.0.0.7',
      handshakeTimeoutMs: 500,
      connectTimeoutMs: 1500,
      reconnectBaseMs: 1000,
      reconnectMaxMs: 60_000,
      reconnectJitter: 0,
    });
  });

  it('defaults the per-address cap and the buffer budget within the other limits', () => {
    expect(resolveTransportOptions({ nodeId: 'a', maxConnections: 8 }).maxConnectionsPerAddress).toBe(8);
    expect(resolveTransportOptions({ nodeId: 'a', maxFrameBytes: 128 << 20 }).maxBufferedBytes).toBe(
      128 << 20,
    );
  });

  it.each([
    [undefined, 'options'],
    [{}, 'nodeId'],
    [{ nodeId: '' }, 'nodeId'],
    [{ nodeId: 'x'.repeat(1025) }, 'nodeId'],
    [{ nodeId: 'a', cluster: 5 }, 'cluster'],
    [{ nodeId: 'a', host: '' }, 'host'],
    [{ nodeId: 'a', port: 70_000 }, 'port'],
    [{ nodeId: 'a', port: 1.5 }, 'port'],
    [{ nodeId: 'a', advertiseHost: '' }, 'advertiseHost'],
    [{ nodeId: 'a', maxFrameBytes: 100 }, 'maxFrameBytes'],
    [{ nodeId: 'a', maxFrameBytes: 2 ** 31 }, 'maxFrameBytes'],
    [{ nodeId: 'a', maxInFlightPerPeer: 0 }, 'maxInFlightPerPeer'],
    [{ nodeId: 'a', handshakeTimeout: 0 }, 'handshakeTimeout'],
    [{ nodeId: 'a', maxConnections: 0 }, 'maxConnections'],
    [{ nodeId: 'a', maxConnections: 1.5 }, 'maxConnections'],
    [{ nodeId: 'a', maxConnectionsPerAddress: 0 }, 'maxConnectionsPerAddress'],
    [{ nodeId: 'a', maxConnections: 10, maxConnectionsPerAddress: 11 }, 'maxConnectionsPerAddress'],
    [{ nodeId: 'a', maxBufferedBytes: -1 }, 'maxBufferedBytes'],
    [{ nodeId: 'a', maxFrameBytes: 1 << 20, maxBufferedBytes: (1 << 20) - 1 }, 'maxBufferedBytes'],
    [{ nodeId: 'a', frameTimeout: 0 }, 'frameTimeout'],
    [{ nodeId: 'a', frameTimeout: 'slow' }, 'frameTimeout'],
    [{ nodeId: 'a', idleTimeout: 0 }, 'idleTimeout'],
    [{ nodeId: 'a', idleTimeout: -5 }, 'idleTimeout'],
    [{ nodeId: 'a', connectTimeout: 'soon' }, 'connectTimeout'],
    [{ nodeId: 'a', reconnect: { baseDelay: -1 } }, 'reconnect.baseDelay'],
    [{ nodeId: 'a', reconnect: { baseDelay: '2s', maxDelay: '1s' } }, 'reconnect.maxDelay'],
    [{ nodeId: 'a', reconnect: { jitter: 1.5 } }, 'reconnect.jitter'],
    [{ nodeId: 'a', tls: 'yes' }, 'tls'],
    [{ nodeId: 'a', tls: { ca: 'c', cert: 'c' } }, 'tls.key'],
    [{ nodeId: 'a', tls: { ca: '', cert: 'c', key: 'k' } }, 'tls.ca'],
    [{ nodeId: 'a', tls: { ca: 'c', cert: 'c', key: 'k', hostnameCheck: 'sometimes' } }, 'tls.hostnameCheck'],
    [{ nodeId: 'a', tls: { ca: 'not a PEM', cert: 'c', key: 'k' } }, 'tls.ca'],
    [{ nodeId: 'a', clock: { now: () => 0 } }, 'clock'],
    [{ nodeId: 'a', logger: console.log }, 'logger'],
    [{ nodeId: 'a', maxFrameSize: 1 }, 'maxFrameSize'],
    [{ nodeId: 'a', reconnect: { maxDelai: '1s' } }, 'reconnect.maxDelai'],
    [{ nodeId: 'a', tls: { ca: 'c', cert: 'c', key: 'k', servername: 'x' } }, 'tls.servername'],
  ])('rejects %j naming %s', (options, path) => {
    expect(invalidField(options)).toBe(path);
  });

  it('takes options it resolved as they are, so a transport does not check (or parse TLS) twice', () => {
    const resolved = resolveTransportOptions({ nodeId: 'a', maxFrameBytes: 1 << 20 });
    expect(resolveTransportOptions(resolved)).toBe(resolved);
    // A copy is not trusted: it is checked again (and resolved fields are not input fields).
    expect(invalidField({ ...resolved })).toBe('handshakeTimeoutMs');
  });

  it("names fields by the caller's paths", () => {
    const at = (field: string): string => `outer.${field}`;
    try {
      resolveTransportOptions({ nodeId: 'a', reconnect: { jitter: 9 } }, at);
    } catch (error) {
      expect(isDistCacheError(error, 'E_INVALID_OPTION') && error.details['path']).toBe(
        'outer.reconnect.jitter',
      );
    }
    expect.assertions(1);
  });
});
