import { aborted, discoveryFailed } from '../../errors/messages';
import { isDistCacheError } from '../../errors/distcache-error';
import { type Clock, systemClock, type TimerHandle } from '../../util/clock';
import type { DiscoveredPeer, DiscoveryProvider } from '../discovery';
import { HeartbeatTable } from './heartbeat-table';
import { decodeAnnouncement, encodeAnnouncement, peerKey } from './nats-announcement';
import { loadNatsClient, type NatsMessage } from './nats-client';
import { NatsLink } from './nats-link';
import {
  type NatsDiscoveryOptions,
  resolveNatsDiscoveryOptions,
  type ResolvedNatsDiscoveryOptions,
} from './nats-discovery.options';

type Lifecycle =
  | { readonly state: 'idle' }
  | { readonly state: 'connecting'; readonly ready: Promise<void> }
  | { readonly state: 'open'; readonly link: NatsLink }
  | { readonly state: 'lost'; readonly cause: unknown }
  | { readonly state: 'closed' };

type Listener = (peers: DiscoveredPeer[]) => void;

// Longest deregister waits for the departure notice to reach the server: stopping must not hang
// on a NATS server that went away.
const DEPARTURE_FLUSH_MS = 1_000;

/**
 * Discovery over NATS core (no JetStream): nodes announce themselves, heartbeat, answer discovery
 * requests and announce their departure. See {@link natsDiscovery} and docs/discovery/nats.md.
 */
export class NatsDiscovery implements DiscoveryProvider {
  readonly name = 'nats';
  private readonly options: ResolvedNatsDiscoveryOptions;
  private readonly clock: Clock = systemClock;
  private readonly table: HeartbeatTable;
  private readonly listeners = new Set<Listener>();
  // Aborts background discovery rounds (after a reconnect) when the provider closes.
  private readonly lifetime = new AbortController();
  private lifecycle: Lifecycle = { state: 'idle' };
  private closing: Promise<void> | undefined;
  private self: DiscoveredPeer | undefined;
  private discovered = false;
  private heartbeatTimer: TimerHandle = undefined;
  private nextTickAt = 0;

  /** @throws DistCacheError `E_INVALID_OPTION` naming the field */
  constructor(options: NatsDiscoveryOptions) {
    this.options = resolveNatsDiscoveryOptions(options);
    this.table = new HeartbeatTable(this.options.heartbeatTimeoutMs);
  }

  /** The subjects this provider publishes and listens on. */
  get subjects(): ResolvedNatsDiscoveryOptions['subjects'] {
    return this.options.subjects;
  }

  /**
   * Loads the client and connects.
   * @throws DistCacheError `E_MISSING_DEPENDENCY` without `@nats-io/transport-node`,
   *   `E_DISCOVERY_FAILED` when NATS cannot be reached, `E_ABORTED` when `signal` fires
   */
  initialize(signal: AbortSignal): Promise<void> {
    const lifecycle = this.lifecycle;
    switch (lifecycle.state) {
      case 'idle': {
        const ready: Promise<void> = this.open(signal).catch((error: unknown) => {
          // A failed attempt leaves the provider as it was, so the engine can retry.
          if (this.lifecycle.state === 'connecting' && this.lifecycle.ready === ready)
            this.lifecycle = { state: 'idle' };
          throw error;
        });
        this.lifecycle = { state: 'connecting', ready };
        return ready;
      }
      case 'connecting':
        return lifecycle.ready;
      case 'open':
        return Promise.resolve();
      case 'lost':
        return Promise.reject(lostError(lifecycle.cause));
      case 'closed':
        return Promise.reject(closedError());
    }
  }

  /** Announces this node, then collects discovery replies for `discoverWindow`. */
  async register(self: DiscoveredPeer, signal: AbortSignal): Promise<void> {
    this.openConnection('register');
    if (typeof self?.host !== 'string' || self.host.length === 0 || !validPort(self.port))
      throw discoveryFailed('nats', `cannot register ${JSON.stringify(self)}: needs a host and a port`);
    this.self = copyPeer(self);
    this.table.remove(self);
    this.send(this.options.subjects.announce, encodeAnnouncement(self, 'up'));
    this.notify();
    await this.discoverRound(signal);
  }

  /** The peers heard from (and this node once registered). Keeps the list while NATS is down. */
  async discoverPeers(signal: AbortSignal): Promise<DiscoveredPeer[]> {
    this.openConnection('discoverPeers');
    if (!this.discovered && this.link?.up === true) {
      try {
        await this.discoverRound(signal);
      } catch (error) {
        throw isDistCacheError(error) ? error : discoveryFailed('nats', 'discovery request failed', error);
      }
      this.openConnection('discoverPeers');
    }
    this.sweep();
    return this.currentList();
  }

