import { randomBytes } from 'node:crypto';
import { invalidOption, peerUnavailable } from '../errors/messages';
import type { HandshakeHello } from './handshake-codec';
import { LogThrottle } from '../util/log-throttle';
import { formatPeerAddress } from './peer-address';
import { PeerClient } from './peer-client';
import { PeerServer } from './peer-server';
import { type PeerSocketFactory, plainSocketFactory, tlsSocketFactory } from './socket-factory';
import type {
  PeerAddress,
  PeerIdentity,
  PeerRequest,
  PeerRequestHandler,
  PeerRequestOptions,
  PeerResponse,
  PeerTransport,
  PeerTransportEvents,
} from './transport';
import {
  type ResolvedTransportOptions,
  resolveTransportOptions,
  type TcpPeerTransportOptions,
} from './transport-options';

/**
 * The peer transport over `node:net`, or `node:tls` when `tls` is given: one persistent,
 * multiplexed connection per peer and direction, the binary protocol of docs/protocol.md.
 *
 * @example
 * const transport = tcpPeerTransport({ nodeId: 'a', cluster: 'shop', host: '0.0.0.0', port: 3320 });
 * await transport.listen(async (request) => (request.op === 'ping' ? { op: 'pong', nodeId: 'a' } : { op: 'ok' }));
 * const reply = await transport.request({ host: '10.0.0.8', port: 3320 }, { op: 'ping' }, { timeoutMs: 500 });
 * await transport.close();
 */
export class TcpPeerTransport implements PeerTransport {
  /** The resolved options. */
  readonly options: ResolvedTransportOptions;
  private readonly factory: PeerSocketFactory;
  /** Peer clients by host, then port (no per-request string building). */
  private readonly clients = new Map<string, Map<number, PeerClient>>();
  private server: PeerServer | undefined;
  private advertisedPort = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Refused handshakes of our connections: once a minute per peer and reason. */
  private readonly refusals: LogThrottle;
  /** This process's run, announced in every handshake. */
  private readonly incarnation = randomBytes(8).toString('hex');
  /** The last incarnation each peer address announced (oldest first, at most MAX_KNOWN_PEERS). */
  private readonly incarnations = new Map<string, string>();

  /** @throws DistCacheError `E_INVALID_OPTION` naming the invalid field */
  constructor(options: TcpPeerTransportOptions) {
    this.options = resolveTransportOptions(options);
    this.factory = this.options.tls === undefined ? plainSocketFactory : tlsSocketFactory(this.options);
    this.refusals = new LogThrottle(this.options.logger, this.options.clock, 60_000);
  }

  /** The address announced to peers: `advertiseHost` and the bound port (0 before `listen`). */
  get advertisedAddress(): PeerAddress {
    return { host: this.options.advertiseHost, port: this.advertisedPort };
  }

  /** @inheritDoc */
  async listen(handler: PeerRequestHandler, events: PeerTransportEvents = {}): Promise<PeerAddress> {
    if (this.closed) throw invalidOption('listen', 'the transport is closed');
    if (this.server !== undefined) throw invalidOption('listen', 'the transport is already listening');
    if (typeof handler !== 'function') throw invalidOption('handler', 'must be a function', handler);
    const server = new PeerServer(this.options, this.factory, handler, (from) => {
      events.onHello?.(from, this.noteIncarnation(from));
      return this.hello();
    });
    this.server = server;
    try {
      const bound = await server.listen();
      this.advertisedPort = bound.port;
      this.options.logger.info(`peer ${this.factory.kind} listener on ${formatPeerAddress(bound)}`, {
        node: this.options.nodeId,
      });
      return bound;
    } catch (error) {
      this.server = undefined;
      throw error;
    }
  }

