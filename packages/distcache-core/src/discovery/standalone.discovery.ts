import { discoveryFailed } from '../errors/messages';
import type { DiscoveredPeer, DiscoveryProvider } from './discovery';

/**
 * A single-node "cluster": no peers, nothing announced. The default, and the mode for tests and
 * for one-replica deployments.
 */
export function standaloneDiscovery(): DiscoveryProvider {
  let closed = false;
  return {
    name: 'standalone',
    initialize: () => Promise.resolve(),
    register: () => Promise.resolve(),
    discoverPeers: (): Promise<DiscoveredPeer[]> =>
      closed ? Promise.reject(discoveryFailed('standalone', 'the provider is closed')) : Promise.resolve([]),
    deregister: () => Promise.resolve(),
    close: () => {
      closed = true;
      return Promise.resolve();
    },
  };
}

/** True for the provider made by {@link standaloneDiscovery}. */
export function isStandalone(provider: DiscoveryProvider): boolean {
  return provider.name === 'standalone';
}
