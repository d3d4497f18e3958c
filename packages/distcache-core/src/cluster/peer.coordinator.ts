import type { DiscoveryProvider } from '../discovery/discovery';
import { peerUnavailable } from '../errors/messages';
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
          this.membership?.markLeft(peerRef(from.address.host, from.address.port).id);
          return Promise.resolve({ op: 'ok' });
        }
        return handler(request, from, requestSignal, meta);
      });
      this.opened.push(() => transport.close());
      this.selfRef = peerRef(this.deps.advertiseHost, bound.port);
      // close() is idempotent and may be needed after a partial initialize.
      this.opened.push(() => discovery.close());
      await discovery.initialize(signal);
      await discovery.register(
        { host: this.selfRef.host, port: this.selfRef.port, nodeName: this.deps.nodeName },
        signal,
      );
      this.opened.push(() => discovery.deregister());
      const membership = new Membership({ ...this.deps, transport, self: this.selfRef });
      this.membership = membership;
      this.opened.push(() => Promise.resolve(membership.stop()));
      await membership.start();
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
