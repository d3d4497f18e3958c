import { invalidOption } from '../errors/messages';
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
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw invalidOption(path, 'must be "host:port" (IPv6 hosts in brackets) with a port in 1..65535', text);
  }
  return { host, port };
}
