import type { PeerRef } from './coordinator';
import type { PeerIdentity } from '../transport/transport';

/** How this node sees another node. */
export type PeerStatus =
  /** Listed by discovery, never answered yet (or answered before and was dropped). */
  | 'pending'
  /** A member: on the ring. */
  | 'alive'
  /** A member that missed pings but is still within the failure timeout. */
  | 'suspect'
  /** Left gracefully; rejoins when it answers again. */
  | 'left';

/** A peer and its state, as `engine.peers()` reports it. */
export interface PeerInfo extends PeerRef {
  readonly status: PeerStatus | 'self';
  /** The node name from its handshake, when known. */
  readonly nodeName: string | undefined;
  /** Share of the hash space this node owns (0..1); 0 when not on the ring. */
  readonly ownershipShare: number;
  /** Epoch ms of the last answered ping or other traffic from the peer; undefined when never. */
  readonly lastSeenAt: number | undefined;
  /**
   * Why the peer is not a member, or why it is suspected, from the last failed contact (a refused
   * handshake such as another cluster name, "not in its peer list", a timeout); undefined when fine.
   */
  readonly problem?: string;
}

/** Mutable bookkeeping the membership keeps per candidate peer. */
export interface PeerRecord {
  readonly ref: PeerRef;
  status: PeerStatus;
  nodeName: string | undefined;
  lastSeenAt: number | undefined;
  /** A ping to this peer is in flight (never two at once). */
  pinging: boolean;
  /**
   * Send time of the first ping of the current silence that went unanswered with no other traffic
   * from the peer after it was sent; undefined while the peer answers.
   */
  unansweredSince: number | undefined;
  /** See {@link PeerInfo.problem}. */
  problem: string | undefined;
  /** The peer answered that it does not list this node (`E_NOT_A_MEMBER`). */
  refusesUs: boolean;
  /** When this node dropped it for silence; undefined when it left gracefully or is a member. */
  lostAt: number | undefined;
  /**
   * Dropped for a failure since it was last a member (a silence, an invalidation it did not
   * acknowledge in time, a refusal): each side may hold values the other's writes never reached,
   * so nothing is handed to it when it is back.
   */
  missedWrites: boolean;
  /** When discovery first listed it (this node's clock). */
  readonly listedAt: number;
}

export function peerId(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The id of the node a request came from (its advertised peer listener). */
export function senderId(from: PeerIdentity): string {
  return peerId(from.address.host, from.address.port);
}

export function peerRef(host: string, port: number): PeerRef {
  return { id: peerId(host, port), host, port };
}
