import * as net from 'node:net';
import * as tls from 'node:tls';
import { peerUnavailable } from '../errors/messages';
import { type Clock, setDeadline } from '../util/clock';
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
          // The client certificate is checked below, before the socket is used: with Node's own
          // rejection the refusal is logged as "socket hang up" from an unknown address, which
          // tells an operator neither who was refused nor why (expired, unknown CA, none).
          rejectUnauthorized: false,
          handshakeTimeout: options.handshakeTimeoutMs,
          noDelay: true,
        },
        (socket) => {
          if (socket.authorized) return onSocket(prepare(socket));
          const reason = String(socket.authorizationError ?? 'no certificate');
          onRejected(remoteOf(socket), new Error(`client certificate not accepted (${reason})`));
          socket.destroy();
        },
      );
      server.on('tlsClientError', (error, socket) => onRejected(remoteOf(socket), handshakeFailure(error)));
      return server;
    },
  };
}

const ignore = (): void => undefined;

function remoteOf(socket: net.Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}

/** A readable reason for a TLS handshake that failed on the accepting side. */
function handshakeFailure(error: Error & { code?: string; reason?: string }): Error {
  switch (error.code) {
    case 'ECONNRESET':
      // The client gave up before the handshake completed: most often it does not accept this
      // node's certificate (expired, another CA, another name).
      return new Error("the client ended the TLS handshake (does it accept this node's certificate?)");
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return new Error('not a TLS client (a peer without tls?)');
    default: {
      // OpenSSL's reason, without the multi-line stack of its message.
      const reason = error.reason ?? error.message;
      return new Error(error.code === undefined ? reason : `${reason} (${error.code})`);
    }
  }
}

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
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error): void =>
      fail(peerUnavailable(peer, 'connect-failed', 'cannot connect', error));
    const onClose = (): void =>
      fail(peerUnavailable(peer, 'connect-failed', 'connection closed while connecting'));
    const onAbort = (): void => fail(peerUnavailable(peer, 'transport-closed', 'the transport was closed'));
    // Decided after the turn's input: a connection that completed during a stall is taken.
    const timer = setDeadline(clock, timeoutMs, () =>
      fail(peerUnavailable(peer, 'connect-timeout', `no connection within ${timeoutMs}ms`)),
    );
    const onReady = (): void => {
      if (settled) return;
      settled = true;
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
