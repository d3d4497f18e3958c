import { hostPort } from '../util/options';
import type { PeerAddress } from './transport';

/**
 * The id of a peer: `"host:port"`, with IPv6 hosts in brackets (`"[::1]:3320"`).
 *
 * @example formatPeerAddress({ host: '10.0.0.7', port: 3320 }) // '10.0.0.7:3320'
 */
export function formatPeerAddress(address: PeerAddress): string {
  // Only IPv6 literals contain ':' (host names and IPv4 never do).
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * Parses a `"host:port"` id (IPv6 hosts in brackets) into a {@link PeerAddress}.
 *
 * @param path field path used in the error message
 * @throws DistCacheError `E_INVALID_OPTION` when the text is not `host:port` with a port in 1..65535
 */
export function parsePeerAddress(text: string, path = 'peer'): PeerAddress {
  return hostPort(text, path);
}
