// distcache-core/admin: the admin HTTP server (JSON endpoints, Prometheus text, live dashboard).
export { AdminServer, adminServer, type AdminAddress } from './admin.server';
export {
  type AdminServerOptions,
  type ResolvedAdminServerOptions,
  resolveAdminServerOptions,
  DEFAULT_ADMIN_HOST,
  DEFAULT_ADMIN_PORT,
} from './admin.options';
export type {
  AdminTarget,
  PeerView,
  PeersView,
  KeySpaceView,
  KeySpacesView,
  HealthView,
  ReadyView,
} from './admin.views';
export { prometheusText } from './prometheus';
export {
  type HistoryView,
  type HistorySample,
  type KeySpaceSample,
  HISTORY_INTERVAL_MS,
  HISTORY_WINDOW_MS,
} from './admin.history';