  /** Calls `listener` with the full list on every change (join, departure, expiry, rename). */
  watch(listener: (peers: DiscoveredPeer[]) => void): () => void {
    if (this.lifecycle.state === 'closed') return () => undefined;
    const entry: Listener = (peers) => listener(peers);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Announces `leaving`, so peers drop this node at once. Never throws. */
  async deregister(): Promise<void> {
    const self = this.self;
    this.self = undefined;
    const link = this.link;
    if (self === undefined || link === undefined) return;
    this.notify();
    if (!link.publish(this.options.subjects.announce, encodeAnnouncement(self, 'leaving'))) return;
    try {
      await link.flush(DEPARTURE_FLUSH_MS, this.clock);
    } catch (error) {
      this.options.logger.warn('could not confirm the departure notice; peers will time this node out', {
        error: String(error),
      });
    }
  }

  /** Stops heartbeats and closes the connection. Idempotent. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const previous = this.lifecycle;
    this.lifecycle = { state: 'closed' };
    this.lifetime.abort();
    this.clock.clearTimeout(this.heartbeatTimer);
    this.listeners.clear();
    this.table.clear();
    this.self = undefined;
    this.closing = (async () => {
      // A connection still being opened is closed by open() when it sees the new state.
      if (previous.state === 'connecting') await previous.ready.catch(() => undefined);
      if (previous.state === 'open') await previous.link.close();
    })();
    return this.closing;
  }

  private async open(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw aborted('natsDiscovery.initialize', signal.reason);
    const client = await loadNatsClient(this.options.importClient);
    const link = await NatsLink.open(client, this.options, signal, this.clock);
    if (this.lifecycle.state === 'closed') {
      await link.close();
      throw closedError();
    }
    this.lifecycle = { state: 'open', link };
    link.follow({
      down: () => this.onLinkDown(),
      up: () => this.onLinkUp(),
      lost: (cause) => this.onLinkLost(link, cause),
    });
    const { announce, discover } = this.options.subjects;
    link.subscribe(announce, (message) => this.receive(message.data));
    link.subscribe(discover, (message) => this.onDiscoverRequest(message));
    this.scheduleHeartbeat();
    this.options.logger.info('connected to NATS', { subjects: this.options.subjects });
  }

  private onDiscoverRequest(message: NatsMessage): void {
    // A request carries the requester's announcement (empty when it is not registered).
    if (message.data.length > 0) this.receive(message.data);
    const self = this.self;
    if (self !== undefined && this.link?.up === true) {
      try {
        message.respond(encodeAnnouncement(self, 'up'));
      } catch (cause) {
        this.options.logger.debug('could not answer a discovery request', { error: String(cause) });
      }
    }
  }

  private receive(data: Uint8Array): void {
    const message = decodeAnnouncement(data);
    if (message === undefined) {
      this.options.logger.debug('ignored a malformed or unknown-version discovery message');
      return;
    }
    const self = this.self;
    if (self !== undefined && self.host === message.host && self.port === message.port) return;
    const peer: DiscoveredPeer =
      message.nodeName === undefined
        ? { host: message.host, port: message.port }
        : { host: message.host, port: message.port, nodeName: message.nodeName };
    const state = message.state;
    const changed = state === 'up' ? this.table.seen(peer, this.clock.now()) : this.table.remove(peer);
    if (!changed) return;
    this.options.logger.info(state === 'up' ? 'peer announced over NATS' : 'peer left over NATS', {
      peer: peerKey(peer),
      nodeName: peer.nodeName,
    });
    this.notify();
  }

  /** Asks every registered node to reply with itself and collects replies for `discoverWindow`. */
  private async discoverRound(signal: AbortSignal): Promise<void> {
    const link = this.link;
    if (link?.up !== true) return;
    const inbox = link.createInbox();
    const unsubscribe = link.subscribe(inbox, (message) => this.receive(message.data));
    try {
      const request = this.self === undefined ? '' : encodeAnnouncement(this.self, 'up');
      link.publish(this.options.subjects.discover, request, inbox);
      await delay(this.options.discoverWindowMs, signal, this.clock);
      this.discovered = true;
    } finally {
      unsubscribe();
    }
  }

  private onLinkDown(): void {
    // No heartbeat can arrive now: expiring peers would empty a healthy cluster's list.
    this.table.pause();
    this.options.logger.warn('lost the NATS connection; keeping the peer list until it is back', {
      peers: this.table.size,
    });
  }

  private onLinkUp(): void {
    // Every peer gets a full heartbeat timeout to reconnect and heartbeat again.
    this.table.resume(this.clock.now());
    this.options.logger.info('reconnected to NATS; announcing this node again', { peers: this.table.size });
    if (this.self !== undefined)
      this.send(this.options.subjects.announce, encodeAnnouncement(this.self, 'up'));
    this.discoverRound(this.lifetime.signal).catch((error: unknown) =>
      this.options.logger.debug('discovery after reconnect ended early', { error: String(error) }),
    );
  }

  private onLinkLost(link: NatsLink, cause: unknown): void {
    if (this.link !== link) return;
    // The engine keeps its current members while discoverPeers rejects.
    this.lifecycle = { state: 'lost', cause };
    this.clock.clearTimeout(this.heartbeatTimer);
    this.options.logger.error('the NATS connection closed for good; discovery stopped', {
      error: String(cause),
    });
  }

  private scheduleHeartbeat(): void {
    const intervalMs = this.options.heartbeatIntervalMs;
    this.nextTickAt = this.clock.now() + intervalMs;
    this.heartbeatTimer = this.clock.setTimeout(() => {
      if (this.lifecycle.state !== 'open') return;
      // A tick this late means this process was stalled: the peers' heartbeats are unread, not
      // missing. Timers run before socket reads, so expiring now would drop every peer.
      const stalledMs = this.clock.now() - this.nextTickAt;
      if (stalledMs > intervalMs) {
        this.table.credit(stalledMs, this.clock.now());
        this.options.logger.debug('this process was stalled; peers not charged for it', { stalledMs });
      }
      if (this.self !== undefined)
        this.send(this.options.subjects.announce, encodeAnnouncement(this.self, 'up'));
      this.sweep();
      this.scheduleHeartbeat();
    }, this.options.heartbeatIntervalMs);
  }

  private sweep(): void {
    // The heartbeat tick is overdue (this process was stalled): let it credit the stall first.
    if (this.clock.now() - this.nextTickAt > this.options.heartbeatIntervalMs) return;
    const dropped = this.table.expire(this.clock.now());
    if (dropped.length === 0) return;
    for (const peer of dropped) {
      this.options.logger.warn('peer stopped heart-beating; dropped from discovery', {
        peer: peerKey(peer),
        heartbeatTimeoutMs: this.options.heartbeatTimeoutMs,
      });
    }
    this.notify();
  }

  private currentList(): DiscoveredPeer[] {
    const others = this.table.list();
    return this.self === undefined ? others : [copyPeer(this.self), ...others];
  }

  private notify(): void {
    if (this.listeners.size === 0) return;
    const peers = this.currentList();
    for (const listener of [...this.listeners]) {
      try {
        listener(peers.map(copyPeer));
      } catch (error) {
        this.options.logger.warn('a discovery watch listener threw', { error: String(error) });
      }
    }
  }

  private get link(): NatsLink | undefined {
    return this.lifecycle.state === 'open' ? this.lifecycle.link : undefined;
  }

  /** Publishes when connected; false otherwise. */
  private send(subject: string, payload: string): boolean {
    return this.link?.publish(subject, payload) ?? false;
  }

  private openConnection(operation: string): void {
    const lifecycle = this.lifecycle;
    switch (lifecycle.state) {
      case 'open':
        return;
      case 'closed':
        throw closedError();
      case 'lost':
        throw lostError(lifecycle.cause);
      case 'idle':
      case 'connecting':
        throw discoveryFailed('nats', `${operation}() called before initialize() completed`);
    }
  }
}

const closedError = () => discoveryFailed('nats', 'the provider is closed');
const lostError = (cause: unknown) =>
  discoveryFailed('nats', 'the NATS connection closed and will not reconnect', cause);
const validPort = (port: unknown): boolean =>
  typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65_535;
const copyPeer = (peer: DiscoveredPeer): DiscoveredPeer =>
  peer.nodeName === undefined
    ? { host: peer.host, port: peer.port }
    : { host: peer.host, port: peer.port, nodeName: peer.nodeName };

/** Resolves after `ms`, or rejects with `E_ABORTED` when `signal` fires first. */
function delay(ms: number, signal: AbortSignal, clock: Clock): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(aborted('natsDiscovery discovery request', signal.reason));
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(aborted('natsDiscovery discovery request', signal.reason));
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Discovery through a NATS server: each node announces itself on
 * `<subjectPrefix>.<cluster>.announce`, heartbeats every `heartbeatInterval`, answers discovery
 * requests on `<subjectPrefix>.<cluster>.discover` and announces its departure on stop. Peers that
 * stop heart-beating for `heartbeatTimeout` are dropped; while this node cannot reach NATS the list
 * is kept. Needs the optional peer dependency `@nats-io/transport-node`.
 *
 * @throws DistCacheError `E_INVALID_OPTION` naming the field (at construction);
 *   `initialize` rejects with `E_MISSING_DEPENDENCY` when the client is not installed
 * @example
 * import { DistCacheEngine } from 'distcache-core';
 * import { natsDiscovery } from 'distcache-core/nats';
 *
 * const engine = new DistCacheEngine({
 *   port: 3320,
 *   cluster: 'catalogue',
 *   discovery: natsDiscovery({ servers: ['nats://nats:4222'], cluster: 'catalogue' }),
 *   keySpaces: [{ name: 'products', dataSource: loadProduct }],
 * });
 * await engine.start();
 */
export function natsDiscovery(options: NatsDiscoveryOptions): NatsDiscovery {
  return new NatsDiscovery(options);
}
