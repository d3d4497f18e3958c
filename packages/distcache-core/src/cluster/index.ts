export type { ClusterCoordinator, PeerRef, SendOptions } from './coordinator';
export type { PeerInfo, PeerStatus } from './peer-state';
export { peerProblems } from './peer-problems';
export {
  type ClusterOptions,
  type ResolvedClusterOptions,
  resolveClusterOptions,
  DEFAULT_PING_INTERVAL,
  DEFAULT_PING_TIMEOUT,
  DEFAULT_FAILURE_TIMEOUT,
  DEFAULT_DISCOVERY_INTERVAL,
  DEFAULT_HOT_SHARE,
  DEFAULT_HOT_TTL,
  DEFAULT_BROADCAST_TIMEOUT,
  DEFAULT_MIN_MEMBERS,
  DEFAULT_BOOTSTRAP_TIMEOUT,
  DEFAULT_JOIN_RETRIES,
  DEFAULT_JOIN_RETRY_DELAY,
} from './cluster.options';
