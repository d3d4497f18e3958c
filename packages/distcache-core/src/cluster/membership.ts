import { setMaxListeners } from 'node:events';
import { isDistCacheError } from '../errors/distcache-error';
import type { DiscoveredPeer, DiscoveryProvider } from '../discovery/discovery';
import { hashRing, type HashRing } from '../hashing/hash-ring';
import type { PeerEvent } from './peer-event';
import type { PeerResponse, PeerTransport } from '../transport/transport';
import type { Clock } from '../util/clock';
import type { Logger } from '../util/logger';
import { LogThrottle } from '../util/log-throttle';
import type { ResolvedClusterOptions } from './cluster.options';
import type { PeerRef } from './coordinator';
import { LocalHealth, SAMPLE_INTERVAL_MS, TICK_SLACK_MS } from './local-health';
import { type PeerInfo, type PeerRecord, peerRef } from './peer-state';

/** Why this node pulls missed invalidations (see {@link MembershipDeps.resync}). */
export type ResyncCause = { readonly stalledUntil: number } | { readonly peer: PeerRef };

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
   * Delivers what `peer` missed (invalidations it did not acknowledge). Called before a peer joins
   * the ring, and whenever a member that owes is heard from; resolves true when nothing is owed
   * any more. A peer whose repair fails stays off the ring until a later ping repairs it.
   */
  readonly repair?: (peer: PeerRef) => Promise<boolean>;
  /** True when `peer` owes nothing (no repair needed). */
  readonly isRepaired?: (peer: PeerRef) => boolean;
  /**
   * Pulls the invalidations this node may have missed (docs/protocol.md, "Membership"): from
   * `peer`, before a peer this node had dropped for silence is taken back (a partition heals: its
   * side wrote meanwhile); from every peer, after this node's own loop stalled for a broadcast
   * timeout or more (writers may have given up on it and resolved without it), `stalledUntil`
   * being about when that stall ended (clock time): a pull started before does not cover it.
   */
  readonly resync?: (cause: ResyncCause) => Promise<void>;
  /** Discovery no longer lists `peer`: forget what it was owed. */
  readonly onForgotten?: (peer: PeerRef) => void;
}

/** How many other members confirm a suspicion before a peer is dropped (SWIM's indirect probes). */
const INDIRECT_PROBES = 2;
/** How often start-up convergence pings candidates that have not answered yet. */
const CONVERGE_RETRY_MS = 50;
/**
 * How long a listed peer that never answered may refuse connections before that is a warning: the
 * replicas of one deployment start seconds apart, and each one listing the others before they
 * listen is how every cluster starts, not a fault. Until then it is logged at debug level; a refused
 * handshake (another cluster or protocol version) is a warning at once.
 */
const STARTING_PEER_GRACE_MS = 30_000;

