import { setMaxListeners } from 'node:events';
import type { DiscoveredPeer, DiscoveryProvider } from '../discovery/discovery';
import { hashRing, type HashRing } from '../hashing/hash-ring';
import type { PeerEvent } from '../engine/engine.events';
import type { PeerTransport } from '../transport/transport';
import type { Clock } from '../util/clock';
import type { Logger } from '../util/logger';
import type { ResolvedClusterOptions } from './cluster.options';
import type { PeerRef } from './coordinator';
import { type PeerInfo, type PeerRecord, peerRef } from './peer-state';

export interface MembershipDeps {
  readonly self: PeerRef;
  readonly nodeName: string;
  readonly discovery: DiscoveryProvider;
  readonly transport: PeerTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options: ResolvedClusterOptions;
  readonly onEvent: (event: PeerEvent) => void;
  /**
   * Contact with `peer` resumed after a silence of at least the failure timeout: one of the two
   * nodes was frozen, partitioned away or dropped, and writes acknowledged meanwhile on one side
   * never reached the other. Called before the peer is back on the ring and before this node
   * answers the ping that revealed it.
   */
  readonly onContactResumed?: (peer: PeerRef, silentForMs: number) => void;
}

/**
 * Who is in the cluster: discovery lists candidates, pings say who is alive, and the ring is built
 * from this node plus the alive members. Every change rebuilds the ring (an immutable value swapped
 * in one assignment) and raises a typed event.
 */