  /** @inheritDoc */
  request(peer: PeerAddress, request: PeerRequest, options: PeerRequestOptions): Promise<PeerResponse> {
    if (typeof peer?.host !== 'string' || peer.host.length === 0 || !isPort(peer.port)) {
      return Promise.reject(invalidOption('peer', 'must be { host, port } with a port in 1..65535', peer));
    }
    const { timeoutMs } = options;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      return Promise.reject(
        invalidOption('timeoutMs', 'must be a positive finite number of milliseconds', timeoutMs),
      );
    }
    if (this.closed) {
      return Promise.reject(
        peerUnavailable(formatPeerAddress(peer), 'transport-closed', 'the transport was closed'),
      );
    }
    let byPort = this.clients.get(peer.host);
    if (byPort === undefined) {
      byPort = new Map();
      this.clients.set(peer.host, byPort);
    }
    let client = byPort.get(peer.port);
    if (client === undefined) {
      const address = { host: peer.host, port: peer.port };
      client = new PeerClient(
        address,
        formatPeerAddress(address),
        this.options,
        this.factory,
        () => this.hello(),
        this.refusals,
      );
      byPort.set(peer.port, client);
    }
    return client.request(request, options);
  }

  /** @inheritDoc */
  disconnect(peer: PeerAddress): void {
    const byPort = this.clients.get(peer.host);
    const client = byPort?.get(peer.port);
    if (byPort === undefined || client === undefined) return;
    byPort.delete(peer.port);
    if (byPort.size === 0) this.clients.delete(peer.host);
    client.close(peerUnavailable(formatPeerAddress(peer), 'peer-left', 'it left the cluster'));
  }

  /** @inheritDoc */
  lastHeardFrom(peer: PeerAddress): number | undefined {
    const client = this.clients.get(peer.host)?.get(peer.port);
    const last = Math.max(client?.lastReceivedAt ?? 0, this.server?.lastHeardFrom(peer) ?? 0);
    return last === 0 ? undefined : last;
  }

  /** Connections peers opened to this node's listener (for diagnostics and tests). */
  get inboundConnections(): number {
    return this.server?.connectionCount ?? 0;
  }

  /** Bytes reserved now for inbound frames being received, out of `maxBufferedBytes`. */
  get inboundBufferedBytes(): number {
    return this.server?.bufferedBytes ?? 0;
  }

  /**
   * Answers waiting now, unbuilt, for inbound connections whose socket waits for `drain` (a peer
   * reading slowly, or not at all).
   */
  get queuedReplies(): number {
    return this.server?.queuedReplies ?? 0;
  }

  /** Peers this transport holds a client for (connected, connecting or idle). */
  get peerCount(): number {
    let count = 0;
    for (const byPort of this.clients.values()) count += byPort.size;
    return count;
  }

  /** @inheritDoc */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closed = true;
    for (const byPort of this.clients.values()) for (const client of byPort.values()) client.close();
    this.clients.clear();
    this.closing = this.server?.close() ?? Promise.resolve();
    return this.closing;
  }

  private hello(): HandshakeHello {
    return {
      maxFrameBytes: this.options.maxFrameBytes,
      cluster: this.options.cluster,
      nodeId: this.options.nodeId,
      address: this.advertisedAddress,
      incarnation: this.incarnation,
    };
  }

  /**
   * Records the incarnation a peer announced; true when its address announced another before (the
   * process restarted). Our connection to the old process and the backoff its death grew are then
   * dropped at once, so invalidations reach the new process instead of failing fast for seconds.
   */
  private noteIncarnation(from: PeerIdentity): boolean {
    if (from.address.port === 0) return false;
    const id = formatPeerAddress(from.address);
    const known = this.incarnations.get(id);
    this.incarnations.delete(id);
    this.incarnations.set(id, from.incarnation);
    if (this.incarnations.size > MAX_KNOWN_PEERS) {
      const oldest = this.incarnations.keys().next().value;
      if (oldest !== undefined) this.incarnations.delete(oldest);
    }
    if (known === undefined || known === from.incarnation) return false;
    this.clients
      .get(from.address.host)
      ?.get(from.address.port)
      ?.reset(
        peerUnavailable(id, 'peer-restarted', `the peer restarted (new incarnation ${from.incarnation})`),
        from.incarnation,
      );
    this.options.logger.info(`peer ${id} restarted; reconnecting at once`, { peer: id, node: from.nodeId });
    return true;
  }
}

/**
 * Creates a {@link TcpPeerTransport}.
 *
 * @throws DistCacheError `E_INVALID_OPTION` naming the invalid field
 */
export function tcpPeerTransport(options: TcpPeerTransportOptions): TcpPeerTransport {
  return new TcpPeerTransport(options);
}

/**
 * Addresses whose incarnation is remembered. Any peer that passes the handshake can announce any
 * address, so the map is bounded; a real cluster has far fewer members.
 */
const MAX_KNOWN_PEERS = 4096;

function isPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65_535;
}
