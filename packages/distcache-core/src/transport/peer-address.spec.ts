import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors';
import { formatPeerAddress, parsePeerAddress } from './peer-address';

describe('peer addresses', () => {
  it('formats host:port with IPv6 in brackets', () => {
    expect(formatPeerAddress({ host: '10.0.0.7', port: 3320 })).toBe('10.0.0.7:3320');
    expect(formatPeerAddress({ host: 'cache-0.cache', port: 1 })).toBe('cache-0.cache:1');
    expect(formatPeerAddress({ host: '::1', port: 3320 })).toBe('[::1]:3320');
  });

  it('parses what it formats', () => {
    for (const address of [
      { host: '10.0.0.7', port: 3320 },
      { host: 'cache-0.cache', port: 65_535 },
      { host: 'fe80::1', port: 1 },
    ]) {
      expect(parsePeerAddress(formatPeerAddress(address))).toEqual(address);
    }
  });

  it('rejects malformed ids with E_INVALID_OPTION naming the path', () => {
    for (const bad of ['host', 'host:0', 'host:65536', ':80', '::1:80', 'a:b']) {
      let error: unknown;
      try {
        parsePeerAddress(bad, 'discovery.peers[0]');
      } catch (caught) {
        error = caught;
      }
      expect(isDistCacheError(error, 'E_INVALID_OPTION'), bad).toBe(true);
      expect((error as Error).message).toContain('discovery.peers[0]');
    }
  });
});
