import { discoveryFailed, invalidOption } from '../errors/messages';
import { hostPort, type OptionFields, optionsObject } from '../util/options';
import type { DiscoveredPeer, DiscoveryProvider } from './discovery';

/** Options of {@link staticDiscovery}. */
export interface StaticDiscoveryOptions {
  /** Peer listeners as `"host:port"` (IPv6 as `"[::1]:3320"`); this node may be in the list. */
  peers: readonly string[];
}

const STATIC: OptionFields = {
  what: 'staticDiscovery option',
  fields: ['peers'] satisfies ReadonlyArray<keyof StaticDiscoveryOptions>,
};

/**
 * Parses `"host:port"` / `"[v6]:port"`.
 * @throws DistCacheError `E_INVALID_OPTION` naming `path`
 */
export function parseHostPort(value: unknown, path: string): DiscoveredPeer {
  return hostPort(value, path);
}

/**
 * A fixed list of peers, e.g. from configuration. Liveness still comes from the failure detector,
 * so listing a node that is down is fine: it joins when it answers.
 *
 * @throws DistCacheError `E_INVALID_OPTION` for a malformed address
 * @example
 * discovery: staticDiscovery({ peers: ['10.0.0.1:3320', '10.0.0.2:3320', '10.0.0.3:3320'] })
 */
export function staticDiscovery(options: StaticDiscoveryOptions): DiscoveryProvider {
  const input = optionsObject(options, 'discovery', STATIC, 'must be an object with "peers"');
  if (!Array.isArray(input.peers)) {
    throw invalidOption('discovery.peers', 'must be an array of "host:port" strings');
  }
  // An empty list forms no cluster (every peer refuses a node its own list leaves out); it started
  // a node that ran alone with no warning.
  if (input.peers.length === 0) {
    throw invalidOption(
      'discovery.peers',
      'is empty: list every node of the cluster, this one included, or use standaloneDiscovery() for a single node',
    );
  }
  const peers = input.peers.map((peer, index) => parseHostPort(peer, `discovery.peers[${index}]`));
  let closed = false;
  return {
    name: 'static',
    initialize: () => Promise.resolve(),
    register: () => Promise.resolve(),
    discoverPeers: () =>
      closed
        ? Promise.reject(discoveryFailed('static', 'the provider is closed'))
        : Promise.resolve(peers.map((peer) => ({ ...peer }))),
    deregister: () => Promise.resolve(),
    close: () => {
      closed = true;
      return Promise.resolve();
    },
  };
}
