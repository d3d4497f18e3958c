import type { Server, Socket } from 'node:net';
import type { LogThrottle } from '../util/log-throttle';
import type { ResolvedTransportOptions } from './transport-options';

/**
 * Admission of inbound connections: at most `maxConnections` in total and
 * `maxConnectionsPerAddress` per remote IP, counted from accept (handshaking and TLS-handshaking
 * connections included) until close. A connection over a cap is closed before anything is read.
 */
export class ConnectionCaps {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(
    private readonly options: ResolvedTransportOptions,
    private readonly log: LogThrottle,
  ) {}

  /** Connections counted now. */
  get count(): number {
    return this.total;
  }

  /**
   * Puts the caps in front of the server's own `connection` listeners (for TLS, the one that starts
   * the TLS handshake), so a refused socket costs neither a TLS handshake nor a log line of its own.
   */
  guard(server: Server): void {
    const listeners = server.listeners('connection') as Array<(socket: Socket) => void>;
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      if (!this.admit(socket)) return;
      for (const listener of listeners) listener.call(server, socket);
    });
  }

  private admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? '?';
    const fromAddress = this.byAddress.get(address) ?? 0;
    const { maxConnections, maxConnectionsPerAddress } = this.options;
    if (this.total >= maxConnections) {
      return this.refuse(socket, 'cap-total', `${maxConnections} connections are open (maxConnections)`);
    }
    if (fromAddress >= maxConnectionsPerAddress) {
      const message = `${maxConnectionsPerAddress} connections from this address are open (maxConnectionsPerAddress)`;
      return this.refuse(socket, 'cap-address', message);
    }
    this.total++;
    this.byAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      this.total--;
      const left = (this.byAddress.get(address) ?? 1) - 1;
      if (left === 0) this.byAddress.delete(address);
      else this.byAddress.set(address, left);
    });
    return true;
  }

  private refuse(socket: Socket, kind: string, why: string): false {
    const remote = socket.remoteAddress ?? '?';
    this.log.warn(kind, `refused peer connection from ${remote}: ${why}`, { remote });
    socket.destroy();
    return false;
  }
}