/**
 * Who is in the cluster: discovery lists candidates, the failure detector says who is alive, and
 * the ring is built from this node plus the alive members. Every change rebuilds the ring (an
 * immutable value swapped in one assignment) and raises a typed event.
 *
 * The failure detector (docs/protocol.md, "Membership") tells a busy or paused peer from a dead
 * one: any bytes from the peer prove it alive, not only pongs; silence is counted from the first
 * ping that went unanswered, not from the last answer; this node's own stalls are subtracted
 * ({@link LocalHealth}); and after `failureTimeout` of silence other members are asked to probe the
 * peer before it is dropped.
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
  private readonly health: LocalHealth;
  private readonly warnings: LogThrottle;
  /** Resolved on every change of a peer's state (start-up waits on it instead of polling). */
  private waiters: Array<() => void> = [];
  private lastRefreshAt = 0;
  private stallCheckedAt = 0;
  /** The tick due when {@link noticeTime} last acted on a stall in progress. */
  private noticedTickDue = Number.NaN;
  /** Settles once the first candidate list is in (a ping may arrive before it is). */
  private readonly loaded: Promise<void>;
  private markLoaded: () => void = () => undefined;

  constructor(private readonly deps: MembershipDeps) {
    // One listener per ping in flight, one ping per peer: large clusters exceed the default 10.
    setMaxListeners(0, this.abort.signal);
    this.health = new LocalHealth(deps.clock, 2 * deps.options.failureTimeoutMs, (lag) => {
      // A single stall that long is acted on at the late tick, not a ping interval later.
      if (this.mayHaveCost(lag)) this.checkOwnStall();
    });
    // Peer problems repeat every ping (twice a second): once a minute per peer and kind is enough.
    this.warnings = new LogThrottle(deps.logger, deps.clock, 60_000);
    this.ringValue = this.buildRing();
    this.loaded = new Promise((resolve) => (this.markLoaded = resolve));
  }

  get ring(): HashRing {
    return this.ringValue;
  }

  /** Loads the candidate list and pings everyone once. */
  async start(): Promise<void> {
    this.running = true;
    this.stallCheckedAt = this.deps.clock.now();
    this.health.start();
    this.unwatch = this.deps.discovery.watch?.((peers) => this.applyCandidates(peers));
    await this.refreshCandidates();
    this.markLoaded();
    await this.pingAll();
    this.schedulePing();
    this.scheduleDiscovery();
  }

  /**
   * Waits until every candidate is a member or refuses this node, re-pinging the others every
   * {@link CONVERGE_RETRY_MS} (nodes started together are not all listening yet), for at most
   * `timeoutMs`. Nodes started together are on each other's rings when this resolves.
   */
  async converge(timeoutMs: number): Promise<void> {
    const deadline = this.deps.clock.now() + timeoutMs;
    let round = this.deps.clock.now();
    while (this.running && this.unsettled().length > 0) {
      const left = deadline - this.deps.clock.now();
      if (left <= 0) return;
      await this.changedOrAfter(Math.min(CONVERGE_RETRY_MS, left));
      // Every ping's end wakes this loop: re-check at once, but re-ping at most every 50 ms (a
      // refused connect fails in microseconds and would otherwise spin).
      if (this.deps.clock.now() - round < CONVERGE_RETRY_MS) continue;
      round = this.deps.clock.now();
      for (const peer of this.unsettled()) {
        if (peer.pinging) continue;
        // The backoff a refused connect left would fail the retry at once.
        this.deps.transport.disconnect?.(peer.ref);
        void this.ping(peer);
      }
    }
  }

  /** Waits until the ring has `count` members or `timeoutMs` passed; resolves with the ring size. */
  async awaitMembers(count: number, timeoutMs: number): Promise<number> {
    const deadline = this.deps.clock.now() + timeoutMs;
    while (this.running && this.ringValue.size < count) {
      const left = deadline - this.deps.clock.now();
      if (left <= 0) break;
      await this.changedOrAfter(left);
    }
    return this.ringValue.size;
  }

  /** Candidates that answered that they do not list this node. */
  refusingPeers(): string[] {
    return [...this.peers.values()].filter((peer) => peer.refusesUs).map((peer) => peer.ref.id);
  }

  /** Stops pinging; does not notify peers (the coordinator does, before closing the transport). */
  stop(): void {
    this.running = false;
    this.unwatch?.();
    this.unwatch = undefined;
    this.abort.abort();
    this.health.stop();
    this.markLoaded();
    this.deps.clock.clearTimeout(this.pingTimer);
    this.deps.clock.clearTimeout(this.discoveryTimer);
    this.wake();
  }

  /** Live members other than this node. */
  aliveMembers(): PeerRef[] {
    return [...this.peers.values()].filter((peer) => isMember(peer)).map((peer) => peer.ref);
  }

  /** True when discovery lists `id` now (no refresh). */
  isListed(id: string): boolean {
    return this.peers.has(id);
  }

  /** Every listed candidate other than this node, member or not. */
  candidates(): PeerRef[] {
    return [...this.peers.values()].map((peer) => peer.ref);
  }

  /**
   * How long nothing has come from `peer`, less this node's own stalls meanwhile (bytes it sent
   * wait unread in the socket while this loop is stalled); `undefined` when the transport cannot
   * tell, infinite when nothing ever came.
   */
  quietFor(peer: PeerRef): number | undefined {
    const { transport, clock } = this.deps;
    if (transport.lastHeardFrom === undefined) return undefined;
    const heard = transport.lastHeardFrom(peer);
    if (heard === undefined) return Number.POSITIVE_INFINITY;
    return clock.now() - heard - this.health.stalledSince(heard);
  }

  /** The live member with this id (hot path: a map lookup, no allocation). */
  member(id: string): PeerRef | undefined {
    return this.membersById.get(id);
  }

  /** True when discovery lists `id` (after a refresh, when it did not and the list may be old). */
  async lists(id: string): Promise<boolean> {
    if (this.peers.has(id)) return true;
    // Before the first list is in, "not listed" would be a lie that a starting peer acts on.
    let timer: unknown;
    await Promise.race([
      this.loaded,
      new Promise<void>((resolve) => (timer = this.deps.clock.setTimeout(resolve, 1_000))),
    ]);
    this.deps.clock.clearTimeout(timer);
    if (this.peers.has(id)) return true;
    // A node that just appeared may be missing from a list fetched before it did; ask again, at
    // most once a second, so a stranger cannot make this node hammer its discovery backend.
    const now = this.deps.clock.now();
    if (now - this.lastRefreshAt < 1_000) return false;
    await this.refreshCandidates();
    return this.peers.has(id);
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
    const answered = await this.directPing(peer.ref).then((response) => response.op === 'pong');
    if (!this.running || this.peers.get(id) !== peer) return;
    if (!answered) return this.drop(peer, 'graceful');
    this.deps.logger.warn(`ignored a leave notice for peer ${id}: it still answers pings`, { peer: id });
  }

  /**
   * Pings `target` for another member that cannot reach it (an indirect probe); true when it
   * answered. Only listed candidates are probed, so a peer cannot make this node dial anywhere.
   */
  async probe(target: PeerRef): Promise<boolean> {
    if (!this.peers.has(target.id)) return false;
    const response = await this.directPing(target);
    return response.op === 'pong';
  }

  /**
   * A listed peer pinged this node. A peer off the ring is pinged back now, on a new connection
   * (the reconnect backoff its earlier failures left would refuse the ping for up to
   * `reconnect.maxDelay`), instead of at the next interval: a node that (re)starts is on everyone's
   * ring about one round trip after its first ping. A member that owes invalidations gets them.
   */
  heardFrom(id: string): void {
    const peer = this.peers.get(id);
    if (peer === undefined || !this.running) return;
    if (isMember(peer)) {
      peer.unansweredSince = undefined;
      if (this.deps.isRepaired?.(peer.ref) === false) void this.deps.repair?.(peer.ref);
      return;
    }
    // A peer we had dropped for silence is back: what its side wrote meanwhile is pulled now, so
    // the pong (which lets it route here) waits for that (see PeerCoordinator.answerPing).
    // (Reset the connection first: a reset after the pull started would fail the pull to it.)
    if (!peer.pinging) this.deps.transport.disconnect?.(peer.ref);
    if (peer.lostAt !== undefined) void this.deps.resync?.({ peer: peer.ref });
    if (!peer.pinging) void this.ping(peer);
  }

  /** A peer's process restarted (a new incarnation greeted this node): check on it now. */
  restarted(id: string): void {
    const peer = this.peers.get(id);
    if (peer === undefined || !this.running || peer.pinging) return;
    void this.ping(peer);
  }

  /**
   * A member did not acknowledge an invalidation in time: this node's writes no longer reach it,
   * so it must not route to it as if they did. It leaves this node's ring until what it missed is
   * delivered (at its next answered ping), instead of the write resolving as if it had dropped its
   * copy.
   */
  unrepaired(id: string): void {
    const peer = this.peers.get(id);
    if (peer === undefined || !isMember(peer) || !this.running) return;
    peer.problem = 'did not acknowledge an invalidation in time';
    this.warnings.warn(
      `unrepaired:${id}`,
      `peer ${id} did not acknowledge an invalidation; off the ring until it does`,
      {
        peer: id,
      },
    );
    this.drop(peer, 'failed');
  }

  /** A peer left (confirmed): drop it from the ring now. */
  markLeft(id: string): void {
    const peer = this.peers.get(id);
    if (peer !== undefined && isMember(peer)) this.drop(peer, 'graceful');
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
        ...(peer.problem === undefined ? {} : { problem: peer.problem }),
      })),
    ];
  }

  /** Asks discovery for candidates; adds new ones as pending, drops the ones no longer listed. */
  async refreshCandidates(): Promise<void> {
    this.lastRefreshAt = this.deps.clock.now();
    let discovered;
    try {
      discovered = await this.deps.discovery.discoverPeers(this.abort.signal);
    } catch (error) {
      // Keep the current members: a discovery outage must not empty a working cluster.
      // One line per kind of failure (a timeout, then a refusal, say a minute apart at most).
      this.warnings.warn(`discovery:${kindOf(error)}`, 'discovery failed; keeping the current member list', {
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
          unansweredSince: undefined,
          problem: undefined,
          refusesUs: false,
          lostAt: undefined,
          missedWrites: false,
          listedAt: this.deps.clock.now(),
        };
        this.peers.set(ref.id, peer);
        added.push(peer);
      }
    }
    for (const [id, peer] of this.peers) {
      if (listed.has(id)) continue;
      this.peers.delete(id);
      this.deps.transport.disconnect?.(peer.ref);
      this.deps.onForgotten?.(peer.ref);
      if (isMember(peer)) this.changed({ type: 'left', peer: peer.ref, reason: 'undiscovered' });
    }
    for (const peer of added) void this.ping(peer);
    this.wake();
  }

  private async pingAll(): Promise<void> {
    await Promise.all([...this.peers.values()].map((peer) => this.ping(peer)));
  }

  /** Sends one ping; never rejects (a failure comes back as an `error` response). */
  private directPing(target: PeerRef): Promise<PeerResponse> {
    // A node whose own loop lags gives its peers that much longer to answer (Lifeguard).
    const timeoutMs = this.deps.options.pingTimeoutMs + this.health.recentLag();
    return this.deps.transport.request(target, { op: 'ping' }, { timeoutMs, signal: this.abort.signal }).then(
      (response) => response,
      (error: unknown): PeerResponse => ({
        op: 'error',
        code: isDistCacheError(error) ? error.code : 'E_PEER_UNAVAILABLE',
        message: error instanceof Error ? error.message : String(error),
      }),
    );
  }

  private async ping(peer: PeerRecord): Promise<void> {
    if (peer.pinging) return;
    peer.pinging = true;
    const sentAt = this.deps.clock.now();
    try {
      const response = await this.directPing(peer.ref);
      if (!this.current(peer)) return;
      if (response.op === 'pong') await this.answered(peer, response.nodeId);
      else if (response.op === 'error') await this.unanswered(peer, sentAt, response.code, response.message);
      else await this.unanswered(peer, sentAt, 'E_PROTOCOL', `unexpected ${response.op} to a ping`);
    } finally {
      peer.pinging = false;
      this.wake();
    }
  }

  private async answered(peer: PeerRecord, nodeId: string): Promise<void> {
    peer.lastSeenAt = this.deps.clock.now();
    peer.unansweredSince = undefined;
    peer.nodeName = nodeId;
    peer.refusesUs = false;
    if (isMember(peer)) {
      peer.status = 'alive';
      peer.problem = undefined;
      if (this.deps.isRepaired?.(peer.ref) === false) void this.deps.repair?.(peer.ref);
      return;
    }
    // What it missed while off the ring is delivered before anyone here routes to it, and after a
    // silence this node pulls what it missed itself (the peer's side may have written meanwhile).
    if (peer.lostAt !== undefined) await this.deps.resync?.({ peer: peer.ref });
    const repaired = (await this.deps.repair?.(peer.ref)) ?? true;
    if (!this.current(peer) || isMember(peer)) return;
    if (!repaired) {
      peer.problem = 'answers, but missed invalidations could not be delivered yet';
      return;
    }
    peer.problem = undefined;
    peer.status = 'alive';
    // After a silence, a missed invalidation or a refusal, both sides may hold values the other's
    // writes never reached (a slow link times out writes both ways): no popular key is handed across.
    const afterSilence = peer.lostAt !== undefined || peer.missedWrites;
    peer.lostAt = undefined;
    peer.missedWrites = false;
    this.changed(
      afterSilence ? { type: 'joined', peer: peer.ref, afterSilence } : { type: 'joined', peer: peer.ref },
    );
  }

  private async unanswered(peer: PeerRecord, sentAt: number, code: string, message: string): Promise<void> {
    const { clock, options, transport } = this.deps;
    const problem = `${code}: ${message}`;
    if (code === 'E_NOT_A_MEMBER') {
      peer.refusesUs = true;
      peer.problem = problem;
      this.warnings.warn(`refused:${peer.ref.id}`, `peer ${peer.ref.id} does not list this node`, {
        peer: peer.ref.id,
        error: message,
      });
      if (isMember(peer)) this.drop(peer, 'failed');
      return;
    }
    if (!isMember(peer)) {
      peer.problem = problem;
      const starting =
        code === 'E_PEER_UNAVAILABLE' &&
        peer.lastSeenAt === undefined &&
        clock.now() - peer.listedAt < STARTING_PEER_GRACE_MS;
      if (starting) {
        this.deps.logger.debug(`listed peer ${peer.ref.id} does not answer yet: ${message}`, {
          peer: peer.ref.id,
        });
        return;
      }
      // A refused handshake (another cluster or protocol version) will not fix itself; a listed
      // node that is down may. Either way once a minute per peer is enough.
      this.warnings.warn(`contact:${peer.ref.id}`, `cannot add listed peer ${peer.ref.id}: ${message}`, {
        peer: peer.ref.id,
      });
      return;
    }
    const heard = transport.lastHeardFrom?.(peer.ref) ?? 0;
    if (heard >= sentAt) {
      // Its pong is late, but it is talking: queueing behind data is not silence.
      peer.lastSeenAt = heard;
      peer.unansweredSince = undefined;
      return;
    }
    peer.unansweredSince ??= sentAt;
    peer.problem = problem;
    const since = peer.unansweredSince;
    // Our own stalls are not the peer's silence; the discount is capped (as Lifeguard caps its
    // multiplier at 8x) so a node that lags all the time still detects a dead peer, only later.
    const elapsed = clock.now() - since;
    const silentFor = elapsed - Math.min(this.health.stalledSince(since), (elapsed * 7) / 8);
    if (silentFor < options.failureTimeoutMs) {
      peer.status = 'suspect';
      return;
    }
    if (await this.reachedByOthers(peer)) {
      if (!this.current(peer)) return;
      // Another member hears it: our link is the problem, not the peer. Keep it, watch again.
      peer.unansweredSince = undefined;
      peer.status = 'suspect';
      return;
    }
    if (!this.current(peer) || !isMember(peer) || peer.unansweredSince !== since) return;
    this.deps.logger.warn('peer stopped answering; dropped from the ring', {
      peer: peer.ref.id,
      silentForMs: silentFor,
      problem,
    });
    this.drop(peer, 'failed', true);
  }

  /** Asks up to {@link INDIRECT_PROBES} other members to ping `peer`; true when one of them reached it. */
  private async reachedByOthers(peer: PeerRecord): Promise<boolean> {
    const helpers = this.aliveMembers()
      .filter((member) => member.id !== peer.ref.id)
      .slice(0, INDIRECT_PROBES);
    if (helpers.length === 0) return false;
    const timeoutMs = 2 * this.deps.options.pingTimeoutMs + this.health.recentLag();
    const answers = await Promise.all(
      helpers.map((helper) =>
        this.deps.transport
          .request(
            helper,
            { op: 'probe', host: peer.ref.host, port: peer.ref.port },
            { timeoutMs, signal: this.abort.signal },
          )
          .then(
            (response) => response.op === 'ok',
            () => false,
          ),
      ),
    );
    return answers.some(Boolean);
  }

  /**
   * `silent`: dropped because it stopped answering (it may have been on the other side of a
   * partition, so what its side wrote is pulled when it comes back); not for a refusal or a missed
   * invalidation, which the writer repairs itself.
   */
  private drop(peer: PeerRecord, reason: 'graceful' | 'failed', silent = false): void {
    peer.status = reason === 'graceful' ? 'left' : 'pending';
    peer.unansweredSince = undefined;
    peer.lostAt = silent ? this.deps.clock.now() : undefined;
    // Dropped for a failure (a silence, a missed invalidation, a refusal): from now on each side's
    // writes may miss the other, so no popular key is handed to it when it is back.
    if (reason === 'failed') peer.missedWrites = true;
    this.changed({ type: 'left', peer: peer.ref, reason });
  }

  private current(peer: PeerRecord): boolean {
    return this.running && this.peers.get(peer.ref.id) === peer;
  }

  private unsettled(): PeerRecord[] {
    return [...this.peers.values()].filter((peer) => !isMember(peer) && !peer.refusesUs);
  }

  private changedOrAfter(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.deps.clock.setTimeout(resolve, ms);
      this.waiters.push(() => {
        this.deps.clock.clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private schedulePing(): void {
    if (!this.running) return;
    this.pingTimer = this.deps.clock.setTimeout(() => {
      this.checkOwnStall();
      void this.pingAll().finally(() => this.schedulePing());
    }, this.deps.options.pingIntervalMs);
  }

  /**
   * Told the engine's clock reading of each callback that reads. A loop that stalls inside a
   * callback (a long synchronous task, a GC pause, a starved CPU) goes on reading the input that
   * arrived meanwhile before its timers run: when the loop has been away long enough to have cost
   * invalidations, the pull of what was missed starts here, before this callback serves anything
   * it holds. (A process woken from SIGSTOP runs its timers first: the late tick starts it.)
   */
  noticeTime(now: number): void {
    if (!this.running) return;
    // Once per stall: every callback until the late tick runs sees the loop as away.
    if (this.health.tickDue === this.noticedTickDue) return;
    const away = this.health.sinceLastTick(now);
    // A tick due but not run yet is not a stall (with a ping timeout near the sample interval).
    if (away < Math.max(this.stallThresholdMs(), TICK_SLACK_MS)) return;
    this.noticedTickDue = this.health.tickDue;
    // The late tick and the ping timer that follow see this stall as handled.
    this.stallCheckedAt = now;
    this.ownStall(away, now);
  }

  /**
   * How long a stall may cost an invalidation: a writer waits `broadcastTimeout` for a member's
   * acknowledgement and gives a peer off its ring one attempt of at most `pingTimeout` (a write
   * whose caller's timeout is shorter gives up sooner: docs/reliability.md, "Costs and limits").
   */
  /**
   * True when a stall measured as `measuredMs` from a late tick may have lasted the threshold: the
   * tick's lateness misses the part of the stall before its due time, up to a sample interval.
   */
  private mayHaveCost(measuredMs: number): boolean {
    return measuredMs + SAMPLE_INTERVAL_MS >= this.stallThresholdMs();
  }

  private stallThresholdMs(): number {
    const { failureTimeoutMs, broadcastTimeoutMs, pingTimeoutMs } = this.deps.options;
    return Math.min(failureTimeoutMs, broadcastTimeoutMs, pingTimeoutMs);
  }

  /** After stalls adding up to that, writers may have dropped this node: pull what it missed. */
  private checkOwnStall(): void {
    const now = this.deps.clock.now();
    const stalled = this.health.stalledSince(this.stallCheckedAt);
    this.stallCheckedAt = now;
    if (stalled > 0 && this.mayHaveCost(stalled)) this.ownStall(stalled, now);
  }

  private ownStall(stalledMs: number, until: number): void {
    this.deps.logger.warn(
      'this node stalled long enough to miss invalidations; pulling them from its peers',
      {
        stalledMs,
      },
    );
    void this.deps.resync?.({ stalledUntil: until });
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
    this.wake();
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

/** A failure's kind for log throttling: its text and its cause's, numbers (timings, ports) left out. */
function kindOf(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
  return `${String(error)} ${cause}`.replace(/\d+/g, '#').slice(0, 300);
}
