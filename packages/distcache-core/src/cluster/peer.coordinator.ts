import type { DiscoveryProvider } from '../discovery/discovery';
import { isDistCacheError } from '../errors/distcache-error';
import { clusterQuorum, notAMember, notListedAtStart, peerUnavailable } from '../errors/messages';
import type { PeerEvent } from './peer-event';
import type {
  PeerIdentity,
  PeerRequest,
  PeerRequestHandler,
  PeerResponse,
  PeerTransport,
} from '../transport/transport';
import { type Clock, setDeadline } from '../util/clock';
import type { Logger } from '../util/logger';
import type { ResolvedClusterOptions } from './cluster.options';
import { afterHolds, type ClusterCoordinator, type PeerRef, type SendOptions } from './coordinator';
import { Membership, type ResyncCause } from './membership';
import { isFrameTooLarge, keyParts, requestKeyBudget } from './key-batches';
import { INVALIDATION_BATCH, MissedInvalidations } from './missed-invalidations';
import type { BookkeepingLedger } from '../keyspace/bookkeeping';
import { type PeerInfo, peerRef, senderId } from './peer-state';

export interface PeerCoordinatorDeps {
  readonly nodeName: string;
  readonly bind: { host: string; port: number };
  readonly advertiseHost: string;
  readonly discovery: DiscoveryProvider;
  /** Makes a fresh transport for each start (a closed transport cannot listen again). */
  readonly createTransport: () => PeerTransport;
  readonly clock: Clock;
  /** The engine's clock of one reading per event-loop callback (a `CoarseClock`); `clock` when absent. */
  readonly turnClock?: { now(): number };
  readonly logger: Logger;
  readonly options: ResolvedClusterOptions;
  /** This node's transport `maxFrameBytes`: an INVALIDATE's keys stay under it. */
  readonly maxFrameBytes: number;
  readonly onEvent: (event: PeerEvent) => void;
  /** Charges the keyspaces what is kept for them (missed invalidations); none when absent. */
  readonly ledger?: BookkeepingLedger;
}

/** INVALIDATE batches of one large write in flight at once (see {@link PeerCoordinator.invalidate}). */
const INVALIDATIONS_AT_ONCE = 16;
/** First wait before an invalidation refused by a broken connection is sent again. */
const RETRY_FIRST_MS = 20;

/** Separates keyspace and key in the ring's hash input; neither may contain it in practice. */
const RING_KEY_SEPARATOR = '\u0000';

/**
 * Settles after the next poll phase of the event loop: input that arrived during a stall (read
 * after the stall, in the turn after this one at the latest) has been read by then.
 */
