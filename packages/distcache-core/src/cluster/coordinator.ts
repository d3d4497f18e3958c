import type { PeerRequest, PeerRequestHandler, PeerResponse } from '../transport/transport';
import type { PeerInfo } from './peer-state';

/** Another node of the cluster, as routing sees it. */
export interface PeerRef {
  /** Stable id: `host:port` of its peer listener. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** Options of one request to a peer. */
export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** See `PeerRequestOptions.sendNow`. */
  sendNow?: boolean;
}

/**
 * The seam between the engine and the cluster: who owns a key, and talking to peers. The engine
 * asks `ownerOf` on every operation; `undefined` means "this node", which is always the answer of
 * the standalone coordinator.
 */
export interface ClusterCoordinator {
  /**
   * Joins the cluster: starts the peer listener (serving requests with `handler`), discovery and the
   * failure detector. Releases what it opened when it fails.
   */
  start(handler: PeerRequestHandler, signal: AbortSignal): Promise<void>;
  /** Tells peers this node leaves, then releases everything. Idempotent. */
  stop(): Promise<void>;
  /** The owner of `key` in `keySpace`, or `undefined` when this node owns it. */
  ownerOf(keySpace: string, key: string): PeerRef | undefined;
  /**
   * What a read of this node's entries and hot copies must wait for first: `undefined` (the usual
   * answer, checked on every read), or a pull of invalidations this node may have missed while
   * its loop stalled or it was cut off (docs/reliability.md, guarantee 4).
   */
  readHold(): Promise<void> | undefined;
  /** This node (its id is known once the listener is bound). */
  self(): PeerRef;
  /** This node and the live members. */
  members(): readonly PeerRef[];
  /** Every known peer with its state and ownership share, this node first. */
  peers(): PeerInfo[];
  /** Sends one request to one peer. @throws DistCacheError from the transport */
  send(peer: PeerRef, request: PeerRequest, options: SendOptions): Promise<PeerResponse>;
  /**
   * Sends `request` to every live member except `skip`, in parallel, and resolves once each
   * answered or failed. Returns the ids of the members that did not acknowledge.
   */
  broadcast(request: PeerRequest, options: SendOptions, skip?: ReadonlySet<string>): Promise<string[]>;
  /**
   * Tells every listed peer except `skip` to drop its copies of `keys`, and resolves once each
   * member acknowledged, or failed within `options.timeoutMs` (a connection refused or reset is
   * retried within it). What a peer did not acknowledge (or could not be sent, since it is off the
   * ring) is kept and delivered before that peer is routed to again (docs/protocol.md,
   * "Membership"). Resolves with the ids of the peers that owe.
   */
  invalidate(
    keySpace: string,
    keys: readonly string[],
    options: SendOptions,
    skip?: string,
  ): Promise<string[]>;
  /**
   * Tells every listed peer to drop every entry and hot copy of `keySpace` (a cluster-wide
   * `clear()`), with the same delivery guarantee as {@link invalidate}.
   */
  clearEverywhere(keySpace: string, options: SendOptions): Promise<string[]>;
  /**
   * Brings what is kept for `keySpace` (missed invalidations) within the bytes its budget allows
   * now, and charges it: after its `maxBytes` changed, or it was added again under its name.
   */
  enforceBookkeeping?(keySpace: string): void;
  /**
   * Tells every listed peer to drop every entry and hot copy of `keySpace` carrying one of `tags`
   * (`deleteByTags`), with the same delivery guarantee as {@link invalidate}. A peer of an older
   * version, which cannot, clears the keyspace instead. `again`: the second round of a
   * `deleteByTags` (see `ClusterWrites.invalidateTags`), not counted in stats.
   */
  invalidateTags(
    keySpace: string,
    tags: readonly string[],
    options: SendOptions,
    again?: boolean,
  ): Promise<string[]>;
}

/**
 * Settles once `hold` has and no newer hold replaced it: a stall while a read waited starts a new
 * pull, which that read must wait for too. Each hold is bounded, and a new one takes a new stall.
 */
export function afterHolds(
  hold: Promise<void>,
  coordinator: Pick<ClusterCoordinator, 'readHold'>,
): Promise<void> {
  return hold.then(() => {
    const next = coordinator.readHold();
    return next === undefined ? undefined : afterHolds(next, coordinator);
  });
}
