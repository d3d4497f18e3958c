import * as net from 'node:net';
import * as tls from 'node:tls';
import { peerUnavailable } from '../errors/messages';
import type { Clock } from '../util/clock';
import { formatPeerAddress } from './peer-address';
import type { PeerAddress } from './transport';
import type { ResolvedTransportOptions } from './transport-options';

// Idle connections between peers are probed so that a vanished peer (no FIN, no RST) is noticed.
const KEEPALIVE_DELAY_MS = 15_000;

/**
 * Opens and accepts peer sockets. The plain and the TLS factories hand out `net.Socket`s (a
 * `tls.TLSSocket` is one), so framing, handshake and multiplexing are one code path.
 */
export interface PeerSocketFactory {
  /** `'tcp'` or `'tls'`, for log lines. */
  readonly kind: 'tcp' | 'tls';
  /**
   * Connects to `address`; resolves once TCP (and the TLS handshake, certificates verified) is done.
   *
   * @throws DistCacheError `E_PEER_UNAVAILABLE` on refusal, TLS failure, timeout or abort
   */
  connect(address: PeerAddress, timeoutMs: number, clock: Clock, signal: AbortSignal): Promise<net.Socket>;
  /**
   * Creates a server that calls `onSocket` with each established connection (after TLS when TLS is
   * on) and `onRejected` with each connection refused below the peer protocol (a failed TLS handshake).
   */
  createServer(
    onSocket: (socket: net.Socket) => void,
    onRejected: (remote: string, error: Error) => void,
  ): net.Server;
}

/** Sockets over plain TCP. */
export const plainSocketFactory: PeerSocketFactory = {
  kind: 'tcp',
  connect: (address, timeoutMs, clock, signal) =>
    establish(
      net.connect({ host: address.host, port: address.port }),
      'connect',
      address,
      timeoutMs,
      clock,
      signal,
    ),
  createServer: (onSocket) => net.createServer({ noDelay: true }, (socket) => onSocket(prepare(socket))),
};

/**
 * Sockets over mutual TLS: the server requires a client certificate signed by `tls.ca`, the client
 * verifies the server's chain against `tls.ca`, and checks its name per `tls.hostnameCheck`.
 */
export function tlsSocketFactory(options: ResolvedTransportOptions): PeerSocketFactory {
  const material = options.tls;
  if (material === undefined) throw new TypeError('tlsSocketFactory needs options.tls');
  const { ca, cert, key, hostnameCheck } = material;
  return {
    kind: 'tls',
    connect: (address, timeoutMs, clock, signal) => {
      const isIp = net.isIP(address.host) !== 0;
      const skipNameCheck = hostnameCheck === 'never' || (hostnameCheck === 'dns-only' && isIp);
      const socket = tls.connect({
        host: address.host,
        port: address.port,
        ca,
        cert,
        key,
        minVersion: 'TLSv1.2',
        rejectUnauthorized: true,
        // SNI must not carry an IP literal.
        ...(isIp ? {} : { servername: address.host }),
        ...(skipNameCheck ? { checkServerIdentity: () => undefined } : {}),
      });
      return establish(socket, 'secureConnect', address, timeoutMs, clock, signal);
    },
    createServer: (onSocket, onRejected) => {
      const server = tls.createServer(
        {
          ca,
          cert,
          key,
          minVersion: 'TLSv1.2',
          requestCert: true,
          rejectUnauthorized: true,
          handshakeTimeout: options.handshakeTimeoutMs,
          noDelay: true,
        },
        (socket) => onSocket(prepare(socket)),
      );
      server.on('tlsClientError', (error, socket) => {
        onRejected(`${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, error);
      });
      return server;
    },
  };
}

const ignore = (): void => undefined;

function prepare<S extends net.Socket>(socket: S): S {
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
  return socket;
}

function establish(
  socket: net.Socket,
  readyEvent: 'connect' | 'secureConnect',
  address: PeerAddress,
  timeoutMs: number,
  clock: Clock,
  signal: AbortSignal,
): Promise<net.Socket> {
  const peer = formatPeerAddress(address);
  // Errors are reported through 'close' and the owner's own listener; this one only makes sure an
  // error emitted between two owners can never crash the process as an unhandled 'error' event.
  socket.on('error', ignore);
  return new Promise<net.Socket>((resolve, reject) => {
    const fail = (error: Error): void => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error): void =>
      fail(peerUnavailable(peer, 'connect-failed', 'cannot connect', error));
    const onClose = (): void =>
      fail(peerUnavailable(peer, 'connect-failed', 'connection closed while connecting'));
    const onAbort = (): void => fail(peerUnavailable(peer, 'transport-closed', 'the transport was closed'));
    const timer = clock.setTimeout(
      () => fail(peerUnavailable(peer, 'connect-timeout', `no connection within ${timeoutMs}ms`)),
      timeoutMs,
    );
    const onReady = (): void => {
      cleanup();
      resolve(prepare(socket));
    };
    const cleanup = (): void => {
      clock.clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off(readyEvent, onReady);
      signal.removeEventListener('abort', onAbort);
    };
    socket.once(readyEvent, onReady);
    socket.once('error', onError);
    socket.once('close', onClose);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
