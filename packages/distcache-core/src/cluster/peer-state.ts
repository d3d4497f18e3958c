import type { PeerRef } from './coordinator';

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
  /** Epoch ms of the last answered ping; undefined when never. */
  readonly lastSeenAt: number | undefined;
}

/** Mutable bookkeeping the membership keeps per candidate peer. */
export interface PeerRecord {
  readonly ref: PeerRef;
  status: PeerStatus;
  nodeName: string | undefined;
  lastSeenAt: number | undefined;
  /** A ping to this peer is in flight (never two at once). */
  pinging: boolean;
}

export function peerId(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function peerRef(host: string, port: number): PeerRef {
  return { id: peerId(host, port), host, port };
}
