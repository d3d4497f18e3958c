import type { DiscoveredPeer } from '../discovery';
import { peerKey } from './nats-announcement';

interface Entry {
  peer: DiscoveredPeer;
  lastSeenAt: number;
}

/**
 * Peers heard from, each with the time of its last heartbeat. Pure bookkeeping with time passed
 * in, so the expiry rules are testable with a manual clock:
 * - a peer silent for longer than `timeoutMs` expires;
 * - while `paused` (this node cannot reach NATS, so no heartbeat can arrive) nothing expires;
 * - `resume` counts every peer as heard from at that moment: a full timeout of grace, time for
 *   the peers to reconnect and heartbeat again;
 * - `credit` forgives the time this node itself was stalled.
 * Every mutator returns whether the list changed, so the caller knows when to notify watchers.
 */
export class HeartbeatTable {
  private readonly entries = new Map<string, Entry>();
  private pausedValue = false;

  constructor(private readonly timeoutMs: number) {}

  get paused(): boolean {
    return this.pausedValue;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Records a heartbeat. Changed when the peer is new or its node name differs. */
  seen(peer: DiscoveredPeer, now: number): boolean {
    const key = peerKey(peer);
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.entries.set(key, { peer: copy(peer), lastSeenAt: now });
      return true;
    }
    entry.lastSeenAt = Math.max(entry.lastSeenAt, now);
    if (entry.peer.nodeName === peer.nodeName) return false;
    entry.peer = copy(peer);
    return true;
  }

  /** Forgets a peer that announced its departure. */
  remove(peer: { readonly host: string; readonly port: number }): boolean {
    return this.entries.delete(peerKey(peer));
  }

  /** Drops peers silent for longer than the timeout (none while paused); returns those dropped. */
  expire(now: number): DiscoveredPeer[] {
    if (this.pausedValue) return [];
    const dropped: DiscoveredPeer[] = [];
    for (const [key, entry] of this.entries) {
      if (now - entry.lastSeenAt <= this.timeoutMs) continue;
      this.entries.delete(key);
      dropped.push(entry.peer);
    }
    return dropped;
  }

  /** Stops expiry: heartbeats cannot arrive. */
  pause(): void {
    this.pausedValue = true;
  }

  /** Restarts expiry, granting every peer a full timeout from `now`. */
  resume(now: number): void {
    this.pausedValue = false;
    for (const entry of this.entries.values()) entry.lastSeenAt = Math.max(entry.lastSeenAt, now);
  }

  /**
   * Does not count `ms` of this node's own stall (a long GC pause, a starved event loop) against
   * the peers: their heartbeats are waiting unread in the socket, not missing.
   */
  credit(ms: number, now: number): void {
    for (const entry of this.entries.values()) entry.lastSeenAt = Math.min(now, entry.lastSeenAt + ms);
  }

  /** The peers, in the order they were first heard from (copies). */
  list(): DiscoveredPeer[] {
    return [...this.entries.values()].map((entry) => copy(entry.peer));
  }

  clear(): void {
    this.entries.clear();
  }
}

const copy = (peer: DiscoveredPeer): DiscoveredPeer =>
  peer.nodeName === undefined
    ? { host: peer.host, port: peer.port }
    : { host: peer.host, port: peer.port, nodeName: peer.nodeName };
