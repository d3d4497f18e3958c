export type {
  PeerAddress,
  PeerIdentity,
  PeerRequest,
  PeerRequestHandler,
  PeerRequestMeta,
  PeerRequestOp,
  PeerRequestOptions,
  PeerReply,
  PeerResponse,
  PeerTransport,
  ValueResult,
  WireBytes,
} from './transport';
export { MAX_META_ENTRIES, wireByteLength } from './transport';
export { TcpPeerTransport, tcpPeerTransport } from './tcp-peer-transport';
export {
  type PeerTlsOptions,
  type ReconnectOptions,
  type ResolvedTransportOptions,
  type TcpPeerTransportOptions,
  resolveTransportOptions,
  DEFAULT_TRANSPORT_CLUSTER,
  DEFAULT_TRANSPORT_HOST,
  DEFAULT_TRANSPORT_PORT,
  DEFAULT_MAX_FRAME_BYTES,
  MAX_MAX_FRAME_BYTES,
  DEFAULT_MAX_IN_FLIGHT_PER_PEER,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_FRAME_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_RECONNECT_BASE_DELAY,
  DEFAULT_RECONNECT_MAX_DELAY,
  DEFAULT_RECONNECT_JITTER,
  MAX_NAME_BYTES,
} from './transport-options';
export { formatPeerAddress, parsePeerAddress } from './peer-address';
export { PROTOCOL_VERSION } from './wire-format';
