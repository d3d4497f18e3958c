export type { DiscoveredPeer, DiscoveryProvider } from './discovery';
export { standaloneDiscovery, isStandalone } from './standalone.discovery';