export class Membership {
  private readonly peers = new Map<string, PeerRecord>();
  private membersById = new Map<string, PeerRef>();
  private ringValue: HashRing;
  private pingTimer: unknown;
  private discoveryTimer: unknown;
  private running = false;
  private unwatch: (() => void) | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly deps: MembershipDeps) {
    // One listener per ping in flight, one ping per peer: large clusters exceed the default 10.
    setMaxListeners(0, this.abort.signal);
    this.ringValue = this.buildRing();
  }

  get ring(): HashRing {
    return this.ringValue;
  }

  /** Loads the candidate list and pings everyone once, so the ring is as complete as it can be. */
  async start(): Promise<void> {
    this.running = true;
    this.unwatch = this.deps.discovery.watch?.((peers) => this.applyCandidates(peers));
    await this.refreshCandidates();
    await this.pingAll();
    this.schedulePing();
    this.scheduleDiscovery();
  }

  /** Stops pinging; does not notify peers (the coordinator does, before closing the transport). */
  stop(): void {
    this.running = false;
    this.unwatch?.();
    this.unwatch = undefined;
    this.abort.abort();
    this.deps.clock.clearTimeout(this.pingTimer);
    this.deps.clock.clearTimeout(this.discoveryTimer);
  }

  /** Live members other than this node. */
  aliveMembers(): PeerRef[] {
    return [...this.peers.values()].filter((peer) => isMember(peer)).map((peer) => peer.ref);
  }

  /** The live member with this id (hot path: a map lookup, no allocation). */
  member(id: string): PeerRef | undefined {
    return this.membersById.get(id);
  }

  /**
   * Someone announced that member `id` is leaving. Any client that passed the handshake can send
   * that notice naming any address (the handshake's advertised address is not proven), so it is
   * only a hint: the member is pinged over this node's own connection and dropped at once only when
   * it does not answer as a running node. A node that is really leaving answers `E_ENGINE_STOPPED`
   * or has closed its listener; a forged notice about a live member is ignored with a warning.
   */
  async confirmLeave(id: string): Promise<void> {
    const peer = this.peers.get(id);
    if (peer === undefined || !isMember(peer)) return;
    const answered = await this.deps.transport
      .request(
        peer.ref,
        { op: 'ping' },
        { timeoutMs: this.deps.options.pingTimeoutMs, signal: this.abort.signal },
      )
      .then(
        (response) => response.op === 'pong',
        () => false,
      );
    if (!this.running || this.peers.get(id) !== peer) return;
    if (!answered) return this.markLeft(id);
    this.deps.logger.warn(`ignored a leave notice for peer ${id}: it still answers pings`, { peer: id });
  }

  /**
   * A listed peer pinged this node. After a long silence that may be the first sign of a healed
   * partition or a thawed node: it is reported before the pong goes out, since the pong is what
   * lets the peer route here. It is reported again for every such ping until a ping of ours is
   * answered (over a one-way or very slow link, pings keep coming while ours fail). A peer off the
   * ring is pinged back now, on a new connection (the reconnect backoff its earlier failures left
   * would refuse the ping for up to `reconnect.maxDelay`), instead of at the next interval: a node
   * that (re)starts is on everyone's ring about one round trip after its first ping.
   */
  heardFrom(id: string): void {
    const peer = this.peers.get(id);
    if (peer === undefined || !this.running) return;
    this.noteResumedContact(peer, false);
    if (isMember(peer) || peer.pinging) return;
    this.deps.transport.disconnect?.(peer.ref);
    void this.ping(peer);
  }

  /** A peer left (confirmed): drop it from the ring now. */
  markLeft(id: string): void {
    const peer = this.peers.get(id);
    if (peer === undefined || !isMember(peer)) return;
    peer.status = 'left';
    this.changed({ type: 'left', peer: peer.ref, reason: 'graceful' });
  }

  /** Every known peer with its state and ownership share, this node first. */
  describe(): PeerInfo[] {
    const shares = this.ringValue.ownershipShare();
    const self: PeerInfo = {
      ...this.deps.self,
      status: 'self',
      nodeName: this.deps.nodeName,
      ownershipShare: shares.get(this.deps.self.id) ?? 0,
      lastSeenAt: this.deps.clock.now(),
    };
    return [
      self,
      ...[...this.peers.values()].map((peer) => ({
        ...peer.ref,
        status: peer.status,
        nodeName: peer.nodeName,
        ownershipShare: shares.get(peer.ref.id) ?? 0,
        lastSeenAt: peer.lastSeenAt,
      })),
    ];
  }

  /** Asks discovery for candidates; adds new ones as pending, drops the ones no longer listed. */
  async refreshCandidates(): Promise<void> {
    let discovered;
    try {
      discovered = await this.deps.discovery.discoverPeers(this.abort.signal);
    } catch (error) {
      // Keep the current members: a discovery outage must not empty a working cluster.
      this.deps.logger.warn('discovery failed; keeping the current member list', {
        provider: this.deps.discovery.name,
        error: String(error),
      });
      return;
    }
    this.applyCandidates(discovered);
  }

  /**
   * Takes a full candidate list: new candidates are pinged at once (so a join shows within one
   * round trip), members no longer listed leave the ring.
   */
  applyCandidates(discovered: readonly DiscoveredPeer[]): void {
    if (!this.running) return;
    const listed = new Set<string>();
    const added: PeerRecord[] = [];
    for (const candidate of discovered) {
      const ref = peerRef(candidate.host, candidate.port);
      if (ref.id === this.deps.self.id) continue;
      listed.add(ref.id);
      if (!this.peers.has(ref.id)) {
        const peer: PeerRecord = {
          ref,
          status: 'pending',
          nodeName: candidate.nodeName,
          lastSeenAt: undefined,
          pinging: false,
        };
        this.peers.set(ref.id, peer);
        added.push(peer);
      }
    }
    for (const [id, peer] of this.peers) {
      if (listed.has(id)) continue;
      this.peers.delete(id);
      this.deps.transport.disconnect?.(peer.ref);
      if (isMember(peer)) this.changed({ type: 'left', peer: peer.ref, reason: 'undiscovered' });
    }
    for (const peer of added) void this.ping(peer);
  }

  private async pingAll(): Promise<void> {
    await Promise.all([...this.peers.values()].map((peer) => this.ping(peer)));
  }

  private async ping(peer: PeerRecord): Promise<void> {
    if (peer.pinging) return;
    peer.pinging = true;
    const { transport, clock, options } = this.deps;
    try {
      const response = await transport.request(
        peer.ref,
        { op: 'ping' },
        { timeoutMs: options.pingTimeoutMs, signal: this.abort.signal },
      );
      if (response.op !== 'pong')
        throw new Error(response.op === 'error' ? response.message : `unexpected ${response.op}`);
      if (!this.running || this.peers.get(peer.ref.id) !== peer) return;
      this.noteResumedContact(peer, true);
      peer.lastSeenAt = clock.now();
      peer.nodeName = response.nodeId;
      const wasMember = isMember(peer);
      peer.status = 'alive';
      if (!wasMember) this.changed({ type: 'joined', peer: peer.ref });
    } catch {
      if (!this.running || this.peers.get(peer.ref.id) !== peer || !isMember(peer)) return;
      const silentFor = clock.now() - (peer.lastSeenAt ?? 0);
      if (silentFor >= options.failureTimeoutMs) {
        peer.status = 'pending';
        this.deps.logger.warn('peer stopped answering; dropped from the ring', {
          peer: peer.ref.id,
          silentForMs: silentFor,
        });
        this.changed({ type: 'left', peer: peer.ref, reason: 'failed' });
      } else {
        peer.status = 'suspect';
      }
    } finally {
      peer.pinging = false;
    }
  }

  /**
   * Reports contact with `peer` after a silence of at least the failure timeout since its last
   * answered ping. `answered`: a ping of ours was answered (two-way contact is back), else the peer
   * pinged us.
   */
  private noteResumedContact(peer: PeerRecord, answered: boolean): void {
    const last = peer.lastSeenAt;
    // A graceful leaver took nothing with it; a peer never seen has nothing to reconcile.
    if (last === undefined || peer.status === 'left') return;
    const silentFor = this.deps.clock.now() - last;
    if (silentFor < this.deps.options.failureTimeoutMs) return;
    if (answered) {
      this.deps.logger.warn('contact with a peer resumed after a silence', {
        peer: peer.ref.id,
        silentForMs: silentFor,
      });
    }
    this.deps.onContactResumed?.(peer.ref, silentFor);
  }

  private schedulePing(): void {
    if (!this.running) return;
    this.pingTimer = this.deps.clock.setTimeout(() => {
      void this.pingAll().finally(() => this.schedulePing());
    }, this.deps.options.pingIntervalMs);
  }

  private scheduleDiscovery(): void {
    if (!this.running) return;
    this.discoveryTimer = this.deps.clock.setTimeout(() => {
      void this.refreshCandidates().finally(() => this.scheduleDiscovery());
    }, this.deps.options.discoveryIntervalMs);
  }

  private changed(event: PeerEvent): void {
    this.ringValue = this.buildRing();
    this.deps.logger.info(`peer ${event.type}`, { peer: event.peer.id, members: this.ringValue.size });
    this.deps.onEvent(event);
  }

  private buildRing(): HashRing {
    const alive = this.aliveMembers();
    this.membersById = new Map(alive.map((peer) => [peer.id, peer]));
    const members = [this.deps.self.id, ...alive.map((peer) => peer.id)];
    return hashRing(members, { virtualNodes: this.deps.options.virtualNodes });
  }
}

function isMember(peer: PeerRecord): boolean {
  return peer.status === 'alive' || peer.status === 'suspect';
}
