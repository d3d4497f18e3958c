import type { AddressInfo, Server } from 'node:net';
import { listenFailed } from '../errors/messages';
import type { HandshakeHello } from './handshake-codec';
import { formatPeerAddress } from './peer-address';
import { ServerConnection } from './server-connection';
import type { PeerSocketFactory } from './socket-factory';
import type { PeerAddress, PeerIdentity, PeerRequestHandler } from './transport';
import type { ResolvedTransportOptions } from './transport-options';

/** The listening side of the transport: accepts peers and keeps their connections. */
export class PeerServer {
  private readonly server: Server;
  private readonly connections = new Set<ServerConnection>();
  private listening: Promise<unknown> | undefined;

  constructor(
    private readonly options: ResolvedTransportOptions,
    factory: PeerSocketFactory,
    handler: PeerRequestHandler,
    welcome: (from: PeerIdentity) => HandshakeHello,
  ) {
    const onClosed = (connection: ServerConnection): void => {
      this.connections.delete(connection);
    };
    this.server = factory.createServer(
      (socket) => this.connections.add(new ServerConnection(socket, options, handler, welcome, onClosed)),
      (remote, error) =>
        options.logger.warn(`refused ${factory.kind} connection from ${remote}: ${error.message}`, {
          remote,
        }),
    );
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

  /**
   * Binds the listener.
   *
   * @throws DistCacheError `E_PEER_UNAVAILABLE` when the address cannot be bound
   */
  listen(): Promise<PeerAddress> {
    const { host, port, logger } = this.options;
    const listening = new Promise<PeerAddress>((resolve, reject) => {
      const onError = (error: Error): void => reject(listenFailed(formatPeerAddress({ host, port }), error));
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        this.server.on('error', (error) => logger.error(`peer listener failed: ${error.message}`));
        const bound = this.server.address() as AddressInfo;
        resolve({ host: bound.address, port: bound.port });
      });
    });
    this.listening = listening;
    return listening;
  }

  /** Stops accepting and closes every connection (firing their handlers' signals). */
  async close(): Promise<void> {
    // A close racing a listen waits for the bind to finish, so no listener outlives the transport.
    const bound = await this.listening?.then(
      () => true,
      () => false,
    );
    const closed =
      bound === true ? new Promise<void>((resolve) => this.server.close(() => resolve())) : undefined;
    this.listening = undefined;
    for (const connection of [...this.connections]) connection.close();
    await closed;
  }
}
