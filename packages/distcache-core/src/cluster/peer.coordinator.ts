import type { DiscoveryProvider } from '../discovery/discovery';
import { isDistCacheError } from '../errors/distcache-error';
import { clusterQuorum, peerUnavailable } from '../errors/messages';
import type { PeerEvent } from '../engine/engine.events';
import type { PeerRequest, PeerRequestHandler, PeerResponse, PeerTransport } from '../transport/transport';
import type { Clock } from '../util/clock';
import type { Logger } from '../util/logger';
import type { ResolvedClusterOptions } from './cluster.options';
import type { ClusterCoordinator, PeerRef, SendOptions } from './coordinator';
import { Membership } from './membership';
import { type PeerInfo, peerRef } from './peer-state';

export interface PeerCoordinatorDeps {
  readonly nodeName: string;
  readonly bind: { host: string; port: number };
  readonly advertiseHost: string;
  readonly discovery: DiscoveryProvider;
  /** Makes a fresh transport for each start (a closed transport cannot listen again). */
  readonly createTransport: () => PeerTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options: ResolvedClusterOptions;
  readonly onEvent: (event: PeerEvent) => void;
  /** Contact with a peer resumed after a silence of at least the failure timeout (see `Membership`). */
  readonly onContactResumed?: (peer: PeerRef, silentForMs: number) => void;
}

/** Separates keyspace and key in the ring's hash input; neither may contain it in practice. */
const RING_KEY_SEPARATOR = '\u0000';

/**
 * The coordinator of a cluster node: the peer listener, discovery, the failure detector and the
 * ring. Requests that arrive from peers are served by the engine's handler and never forwarded.
 */
export class PeerCoordinator implements ClusterCoordinator {
  private membership: Membership | undefined;
  private transport: PeerTransport | undefined;
  private selfRef: PeerRef;
  private opened: Array<() => Promise<void>> = [];

  constructor(private readonly deps: PeerCoordinatorDeps) {
    this.selfRef = peerRef(deps.advertiseHost, deps.bind.port);
  }

  async start(handler: PeerRequestHandler, signal: AbortSignal): Promise<void> {
    const { discovery, logger } = this.deps;
    const transport = this.deps.createTransport();
    this.transport = transport;
    try {
      const bound = await transport.listen((request, from, requestSignal, meta) => {
        if (request.op === 'leave') {
          // Answered once confirmed, so the leaving node's broadcast ends with it off our ring.
          const leaving = peerRef(from.address.host, from.address.port).id;
          const confirmed = this.membership?.confirmLeave(leaving) ?? Promise.resolve();
          return confirmed.then((): PeerResponse => ({ op: 'ok' }));
        }
        if (request.op === 'ping')
          this.membership?.heardFrom(peerRef(from.address.host, from.address.port).id);
        return handler(request, from, requestSignal, meta);
      });
      this.opened.push(() => transport.close());
      this.selfRef = peerRef(this.deps.advertiseHost, bound.port);
      const startedAt = this.deps.clock.now();
      // close() is idempotent and may be needed after a partial initialize.
      this.opened.push(() => discovery.close());
      const self = { host: this.selfRef.host, port: this.selfRef.port, nodeName: this.deps.nodeName };
      await this.withRetries('initialize', () => discovery.initialize(signal), startedAt);
      await this.withRetries('register', () => discovery.register(self, signal), startedAt);
      this.opened.push(() => discovery.deregister());
      const membership = new Membership({ ...this.deps, transport, self: this.selfRef });
      this.membership = membership;
      this.opened.push(() => Promise.resolve(membership.stop()));
      await membership.start();
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
    const { minMembers, bootstrapTimeoutMs, pingIntervalMs } = this.deps.options;
    while (membership.ring.size < minMembers) {
      const waited = this.deps.clock.now() - startedAt;
      if (waited >= bootstrapTimeoutMs) throw clusterQuorum(membership.ring.size, minMembers, waited);
      await this.sleep(Math.min(pingIntervalMs, bootstrapTimeoutMs - waited));
    }
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
