export type { ClusterCoordinator, PeerRef } from './coordinator';
