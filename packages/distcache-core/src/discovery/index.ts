export type { DiscoveredPeer, DiscoveryProvider } from './discovery';
export { standaloneDiscovery, isStandalone } from './standalone.discovery';
export { staticDiscovery, parseHostPort, type StaticDiscoveryOptions } from './static.discovery';
