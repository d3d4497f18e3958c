import type { AddressInfo, Server } from 'node:net';
import { listenFailed } from '../errors/messages';
import { setDeadline, type TimerHandle } from '../util/clock';
import { BufferBudget } from './buffer-budget';
import { ConnectionCaps } from './connection-caps';
import { DescriptorProbe } from './descriptor-probe';
import type { HandshakeHello } from './handshake-codec';
import { LogThrottle } from '../util/log-throttle';
import { formatPeerAddress } from './peer-address';
import { ServerConnection, type ServerConnectionContext } from './server-connection';
import type { PeerSocketFactory } from './socket-factory';
import type { PeerAddress, PeerIdentity, PeerRequestHandler } from './transport';
import type { ResolvedTransportOptions } from './transport-options';

/** Shortest interval of the sweep that enforces `frameTimeout` and `idleTimeout`. */
const MIN_SWEEP_MS = 5;

/**
 * The listening side of the transport: accepts peers and keeps their connections, within the caps
 * of docs/protocol.md section 6 (connections in total and per address, buffered bytes, frame and
 * idle timeouts).
 */
export class PeerServer {
  private readonly server: Server;
  private readonly connections = new Set<ServerConnection>();
  private readonly caps: ConnectionCaps;
  private readonly log: LogThrottle;
  private readonly budget: BufferBudget;
  private readonly sweepMs: number;
  private readonly descriptors: DescriptorProbe;
  private sweepTimer: TimerHandle;
  private listening: Promise<unknown> | undefined;
  /** Set by {@link close}: later accepted sockets are destroyed at once. */
  private closed = false;

  constructor(
    private readonly options: ResolvedTransportOptions,
    factory: PeerSocketFactory,
    handler: PeerRequestHandler,
    welcome: (from: PeerIdentity) => HandshakeHello,
  ) {
    this.log = new LogThrottle(options.logger, options.clock);
    this.budget = new BufferBudget(options.maxBufferedBytes);
    this.caps = new ConnectionCaps(options, this.log);
    this.descriptors = new DescriptorProbe(options.logger, options.clock);
    this.sweepMs = Math.max(
      MIN_SWEEP_MS,
      Math.floor(Math.min(options.frameTimeoutMs, options.idleTimeoutMs, options.handshakeTimeoutMs) / 4),
    );
    const context: ServerConnectionContext = {
      options,
      handler,
      welcome,
      budget: this.budget,
      log: this.log,
      onClosed: (connection) => this.connections.delete(connection),
    };
    this.server = factory.createServer(
      (socket) => {
        // One closed between accept and now needs no connection; one accepted while the server
        // closes gets none.
        if (this.closed) socket.destroy();
        else if (!socket.destroyed) this.connections.add(new ServerConnection(socket, context));
      },
      (remote, error) =>
        this.log.warn(
          `refused-${factory.kind}`,
          `refused ${factory.kind} connection from ${remote}: ${error.message}`,
          {
            remote,
          },
        ),
    );
    this.caps.guard(this.server);
  }

  /** The last time bytes arrived on a connection the peer at `host:port` opened; 0 when none. */
  lastHeardFrom(peer: PeerAddress): number {
    let last = 0;
    for (const connection of this.connections) {
      const from = connection.identity;
      if (from === undefined || from.address.port !== peer.port || from.address.host !== peer.host) continue;
      last = Math.max(last, connection.lastReceivedAt);
    }
    return last;
  }

  /** Open connections (for diagnostics and tests). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Bytes reserved now for frames being received (for diagnostics and tests). */
  get bufferedBytes(): number {
    return this.budget.reserved;
  }

  /**
   * Answers waiting, unbuilt, for connections whose socket waits for `drain` (for diagnostics and
   * tests).
   */
  get queuedReplies(): number {
    let queued = 0;
    for (const connection of this.connections) queued += connection.queuedReplies;
    return queued;
  }

  /**
   * Binds the listener.
   *
   * @throws DistCacheError `E_PEER_UNAVAILABLE` when the address cannot be bound
   */
  listen(): Promise<PeerAddress> {
    const { host, port } = this.options;
    const listening = new Promise<PeerAddress>((resolve, reject) => {
      const onError = (error: Error): void => reject(listenFailed(formatPeerAddress({ host, port }), error));
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        this.server.on('error', (error) => this.onListenerError(error));
        const bound = this.server.address() as AddressInfo;
        this.scheduleSweep();
        resolve({ host: bound.address, port: bound.port });
      });
    });
    this.listening = listening;
    return listening;
  }

  /** Stops accepting and closes every connection (firing their handlers' signals). */
  async close(): Promise<void> {
    // Before the first await, no connection starts another request: a close called from inside a
    // handler starts none of the requests read behind that handler's (they wait for the check
    // phase, which comes after this call's promise jobs). The connections close after the await
    // as before, so answers already given are still written and no signal fires inside this call.
    this.closed = true;
    for (const connection of this.connections) connection.stopStarting();
    // A close racing a listen waits for the bind to finish, so no listener outlives the transport.
    const bound = await this.listening?.then(
      () => true,
      () => false,
    );
    const closed =
      bound === true ? new Promise<void>((resolve) => this.server.close(() => resolve())) : undefined;
    this.listening = undefined;
    this.options.clock.clearTimeout(this.sweepTimer);
    for (const connection of [...this.connections]) connection.close();
    await closed;
  }

  private scheduleSweep(): void {
    // After the turn's input: after a stall as long as `frameTimeout`, a frame whose rest already
    // sits in the socket completes instead of the connection being dropped.
    this.sweepTimer = setDeadline(this.options.clock, this.sweepMs, this.sweep);
  }

  private readonly sweep = (): void => {
    if (this.listening === undefined) return;
    const now = this.options.clock.now();
    for (const connection of [...this.connections]) connection.check(now);
    this.descriptors.check(this.connections.size);
    this.scheduleSweep();
  };

  private onListenerError(error: Error & { code?: string }): void {
    if (error.code === 'EMFILE' || error.code === 'ENFILE') {
      // The listener stays open and accepts again as soon as descriptors are freed; established
      // peer links are not affected.
      this.log.log(
        'error',
        'accept-emfile',
        `peer listener cannot accept connections: out of file descriptors (${error.code}); ` +
          `established peer links keep working, new connections are dropped until descriptors are ` +
          `freed (raise the descriptor limit, ulimit -n, or lower maxConnections below it)`,
        { connections: this.connections.size },
      );
      return;
    }
    this.options.logger.error(`peer listener failed: ${error.message}`);
  }
}
