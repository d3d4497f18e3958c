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
 * Kubernetes. Every method may be called once per engine lifetime, in this order:
 * `initialize`, `register`, any number of `discoverPeers`, `deregister`, `close`.
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
  /** Withdraws this node's announcement. Must be safe to call when `register` never ran. */
  deregister(): Promise<void>;
  /** Releases everything `initialize` opened. Idempotent. */
  close(): Promise<void>;
}
