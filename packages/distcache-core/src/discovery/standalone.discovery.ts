import type { DiscoveredPeer, DiscoveryProvider } from './discovery';

/**
 * A single-node "cluster": no peers, nothing announced. The default, and the mode for tests and
 * for one-replica deployments.
 */
export function standaloneDiscovery(): DiscoveryProvider {
  return {
    name: 'standalone',
    initialize: () => Promise.resolve(),
    register: () => Promise.resolve(),
    discoverPeers: (): Promise<DiscoveredPeer[]> => Promise.resolve([]),
    deregister: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/** True for the provider made by {@link standaloneDiscovery}. */
export function isStandalone(provider: DiscoveryProvider): boolean {
  return provider.name === 'standalone';
}
