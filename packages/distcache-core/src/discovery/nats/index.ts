// Entry point distcache-core/nats: discovery through a NATS server. Its client,
// @nats-io/transport-node, is an optional peer dependency loaded only when the provider starts.
export { natsDiscovery, NatsDiscovery } from './nats.discovery';
export {
  resolveNatsDiscoveryOptions,
  type NatsDiscoveryOptions,
  type NatsDiscoverySubjects,
  type NatsTlsOptions,
  type ResolvedNatsDiscoveryOptions,
  DEFAULT_NATS_CLUSTER,
  DEFAULT_NATS_SUBJECT_PREFIX,
  DEFAULT_NATS_HEARTBEAT_INTERVAL,
  DEFAULT_NATS_HEARTBEAT_TIMEOUT,
  DEFAULT_NATS_DISCOVER_WINDOW,
  DEFAULT_NATS_RECONNECT_TIME_WAIT,
  DEFAULT_NATS_CONNECT_TIMEOUT,
  DEFAULT_NATS_CLIENT_NAME,
} from './nats-discovery.options';
export { NATS_ANNOUNCEMENT_VERSION, type NatsAnnouncement, type NatsPeerState } from './nats-announcement';
export { NATS_CLIENT_PACKAGE, type NatsClientModule } from './nats-client';