function afterInput(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/**
 * The coordinator of a cluster node: the peer listener, discovery, the failure detector and the
 * ring. Requests that arrive from peers are served by the engine's handler and never forwarded.
 */
export class PeerCoordinator implements ClusterCoordinator {
  private membership: Membership | undefined;
  private transport: PeerTransport | undefined;
  private selfRef: PeerRef;
  private opened: Array<() => Promise<void>> = [];
  private readonly missed: MissedInvalidations;
  /** Deliveries of missed invalidations in progress, by peer id (never two at once per peer). */
  private readonly repairs = new Map<string, Promise<boolean>>();
  /**
   * What reads of this node (its own callers' and its peers') wait for while the latest pull runs:
   * that pull, for half a ping timeout at most.
   */
  private hold: Promise<void> | undefined;
  /** What reads wait for, before the bound: the awaited SYNCs of the pulls still running. */
  private awaiting: Promise<void> | undefined;
  /** When the latest pull of every peer started (a stall is covered only by one started after it). */
  private lastResyncAt = Number.NEGATIVE_INFINITY;
  /** The latest pull from each peer back from a silence (those are throttled per peer). */
  private readonly healPulls = new Map<string, { at: number; pull: Promise<void>; running: boolean }>();
  /** The last clock reading {@link readHold} was given (one per callback). */
  private lastReading = Number.NaN;
  private readonly turnClock: { now(): number };

  constructor(private readonly deps: PeerCoordinatorDeps) {
    this.selfRef = peerRef(deps.advertiseHost, deps.bind.port);
    this.missed = new MissedInvalidations(deps.options.missedInvalidationLimit, deps.ledger);
    this.turnClock = deps.turnClock ?? deps.clock;
  }

  /**
   * What a read of this node's entries and hot copies waits for first: nothing (`undefined`), or,
   * while this node pulls the invalidations it may have missed (after its loop stalled for a
   * broadcast timeout, or a silence), that pull, for at most half a ping timeout. The first read
   * of each callback checks for a stall still in progress: a loop that stalled inside a callback
   * reads the sockets that had input, with what arrived meanwhile, before it runs the timers that
   * would have noticed.
   */
  readHold(): Promise<void> | undefined {
    // On every read: kept to a cached clock reading and a comparison.
    const now = this.turnClock.now();
    if (now !== this.lastReading) this.newTurn(now);
    return this.hold;
  }

  /** Tells membership the first clock reading of a callback that reads (see {@link readHold}). */
  private newTurn(now: number): void {
    this.lastReading = now;
    this.membership?.noticeTime(now);
  }

  async start(handler: PeerRequestHandler, signal: AbortSignal): Promise<void> {
    const { discovery, logger } = this.deps;
    const transport = this.deps.createTransport();
    this.transport = transport;
    try {
      const bound = await transport.listen(
        (request, from, requestSignal, meta) => {
          switch (request.op) {
            case 'leave': {
              // Answered once confirmed, so the leaving node's broadcast ends with it off our ring.
              const confirmed = this.membership?.confirmLeave(senderId(from)) ?? Promise.resolve();
              return confirmed.then((): PeerResponse => ({ op: 'ok' }));
            }
            case 'ping':
              return this.answerPing(from).then(() => handler(request, from, requestSignal, meta));
            case 'probe':
              return this.answerProbe(from, peerRef(request.host, request.port));
            case 'sync':
              return this.answerSync(from);
            case 'get':
            case 'getMany': {
              // While this node pulls what it missed, it does not serve reads it may hold stale.
              const hold = this.readHold();
              if (hold !== undefined)
                return afterHolds(hold, this).then(() => handler(request, from, requestSignal, meta));
              return handler(request, from, requestSignal, meta);
            }
            default:
              return handler(request, from, requestSignal, meta);
          }
        },
        {
          onHello: (from, restarted) => {
            if (restarted) this.membership?.restarted(senderId(from));
          },
        },
      );
      this.opened.push(() => transport.close());
      this.selfRef = peerRef(this.deps.advertiseHost, bound.port);
      const startedAt = this.deps.clock.now();
      // close() is idempotent and may be needed after a partial initialize.
      this.opened.push(() => discovery.close());
      const self = { host: this.selfRef.host, port: this.selfRef.port, nodeName: this.deps.nodeName };
      await this.withRetries('initialize', () => discovery.initialize(signal), startedAt);
      await this.withRetries('register', () => discovery.register(self, signal), startedAt);
      this.opened.push(() => discovery.deregister());
      const membership = new Membership({
        ...this.deps,
        transport,
        self: this.selfRef,
        repair: (peer) => this.repair(peer),
        isRepaired: (peer) => this.missed.isClear(peer.id),
        onForgotten: (peer) => {
          this.missed.forget(peer.id);
          this.healPulls.delete(peer.id);
        },
        resync: (cause) => this.resync(cause),
      });
      this.membership = membership;
      this.opened.push(() => Promise.resolve(membership.stop()));
      await membership.start();
      await membership.converge(this.deps.options.convergeTimeoutMs);
      this.refuseUnlisted(membership);
      await this.awaitQuorum(membership, startedAt);
      logger.info('joined the cluster', { self: this.selfRef.id, members: membership.ring.size });
    } catch (error) {
      await this.release();
      throw error;
    }
  }

  async stop(): Promise<void> {
    const membership = this.membership;
    if (membership !== undefined) {
      membership.stop();
      // Tell the others first, so they drop this node now instead of after the failure timeout.
      await this.broadcast({ op: 'leave' }, { timeoutMs: this.deps.options.broadcastTimeoutMs });
    }
    await this.release();
  }

  /** How other nodes know this node (`advertiseHost:port`, the port known after listen). */
  self(): PeerRef {
    return this.selfRef;
  }

  ownerOf(keySpace: string, key: string): PeerRef | undefined {
    const membership = this.membership;
    if (membership === undefined) return undefined;
    const ring = membership.ring;
    if (ring.size === 1) return undefined;
    const owner = ring.ownerOf(keySpace + RING_KEY_SEPARATOR + key);
    if (owner === this.selfRef.id) return undefined;
    return membership.member(owner);
  }

  members(): readonly PeerRef[] {
    return [this.selfRef, ...(this.membership?.aliveMembers() ?? [])];
  }

  peers(): PeerInfo[] {
    return this.membership?.describe() ?? [];
  }

  send(peer: PeerRef, request: PeerRequest, options: SendOptions): Promise<PeerResponse> {
    if (this.transport === undefined) {
      return Promise.reject(peerUnavailable(peer.id, 'not-started', 'this node is not in the cluster'));
    }
    return this.transport.request(peer, request, options);
  }

  async broadcast(request: PeerRequest, options: SendOptions, skip?: ReadonlySet<string>): Promise<string[]> {
    const targets = (this.membership?.aliveMembers() ?? []).filter((peer) => skip?.has(peer.id) !== true);
    const outcomes = await Promise.allSettled(targets.map((peer) => this.send(peer, request, options)));
    const failed: string[] = [];
    outcomes.forEach((outcome, index) => {
      const ok = outcome.status === 'fulfilled' && outcome.value.op !== 'error';
      if (!ok) failed.push((targets[index] as PeerRef).id);
    });
    return failed;
  }

  /**
   * Tells every listed peer but `skip` to drop `keys`, in INVALIDATEs of at most
   * {@link INVALIDATION_BATCH} keys and `maxBatchKeyBytes` of keys: one frame for a `deleteMany` of
   * 30,000 keys of ~1 KB was over the 8 MiB frame limit, refused, and every peer was taken off the
   * ring as if it had not acknowledged. Resolves to the peers that missed any part.
   */
  async invalidate(
    keySpace: string,
    keys: readonly string[],
    options: SendOptions,
    skip?: string,
  ): Promise<string[]> {
    const batches = keyParts([...keys], INVALIDATION_BATCH, this.invalidationKeyBytes());
    const tell = (batch: string[], bound: SendOptions): Promise<string[]> =>
      this.tellEveryone({ op: 'invalidate', keySpace, keys: batch }, bound, skip, (peer) =>
        this.missed.record(peer, keySpace, batch),
      );
    if (batches.length === 1) return tell(batches[0] as string[], options);
    // A few batches at a time: all at once, a million keys would fill every peer's in-flight window.
    // One deadline for all of them: the write's bound is not multiplied by its batches.
    const until = this.deps.clock.now() + options.timeoutMs;
    const owing = new Set<string>();
    for (let from = 0; from < batches.length; from += INVALIDATIONS_AT_ONCE) {
      const left = { ...options, timeoutMs: Math.max(1, until - this.deps.clock.now()) };
      const group = batches.slice(from, from + INVALIDATIONS_AT_ONCE);
      const told = await Promise.all(group.map((batch) => tell(batch, left)));
      for (const peers of told) for (const peer of peers) owing.add(peer);
    }
    return [...owing];
  }

  invalidateTags(
    keySpace: string,
    tags: readonly string[],
    options: SendOptions,
    again = false,
  ): Promise<string[]> {
    const request: PeerRequest = { op: 'invalidateTags', keySpace, tags: [...tags] };
    if (again) request.again = true;
    return this.tellEveryone(request, options, undefined, (peer) =>
      this.missed.recordTags(peer, keySpace, tags),
    );
  }

  enforceBookkeeping(keySpace: string): void {
    this.missed.enforce(keySpace);
  }

  clearEverywhere(keySpace: string, options: SendOptions): Promise<string[]> {
    return this.tellEveryone({ op: 'clearKeySpace', keySpace }, options, undefined, (peer) =>
      this.missed.recordCleared(peer, keySpace),
    );
  }

  /**
   * Sends `request` to every listed peer but `skip`; what a peer does not acknowledge is recorded
   * with `record` (delivered before it is routed to again) and its id returned. Resolves once every
   * peer acknowledged or failed within `options.timeoutMs`.
   */
  private async tellEveryone(
    request: PeerRequest,
    options: SendOptions,
    skip: string | undefined,
    record: (peerId: string) => void,
  ): Promise<string[]> {
    const membership = this.membership;
    if (membership === undefined) return [];
    const now = this.deps.clock.now();
    const deadline = now + options.timeoutMs;
    const { pingTimeoutMs, broadcastTimeoutMs } = this.deps.options;
    const oneAttempt = now + Math.min(options.timeoutMs, pingTimeoutMs, broadcastTimeoutMs);
    const owing: string[] = [];
    await Promise.all(
      membership.candidates().map(async (peer) => {
        if (peer.id === skip) return;
        // Off the ring (down, or joining and not yet on our ring): one attempt, no retries, so a
        // dead listed node costs a write nothing; a node that just (re)started and is not on our
        // ring yet may already serve its own readers, and must hear of this write now.
        const member = membership.member(peer.id) !== undefined;
        if (!member && this.silent(peer)) {
          // Nothing heard from it for a ping round (paused, stalled, cut off): it would make
          // every write wait the whole attempt (~1 s each for as long as it lasted, seen with a
          // SIGSTOPped replica). The invalidation goes out all the same, to be read first thing
          // when it wakes, and is recorded as missed, delivered before it is routed to again.
          void this.deliver(peer, request, oneAttempt, undefined, false);
          record(peer.id);
          owing.push(peer.id);
          return;
        }
        const until = member ? deadline : oneAttempt;
        if (await this.deliver(peer, request, until, options.signal, member)) return;
        // Discovery may have dropped it meanwhile: nothing would ever deliver this.
        if (!membership.isListed(peer.id)) return;
        record(peer.id);
        owing.push(peer.id);
        // It may have joined while the attempt ran (its older debt repaired): it owes this one.
        if (membership.member(peer.id) !== undefined) membership.unrepaired(peer.id);
      }),
    );
    return owing;
  }

  /** Most bytes of keys in one INVALIDATE (see `requestKeyBudget`). */
  private invalidationKeyBytes(): number {
    return requestKeyBudget(this.deps.options.maxBatchKeyBytes, this.deps.maxFrameBytes);
  }

  /**
   * True when a peer that answers pings would have been heard from by now: nothing for a ping
   * interval and a ping timeout, this node's own stalls not counted (false when the transport
   * cannot tell).
   */
  private silent(peer: PeerRef): boolean {
    const quiet = this.membership?.quietFor(peer);
    const { pingIntervalMs, pingTimeoutMs } = this.deps.options;
    return quiet !== undefined && quiet >= pingIntervalMs + pingTimeoutMs;
  }

  /**
   * Delivers what `peer` missed; true when it now owes nothing. One delivery per peer at a time;
   * what cannot be delivered is kept for the next contact.
   */
  private repair(peer: PeerRef): Promise<boolean> {
    const running = this.repairs.get(peer.id);
    if (running !== undefined) return running;
    const missed = this.missed.take(peer.id);
    if (missed === undefined) return Promise.resolve(true);
    // One batch after another, within a failure timeout: a large debt must not flood the peer's
    // in-flight limit (E_TOO_MANY_REQUESTS) and fail as a whole.
    const deadline = this.deps.clock.now() + this.deps.options.failureTimeoutMs;
    const requests: PeerRequest[] = [...missed.cleared].map((keySpace) => ({
      op: 'clearKeySpace',
      keySpace,
    }));
    for (const [keySpace, tagSet] of missed.tags) {
      const tags = [...tagSet];
      for (let from = 0; from < tags.length; from += INVALIDATION_BATCH)
        requests.push({ op: 'invalidateTags', keySpace, tags: tags.slice(from, from + INVALIDATION_BATCH) });
    }
    for (const [keySpace, keySet] of missed.keys) {
      for (const keys of keyParts([...keySet], INVALIDATION_BATCH, this.invalidationKeyBytes()))
        requests.push({ op: 'invalidate', keySpace, keys });
    }
    const deliverAll = async (): Promise<boolean> => {
      for (const request of requests) if (!(await this.deliver(peer, request, deadline))) return false;
      return true;
    };
    const delivery = deliverAll().then((delivered) => {
      this.repairs.delete(peer.id);
      if (delivered) return this.missed.isClear(peer.id);
      if (this.membership?.isListed(peer.id) === true) this.missed.restore(peer.id, missed);
      return false;
    });
    this.repairs.set(peer.id, delivery);
    return delivery;
  }

  /**
   * Sends one invalidation; true when acknowledged. A connection refused or reset (a peer that just
   * restarted, a connection in backoff) is retried, after 20 ms and then doubling, until `deadline`.
   */
  private async deliver(
    peer: PeerRef,
    request: PeerRequest,
    deadline: number,
    signal?: AbortSignal,
    retry = true,
  ): Promise<boolean> {
    for (let wait = RETRY_FIRST_MS; ; wait *= 2) {
      const left = deadline - this.deps.clock.now();
      if (left <= 0 || this.transport === undefined) return false;
      try {
        const response = await this.send(peer, request, { timeoutMs: left, signal });
        // A peer of an older version cannot revoke by tag: it drops the keyspace's entries instead.
        if (request.op === 'invalidateTags' && response.op === 'error' && response.code === 'E_PROTOCOL')
          return this.deliver(
            peer,
            { op: 'clearKeySpace', keySpace: request.keySpace },
            deadline,
            signal,
            retry,
          );
        const full = response.op === 'error' && response.code === 'E_TOO_MANY_REQUESTS';
        if (!full || !retry) {
          // A peer without the keyspace holds nothing of it.
          return (
            response.op === 'ok' || (response.op === 'error' && response.code === 'E_KEYSPACE_NOT_FOUND')
          );
        }
        if (deadline - this.deps.clock.now() <= wait) return false;
        await this.sleep(wait);
      } catch (error) {
        // Over the frame limit the peer announced (smaller than this node's, by which batches are
        // sized): not sent. In halves, or the peer would owe the same refused batch for ever.
        if (request.op === 'invalidate' && request.keys.length > 1 && isFrameTooLarge(error)) {
          const middle = Math.ceil(request.keys.length / 2);
          const first = { ...request, keys: request.keys.slice(0, middle) };
          const rest = { ...request, keys: request.keys.slice(middle) };
          return (
            (await this.deliver(peer, first, deadline, signal, retry)) &&
            this.deliver(peer, rest, deadline, signal, retry)
          );
        }
        // A broken connection (a restarted peer, backoff) or a full in-flight window passes.
        const passing =
          isDistCacheError(error, 'E_PEER_UNAVAILABLE') || isDistCacheError(error, 'E_TOO_MANY_REQUESTS');
        if (!retry || !passing) return false;
        if (deadline - this.deps.clock.now() <= wait) return false;
        await this.sleep(wait);
      }
    }
  }

  /** Runs a discovery step, retrying with exponential backoff and jitter within the bootstrap time. */
  private async withRetries(step: string, run: () => Promise<void>, startedAt: number): Promise<void> {
    const { joinRetries, joinRetryDelayMs, bootstrapTimeoutMs } = this.deps.options;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await run();
        return;
      } catch (error) {
        const delay = joinRetryDelayMs * 2 ** attempt * (0.5 + Math.random() / 2);
        const elapsed = this.deps.clock.now() - startedAt;
        // A missing client library or a bad option will not fix itself: fail at once.
        const permanent =
          isDistCacheError(error, 'E_MISSING_DEPENDENCY') || isDistCacheError(error, 'E_INVALID_OPTION');
        if (permanent || attempt >= joinRetries || elapsed + delay > bootstrapTimeoutMs) throw error;
        this.deps.logger.warn(`discovery ${step} failed; retrying`, {
          attempt: attempt + 1,
          error: String(error),
        });
        await this.sleep(delay);
      }
    }
  }

  /** Waits until the ring has `minMembers` members, or fails with `E_CLUSTER_QUORUM`. */
  private async awaitQuorum(membership: Membership, startedAt: number): Promise<void> {
    const { minMembers, bootstrapTimeoutMs } = this.deps.options;
    const left = bootstrapTimeoutMs - (this.deps.clock.now() - startedAt);
    const members = await membership.awaitMembers(minMembers, left);
    if (members < minMembers) throw clusterQuorum(members, minMembers, this.deps.clock.now() - startedAt);
  }

  /**
   * With a static peer list, a peer that does not list this node never will: refuse to start, with
   * the fix, rather than run beside the cluster and serve values its writes never invalidate.
   * Other providers' lists change (a new pod is listed once it is ready), so the node starts and
   * joins each peer once that peer lists it; until then health reports why (`peers()[i].problem`).
   */
  private refuseUnlisted(membership: Membership): void {
    const refusing = membership.refusingPeers();
    if (refusing.length > 0 && this.deps.discovery.name === 'static')
      throw notListedAtStart(this.selfRef.id, refusing);
  }

  /**
   * A ping from a node that discovery does not list is refused: this node does not route to it,
   * so it must not serve it as a member (membership is symmetric).
   */
  private async answerPing(from: PeerIdentity): Promise<void> {
    const membership = this.membership;
    if (membership === undefined) return;
    membership.heardFrom(await this.listedSender(membership, from));
    // A peer routes here once we answer: first finish pulling what we missed, as reads do (within
    // half a ping timeout: a pull stuck on an unreachable peer must not make us look dead).
    const hold = this.hold;
    if (hold !== undefined) await afterHolds(hold, this);
  }

  /**
   * The sender's id, when discovery lists it. PING, PROBE and SYNC are served only to listed nodes:
   * this node does not route to others, so it must not serve them as a member.
   * @throws DistCacheError `E_NOT_A_MEMBER`
   */
  private async listedSender(membership: Membership, from: PeerIdentity): Promise<string> {
    const id = senderId(from);
    if (!(await membership.lists(id))) throw notAMember(this.selfRef.id, id);
    return id;
  }

  /** A peer pulls the invalidations it missed from this node. */
  private async answerSync(from: PeerIdentity): Promise<PeerResponse> {
    const membership = this.membership;
    if (membership === undefined) throw notAMember(this.selfRef.id, senderId(from));
    await this.listedSender(membership, from);
    if (await this.repair(peerRef(from.address.host, from.address.port))) return { op: 'ok' };
    return {
      op: 'error',
      code: 'E_PEER_UNAVAILABLE',
      message: 'missed invalidations could not be delivered',
    };
  }

  /**
   * Pulls what this node may have missed (docs/protocol.md, section 12), and holds reads of this
   * node until the answers are in (see {@link holdReads}). Two causes:
   * - `stalledUntil`: this node's loop was stalled until about then (see
   *   {@link Membership.noticeTime}): every listed peer is asked, unless a pull of every peer
   *   started since the stall ended. A stall during a running pull sends a new one at once: the
   *   running one's SYNCs left before the stall, and a silent peer may keep it open for seconds.
   * - `peer`: a peer this node had dropped for silence is back (a partition heals): it is asked,
   *   once per ping timeout at most (a peer that keeps pinging while it stays off the ring must not
   *   make this node pull over and over), whatever else runs.
   * Resolves once every SYNC of this pull is answered or failed (at once when a stall was covered).
   */
  private resync(cause: ResyncCause): Promise<void> {
    const membership = this.membership;
    if (membership === undefined) return Promise.resolve();
    const now = this.deps.clock.now();
    let peers: readonly PeerRef[];
    if ('peer' in cause) {
      const last = this.healPulls.get(cause.peer.id);
      if (last !== undefined && (last.running || now - last.at < this.deps.options.pingTimeoutMs))
        return last.pull;
      peers = [cause.peer];
    } else {
      if (this.lastResyncAt >= cause.stalledUntil) return Promise.resolve();
      this.lastResyncAt = now;
      peers = membership.candidates();
    }
    const timeoutMs = this.deps.options.broadcastTimeoutMs + this.deps.options.pingTimeoutMs;
    const sends = peers.map((peer) => ({
      peer,
      sent: this.send(peer, { op: 'sync' }, { timeoutMs }).then(
        () => undefined,
        () => undefined,
      ),
    }));
    const pull = Promise.all(sends.map((send) => send.sent)).then(() => undefined);
    // Reads wait for the peers that can answer: members, and any other heard from lately. One off
    // the ring and silent (paused, down, cut off) cannot, and delivers what it wrote when it hears
    // from this node (a dead node left in a static list held reads for the whole bound after every
    // stall). Decided once the input that arrived during the stall has been read (one full poll
    // phase): a peer that resumed meanwhile is not silent then.
    const awaited = afterInput().then(() =>
      Promise.all(
        sends
          .filter(({ peer }) => membership.member(peer.id) !== undefined || !this.silent(peer))
          .map((send) => send.sent),
      ).then(() => undefined),
    );
    if ('peer' in cause) {
      const record = { at: now, pull, running: true };
      this.healPulls.set(cause.peer.id, record);
      void pull.then(() => (record.running = false));
    }
    // Reads arriving from now on wait for this pull and for those still running.
    const before = this.awaiting;
    const awaiting: Promise<void> = (before === undefined ? awaited : Promise.all([before, awaited]))
      .then(() => undefined)
      .finally(() => {
        if (this.awaiting === awaiting) this.awaiting = undefined;
      });
    this.awaiting = awaiting;
    this.hold = this.holdReads(awaiting);
    return pull;
  }

  /**
   * `round`, for at most half a ping timeout: a pull stuck on a peer that does not answer must not
   * hold every read of this node that long (the peer is off the ring by then, or soon).
   */
  private holdReads(round: Promise<void>): Promise<void> {
    let timer: unknown;
    const bound = new Promise<void>((resolve) => {
      // Decided after the turn's input (the SYNC answers may sit in their sockets after a stall);
      // kept alive: callers wait on it.
      timer = setDeadline(this.deps.clock, this.deps.options.pingTimeoutMs / 2, resolve, true);
    });
    const hold = Promise.race([round, bound]).finally(() => {
      this.deps.clock.clearTimeout(timer);
      if (this.hold === hold) this.hold = undefined;
    });
    return hold;
  }

  /** An indirect probe for a member that cannot reach `target` itself (SWIM). */
  private async answerProbe(from: PeerIdentity, target: PeerRef): Promise<PeerResponse> {
    const membership = this.membership;
    if (membership === undefined) throw notAMember(this.selfRef.id, senderId(from));
    await this.listedSender(membership, from);
    if (await membership.probe(target)) return { op: 'ok' };
    return { op: 'error', code: 'E_PEER_UNAVAILABLE', message: `${target.id} did not answer a ping` };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.deps.clock.setTimeout(resolve, ms));
  }

  private async release(): Promise<void> {
    const closers = this.opened.reverse();
    this.opened = [];
    this.membership = undefined;
    this.transport = undefined;
    for (const close of closers) {
      try {
        await close();
      } catch (error) {
        this.deps.logger.warn('error while leaving the cluster', { error: String(error) });
      }
    }
  }
}
