/** A node as discovery sees it: where its peer listener is. */
export interface DiscoveredPeer {
  /** Host or IP other peers connect to. */
  readonly host: string;
  /** Peer-protocol port. */
  readonly port: number;
  /** The node's name when the provider knows it. */
  readonly nodeName?: string;
}

/**
 * Says who may be a member of the cluster. Liveness is not its job (the failure detector decides
 * that); discovery only lists candidates. Implementations: standalone, static, DNS, NATS,
 * Kubernetes. The engine calls, in this order: `initialize`, `register`, then `discoverPeers`
 * periodically (and `watch` once, when present), and on stop `deregister` and `close`.
 *
 * Rules every provider follows (checked by `discoveryConformanceChecks` in
 * `distcache-core/testing`): `deregister` is safe without `register`; `close` is idempotent and
 * safe after a failed `initialize`; after `close`, `discoverPeers` rejects with a
 * `DistCacheError`; every returned peer has a non-empty host and a port from 1 to 65535; failures
 * are `DistCacheError`s (`E_MISSING_DEPENDENCY` when the provider's client library is not
 * installed, `E_INVALID_OPTION` for bad options at construction).
 */
export interface DiscoveryProvider {
  /** Short name for logs and stats, e.g. `'static'`. */
  readonly name: string;
  /** Opens connections or clients the provider needs. */
  initialize(signal: AbortSignal): Promise<void>;
  /** Announces this node (no-op for providers that cannot announce, such as static lists). */
  register(self: DiscoveredPeer, signal: AbortSignal): Promise<void>;
  /** The current candidate members, this node possibly included. */
  discoverPeers(signal: AbortSignal): Promise<DiscoveredPeer[]>;
  /**
   * Optional push updates: calls `listener` with the full candidate list whenever the provider
   * learns of a change (a NATS announcement, a Kubernetes watch event). Returns an unsubscribe
   * function. Polling through `discoverPeers` continues as a safety net.
   */
  watch?(listener: (peers: DiscoveredPeer[]) => void): () => void;
  /** Withdraws this node's announcement. Must be safe to call when `register` never ran. */
  deregister(): Promise<void>;
  /** Releases everything `initialize` opened. Idempotent. */
  close(): Promise<void>;
}
