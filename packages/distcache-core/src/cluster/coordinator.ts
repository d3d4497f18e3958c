/** Another node of the cluster, as routing sees it. */
export interface PeerRef {
  /** Stable id: `host:port` of its peer listener. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/**
 * The seam between the engine and the cluster: who owns a key, and (in cluster mode) talking to
 * peers. The engine asks `ownerOf` on every operation; `undefined` means "this node", and the
 * standalone coordinator always answers that.
 */
export interface ClusterCoordinator {
  /** Joins the cluster (listener, discovery, failure detector). Must release what it opened on failure. */
  start(signal: AbortSignal): Promise<void>;
  /** Leaves the cluster and releases everything. Idempotent. */
  stop(): Promise<void>;
  /** The owner of `key` in `keySpace`, or `undefined` when this node owns it. */
  ownerOf(keySpace: string, key: string): PeerRef | undefined;
  /** The live members, this node included. */
  members(): readonly PeerRef[];
}
